/**
 * Jinja2's (Python's) semantics for the operators and values where nunjucks follows JavaScript's instead.
 *
 * nunjucks compiles `a + b`, `a * b`, `a / b`, `a ~ b`, `a == b`, `if a`, `not a`, `a or b`, `for k in d`
 * and `{{ x }}` to the JavaScript operators, so `[1] + [2]` renders "12", `[]` is true, `'-' * 3` is NaN,
 * `[1] == [1]` is false, `for k in {...}` never iterates, `{{ True }}` renders "true" and `~ none` "null".
 * The compiler is patched (once per process) to call the functions below instead, which do what Python does,
 * or throw naming the construct where a value cannot be rendered as Jinja2 would (`4 / 2` is the float 2.0,
 * which JavaScript cannot tell from the int 2). String methods follow Python's str (`.replace` replaces every
 * occurrence); a JavaScript-only method or attribute on a string or list is refused, since dbt would fail on it.
 */
import nunjucks from 'nunjucks';

/** A value the embedded runner cannot render as Jinja2 would: named, so the error says which construct. */
export class UnsupportedJinja extends Error {}

/** A dict: a plain object literal, not one that renders itself (a relation, with its own toString). */
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.getPrototypeOf(v) === Object.prototype &&
  !Object.hasOwn(v, 'toString');

/** Python's truthiness: empty lists, dicts and strings, 0, None and False are false. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).filter((k) => k !== '__keywords').length > 0;
  return Boolean(v);
}

/** Python's repr() of a value inside a list or dict. */
function repr(v: unknown): string {
  if (typeof v === 'string') return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return str(v);
}

/** Python's str(): None, True, False, lists and dicts as Python prints them; undefined as the empty string. */
export function str(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(repr).join(', ')}]`;
  if (isPlainObject(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${repr(k)}: ${repr(x)}`)
      .join(', ')}}`;
  return String(v);
}

const typeName = (v: unknown): string => {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (isPlainObject(v)) return 'dict';
  return 'object';
};

const isNumber = (v: unknown): v is number | boolean => typeof v === 'number' || typeof v === 'boolean';

function typeError(op: string, a: unknown, b: unknown): Error {
  return new Error(`TypeError: unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

export function add(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (isNumber(a) && isNumber(b)) return Number(a) + Number(b);
  throw typeError('+', a, b);
}

export function mul(a: unknown, b: unknown): unknown {
  if (isNumber(a) && isNumber(b)) return Number(a) * Number(b);
  const [seq, n] = typeof b === 'number' ? [a, b] : [b, a];
  if (typeof n === 'number' && Number.isInteger(n)) {
    if (typeof seq === 'string') return seq.repeat(Math.max(0, n));
    if (Array.isArray(seq)) return Array.from({ length: Math.max(0, n) }, () => seq).flat();
  }
  throw typeError('*', a, b);
}

export function div(a: unknown, b: unknown): unknown {
  if (!isNumber(a) || !isNumber(b)) throw typeError('/', a, b);
  if (Number(b) === 0) throw new Error('ZeroDivisionError: division by zero');
  const q = Number(a) / Number(b);
  if (Number.isInteger(q)) {
    throw new UnsupportedJinja(
      `division '/' with a whole result (Jinja2 gives the float ${q}.0, which renders as '${q}.0'; use '//' for an int)`,
    );
  }
  return q;
}

export function concat(a: unknown, b: unknown): string {
  return str(a) + str(b);
}

/** Python's ==: lists and dicts by value, True == 1. */
export function eq(a: unknown, b: unknown): boolean {
  if (isNumber(a) && isNumber(b)) return Number(a) === Number(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => eq(x, b[i]));
  }
  if (isPlainObject(a) || isPlainObject(b)) {
    if (!isPlainObject(a) || !isPlainObject(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && eq(a[k], b[k]));
  }
  if (a === undefined || b === undefined) return a === b;
  return a === b;
}

/** What `for x in v` iterates: a dict's keys, as in Python. */
export function iter(v: unknown): unknown {
  if (isPlainObject(v)) return Object.keys(v);
  if (v === null) throw new Error("TypeError: 'NoneType' object is not iterable");
  return v;
}

const STRING_METHODS: Record<string, (s: string, ...a: unknown[]) => unknown> = {
  replace: (s, old, rep, count) => {
    const [o, r] = [String(old), String(rep)];
    if (count === undefined || Number(count) < 0) return s.split(o).join(r);
    const parts = s.split(o);
    const n = Number(count);
    return parts.slice(0, n + 1).join(r) + (parts.length > n + 1 ? o + parts.slice(n + 1).join(o) : '');
  },
  upper: (s) => s.toUpperCase(),
  lower: (s) => s.toLowerCase(),
  strip: (s, chars) => (chars === undefined ? s.trim() : stripChars(s, String(chars), true, true)),
  lstrip: (s, chars) => (chars === undefined ? s.trimStart() : stripChars(s, String(chars), true, false)),
  rstrip: (s, chars) => (chars === undefined ? s.trimEnd() : stripChars(s, String(chars), false, true)),
  startswith: (s, p) => s.startsWith(String(p)),
  endswith: (s, p) => s.endsWith(String(p)),
  split: (s, sep, maxsplit) => {
    const max = maxsplit === undefined ? -1 : Number(maxsplit);
    if (sep === undefined || sep === null) {
      const words = s.trim().split(/\s+/).filter(Boolean);
      return max < 0 || words.length <= max ? words : [...words.slice(0, max), words.slice(max).join(' ')];
    }
    const parts = s.split(String(sep));
    return max < 0 ? parts : [...parts.slice(0, max), parts.slice(max).join(String(sep))];
  },
  join: (s, items) => (items as unknown[]).map((x) => String(x)).join(s),
  format: () => {
    throw new UnsupportedJinja('str.format()');
  },
};

function stripChars(s: string, chars: string, left: boolean, right: boolean): string {
  let [i, j] = [0, s.length];
  while (left && i < j && chars.includes(s[i] as string)) i++;
  while (right && j > i && chars.includes(s[j - 1] as string)) j--;
  return s.slice(i, j);
}

interface NunjucksInternals {
  runtime: {
    memberLookup: (obj: unknown, val: unknown) => unknown;
    suppressValue: (val: unknown, autoescape: boolean) => unknown;
    ensureDefined: (val: unknown, lineno: number, colno: number) => unknown;
    __py?: unknown;
  };
  compiler: { Compiler: { prototype: Record<string, unknown> } };
  nodes: Record<string, new (...a: unknown[]) => unknown>;
}

/** `obj.attr` with Python's str and list attributes; JavaScript-only ones on a str or list are refused. */
function memberLookup(original: (o: unknown, v: unknown) => unknown, obj: unknown, val: unknown): unknown {
  if (typeof obj === 'string' || Array.isArray(obj)) {
    if (typeof val === 'number') {
      const i = val < 0 ? obj.length + val : val;
      if (i < 0 || i >= obj.length) throw new Error(`IndexError: ${typeName(obj)} index out of range`);
      return obj[i];
    }
    const name = String(val);
    const method = typeof obj === 'string' ? STRING_METHODS[name] : undefined;
    if (method) return (...args: unknown[]) => method(obj as string, ...args);
    if (Array.isArray(obj) && (name === 'index' || name === 'count')) {
      return (x: unknown) =>
        name === 'count' ? obj.filter((y) => eq(x, y)).length : obj.findIndex((y) => eq(x, y));
    }
    // A run_query Table's row or column list by column name (agate's MappedSequence): a name it defines.
    if (Array.isArray(obj) && name !== 'length' && Object.hasOwn(obj, name))
      return obj[name as keyof typeof obj];
    throw new UnsupportedJinja(
      `attribute '.${name}' of a ${typeName(obj)} (not a Python ${typeName(obj)} attribute, or one the runner does not implement)`,
    );
  }
  if (isPlainObject(obj) && !Object.hasOwn(obj, String(val)) && String(val) in DICT_METHODS) {
    const method = DICT_METHODS[String(val)] as (d: Record<string, unknown>, ...a: unknown[]) => unknown;
    return (...args: unknown[]) => method(obj, ...args);
  }
  return original(obj, val);
}

const DICT_METHODS: Record<string, (d: Record<string, unknown>, ...a: unknown[]) => unknown> = {
  items: (d) => Object.entries(d),
  keys: (d) => Object.keys(d),
  values: (d) => Object.values(d),
  get: (d, k, fallback = null) => (Object.hasOwn(d, String(k)) ? d[String(k)] : fallback),
};

let installed = false;

/** Patches nunjucks' compiler and runtime so every template renders with the semantics above. Idempotent. */
export function installPythonSemantics(): void {
  if (installed) return;
  installed = true;
  const nj = nunjucks as unknown as NunjucksInternals;
  const { runtime } = nj;
  const proto = nj.compiler.Compiler.prototype;
  type CompilerThis = {
    _emit(s: string): void;
    compile(node: unknown, frame: unknown): void;
    fail(msg: string, lineno?: number, colno?: number): never;
  };
  runtime.__py = { add, mul, div, concat, eq, truthy, iter, or: pyOr, and: pyAnd };
  const lookup = runtime.memberLookup;
  runtime.memberLookup = (obj, val) => memberLookup(lookup, obj, val);
  runtime.suppressValue = (val) => (typeof val === 'string' ? val : str(val));
  // Jinja2 renders None as 'None'; only an undefined value is an error (throwOnUndefined).
  const ensure = runtime.ensureDefined;
  runtime.ensureDefined = (val, lineno, colno) => (val === null ? val : ensure(val, lineno, colno));

  interface BinNode {
    left: unknown;
    right: unknown;
  }
  const call = (fn: string) =>
    function (this: CompilerThis, node: BinNode, frame: unknown): void {
      this._emit(`runtime.__py.${fn}(`);
      this.compile(node.left, frame);
      this._emit(', ');
      this.compile(node.right, frame);
      this._emit(')');
    };
  proto.compileAdd = call('add');
  proto.compileMul = call('mul');
  proto.compileDiv = call('div');
  proto.compileConcat = call('concat');
  const lazy = (fn: string) =>
    function (this: CompilerThis, node: BinNode, frame: unknown): void {
      this._emit(`runtime.__py.${fn}(`);
      this.compile(node.left, frame);
      this._emit(', function() { return ');
      this.compile(node.right, frame);
      this._emit('; })');
    };
  proto.compileOr = lazy('or');
  proto.compileAnd = lazy('and');
  proto.compileNot = function (this: CompilerThis, node: { target: unknown }, frame: unknown): void {
    this._emit('!runtime.__py.truthy(');
    this.compile(node.target, frame);
    this._emit(')');
  };
  const compileCompare = proto.compileCompare as (this: unknown, node: unknown, frame: unknown) => void;
  proto.compileCompare = function (
    this: CompilerThis,
    node: { expr: unknown; ops: { type: string; expr: unknown; lineno?: number }[]; lineno?: number },
    frame: unknown,
  ): void {
    const op = node.ops[0];
    if (node.ops.length > 1) this.fail('chained comparisons (a < b < c) are not supported', node.lineno);
    if (op && (op.type === '==' || op.type === '!=')) {
      this._emit(op.type === '==' ? 'runtime.__py.eq(' : '!runtime.__py.eq(');
      this.compile(node.expr, frame);
      this._emit(', ');
      this.compile(op.expr, frame);
      this._emit(')');
      return;
    }
    compileCompare.call(this, node, frame);
  };
  // Conditions and loop sources are wrapped in calls to the globals __py_truthy and __py_iter (JinjaEnv).
  type NodeClass = new (lineno: number, colno: number, ...a: unknown[]) => { wrapped?: boolean };
  const {
    FunCall,
    Symbol: Sym,
    NodeList,
  } = nj.nodes as unknown as Record<'FunCall' | 'Symbol' | 'NodeList', NodeClass>;
  const wrap = (fn: string, expr: { lineno?: number; colno?: number; wrapped?: boolean }): unknown => {
    if (expr.wrapped) return expr;
    const [l, c] = [expr.lineno ?? 0, expr.colno ?? 0];
    const node = new FunCall(l, c, new Sym(l, c, fn), new NodeList(l, c, [expr]));
    node.wrapped = true;
    return node;
  };
  for (const name of ['compileIf', 'compileInlineIf']) {
    const original = proto[name] as (this: unknown, node: { cond: never }, ...rest: unknown[]) => void;
    proto[name] = function (this: unknown, node: { cond: never }, ...rest: unknown[]): void {
      node.cond = wrap('__py_truthy', node.cond) as never;
      original.call(this, node, ...rest);
    };
  }
  const compileFor = proto.compileFor as (this: unknown, node: { arr: never }, frame: unknown) => void;
  proto.compileFor = function (this: unknown, node: { arr: never }, frame: unknown): void {
    node.arr = wrap('__py_iter', node.arr) as never;
    compileFor.call(this, node, frame);
  };
}

function pyOr(a: unknown, b: () => unknown): unknown {
  return truthy(a) ? a : b();
}

function pyAnd(a: unknown, b: () => unknown): unknown {
  return truthy(a) ? b() : a;
}

/** The globals the patched compiler's wrappers call. */
export const PYTHON_GLOBALS: Readonly<Record<string, unknown>> = {
  __py_truthy: truthy,
  __py_iter: iter,
};
