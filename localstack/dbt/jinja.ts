/**
 * The Jinja layer of the embedded dbt runner, on nunjucks.
 *
 * nunjucks is close to Jinja2 but not equal. The differences that would change a rendered dbt model silently
 * are either bridged here (True/False/None, `is none`, macros that `return()` a value, dbt's `{% test %}` blocks)
 * or rejected before rendering with the file, the line and the construct (`checkSupported`), so the runner never
 * produces SQL that dbt would have rendered differently.
 */
import nunjucks from 'nunjucks';
import { MdsError } from '../../lambdas/core/errors.ts';
import { PYTHON_GLOBALS, UnsupportedJinja, installPythonSemantics } from './python.ts';

installPythonSemantics();

/** A Jinja construct the runner cannot render exactly as dbt would, or a template that does not render. */
export class DbtCompilationError extends MdsError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${detail}`, options);
  }
}

/**
 * A construct the embedded runner does not implement, refused by name: "<construct> at <file>:<where> is not
 * supported by the embedded runner; run dbt-core for it". `where` is a line or a node's name.
 */
export function notSupported(construct: string, file: string, where?: string | number): DbtCompilationError {
  const at = where === undefined ? file : `${file}:${where}`;
  return new DbtCompilationError(
    file,
    typeof where === 'number' ? where : undefined,
    `${construct} at ${at} is not supported by the embedded runner; run dbt-core for it`,
  );
}

/** Tags nunjucks renders the way Jinja2 does (blocks closed by their end tags). */
const SUPPORTED_TAGS = new Set([
  'if',
  'elif',
  'else',
  'endif',
  'for',
  'endfor',
  'set',
  'endset',
  'macro',
  'endmacro',
  'call',
  'endcall',
  'filter',
  'endfilter',
  'raw',
  'endraw',
]);

/** `loop` attributes Jinja2 has and nunjucks lacks (they would render as undefined). */
const UNSUPPORTED_LOOP_ATTRS = /\bloop\.(cycle|previtem|nextitem|depth0|depth|changed)\b/;

/** Jinja2 idioms with no nunjucks equivalent; named so the error says which construct. */
const UNSUPPORTED_CALLS: readonly [RegExp, string][] = [
  [/\bnamespace\s*\(/, 'namespace()'],
  [
    /\.(update|append|extend|pop|insert|remove|sort|reverse|setdefault|popitem)\s*\(/,
    'Python methods that change a list or dict (.append(), .update(), ...)',
  ],
  [/\bstatement\s*\(/, 'statement blocks'],
  [/\bdbt_utils\.|\bdbt\./, 'package macros (dbt., dbt_utils.)'],
];

interface Token {
  readonly kind: 'tag' | 'expr';
  readonly body: string;
  readonly line: number;
}

function tokens(source: string): Token[] {
  const out: Token[] = [];
  const re = /\{#[\s\S]*?#\}|\{%-?([\s\S]*?)-?%\}|\{\{-?([\s\S]*?)-?\}\}/g;
  let inRaw = false;
  for (const m of source.matchAll(re)) {
    const line = source.slice(0, m.index).split('\n').length;
    if (m[1] !== undefined) {
      const body = m[1].trim();
      const tag = body.split(/[\s(]/, 1)[0] ?? '';
      if (inRaw && tag !== 'endraw') continue;
      inRaw = tag === 'raw';
      out.push({ kind: 'tag', body, line });
    } else if (m[2] !== undefined && !inRaw) {
      out.push({ kind: 'expr', body: m[2].trim(), line });
    }
  }
  return out;
}

/**
 * Rejects constructs nunjucks would render differently from dbt's Jinja2, naming file, line and construct.
 * `{% set %}` inside a for loop is the classic one: Jinja2 scopes it to the iteration, nunjucks leaks it out.
 */
export function checkSupported(file: string, source: string): void {
  const open: string[] = [];
  for (const t of tokens(source)) {
    if (t.kind === 'tag') {
      const tag = t.body.split(/[\s(]/, 1)[0] ?? '';
      if (!SUPPORTED_TAGS.has(tag)) {
        throw new DbtCompilationError(file, t.line, `unsupported Jinja tag {% ${tag} %}`);
      }
      if (tag === 'for' || tag === 'macro' || tag === 'call' || tag === 'filter') open.push(tag);
      else if (tag === 'endfor' || tag === 'endmacro' || tag === 'endcall' || tag === 'endfilter') open.pop();
      else if (tag === 'set' && open.includes('for')) {
        throw new DbtCompilationError(
          file,
          t.line,
          'unsupported construct {% set %} inside {% for %} (Jinja2 scopes it to one iteration; use a list or move it out of the loop)',
        );
      }
    }
    checkExpression(file, t);
  }
}

/** True when the expression holds a parenthesised tuple such as ('a', 1): nunjucks keeps only its last item. */
function hasTupleLiteral(body: string): boolean {
  const stack: ('call' | 'group' | 'other')[] = [];
  let quote: string | undefined;
  let prev = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') stack.push(/[\w)\]]/.test(prev) ? 'call' : 'group');
    else if (ch === '[' || ch === '{') stack.push('other');
    else if (ch === ')' || ch === ']' || ch === '}') stack.pop();
    else if (ch === ',' && stack[stack.length - 1] === 'group') return true;
    if (!/\s/.test(ch)) prev = ch;
  }
  return false;
}

function checkExpression(file: string, t: Token): void {
  if (hasTupleLiteral(t.body)) {
    throw new DbtCompilationError(
      file,
      t.line,
      'unsupported construct: tuple literal (a, b); use a list [a, b]',
    );
  }
  const loopAttr = UNSUPPORTED_LOOP_ATTRS.exec(t.body);
  if (loopAttr) throw new DbtCompilationError(file, t.line, `unsupported construct loop.${loopAttr[1]}`);
  for (const [re, name] of UNSUPPORTED_CALLS) {
    if (re.test(t.body)) throw new DbtCompilationError(file, t.line, `unsupported construct ${name}`);
  }
  if (/(['"])[^'"]*%[sd][^'"]*\1\s*%/.test(t.body)) {
    throw new DbtCompilationError(file, t.line, "unsupported construct: Python string formatting ('%s' % x)");
  }
}

/** dbt's `{% test name(args) %}...{% endtest %}` is the macro `test_name`; rewritten in place (lines unchanged). */
export function rewriteTestBlocks(source: string): string {
  return source
    .replace(/\{%(-?)\s*test\s+(\w+)\s*\(/g, '{%$1 macro test_$2(')
    .replace(/\{%(-?)\s*endtest\s*(-?)%\}/g, '{%$1 endmacro $2%}');
}

// `return(value)` inside a macro makes the macro's call evaluate to `value` (not to its rendered text).
// nunjucks macros are built by runtime.makeMacro; wrapping it gives each call a slot that `return` fills.
// The first return wins, as in Jinja2, where return ends the macro.
const NO_RETURN = Symbol('no return');
const returnSlots: unknown[] = [];
interface NunjucksRuntime {
  makeMacro: (argNames: string[], kwargNames: string[], func: (...a: unknown[]) => unknown) => unknown;
  __dbtReturnPatched?: boolean;
}
const runtime = (nunjucks as unknown as { runtime: NunjucksRuntime }).runtime;
if (!runtime.__dbtReturnPatched) {
  const makeMacro = runtime.makeMacro;
  runtime.makeMacro = (argNames, kwargNames, func) => {
    const macro = makeMacro(argNames, kwargNames, func) as (...a: unknown[]) => unknown;
    return function (this: unknown, ...args: unknown[]): unknown {
      returnSlots.push(NO_RETURN);
      try {
        const rendered = macro.apply(this, args);
        const returned = returnSlots[returnSlots.length - 1];
        return returned === NO_RETURN ? rendered : returned;
      } finally {
        returnSlots.pop();
      }
    };
  };
  runtime.__dbtReturnPatched = true;
}

function jinjaReturn(value: unknown): string {
  if (returnSlots.length === 0) throw new Error('return() called outside a macro');
  if (returnSlots[returnSlots.length - 1] === NO_RETURN) returnSlots[returnSlots.length - 1] = value;
  return '';
}

/** Keyword arguments as nunjucks passes them to a JavaScript function: a trailing object marked __keywords. */
export function splitKwargs(args: readonly unknown[]): {
  positional: unknown[];
  kwargs: Record<string, unknown>;
} {
  const last = args[args.length - 1];
  if (last && typeof last === 'object' && (last as { __keywords?: boolean }).__keywords) {
    const { __keywords: _ignored, ...kwargs } = last as Record<string, unknown>;
    return { positional: args.slice(0, -1), kwargs };
  }
  return { positional: [...args], kwargs: {} };
}

/** Calls a Jinja macro from TypeScript with keyword arguments. */
export function callMacro(macro: unknown, kwargs: Record<string, unknown>): unknown {
  if (typeof macro !== 'function') throw new Error('not a macro');
  return (macro as (...a: unknown[]) => unknown)({ ...kwargs, __keywords: true });
}

export type Macros = Map<string, unknown>;

/** The parts of nunjucks' API that its type definitions leave out. */
interface NunjucksEnvironmentInternals {
  addTest(name: string, test: (value: unknown) => boolean): void;
}
interface NunjucksTemplateInternals {
  getExported(context: object, frame: unknown, cb: (err: Error | null, exported: unknown) => void): void;
}
const NunjucksFrame = (nunjucks as unknown as { runtime: { Frame: new () => unknown } }).runtime.Frame;

/**
 * One Jinja environment per run. Project macros and dbt's context functions are globals: every template,
 * and every macro file, looks names up there at call time, so a function can follow the node being rendered.
 */
export class JinjaEnv {
  readonly env: nunjucks.Environment;
  readonly macros: Macros = new Map();

  constructor(globals: Record<string, unknown>) {
    this.env = new nunjucks.Environment(null, {
      autoescape: false,
      throwOnUndefined: true,
      dev: true,
    });
    const base: Record<string, unknown> = {
      True: true,
      False: false,
      None: null,
      return: jinjaReturn,
      ...PYTHON_GLOBALS,
      ...globals,
    };
    for (const [name, value] of Object.entries(base)) this.env.addGlobal(name, value);
    (this.env as unknown as NunjucksEnvironmentInternals).addTest(
      'none',
      (v: unknown) => v === null || v === undefined,
    );
    this.env.addFilter('as_bool', (v: unknown) => v === true || v === 'true' || v === 'True');
    this.env.addFilter('as_number', (v: unknown) => Number(v));
    this.env.addFilter('as_text', (v: unknown) => String(v));
  }

  setGlobal(name: string, value: unknown): void {
    this.env.addGlobal(name, value);
  }

  /** Loads the macros of one file (macros/*.sql, tests/generic/*.sql, built-ins) into the globals. */
  loadMacros(file: string, source: string): void {
    const text = rewriteTestBlocks(source);
    checkSupported(file, text);
    const template = this.compile(file, text);
    let exported: Record<string, unknown> = {};
    (template as unknown as NunjucksTemplateInternals).getExported({}, new NunjucksFrame(), (err, result) => {
      if (err) throw this.wrap(file, err);
      exported = result as Record<string, unknown>;
    });
    for (const [name, macro] of Object.entries(exported)) {
      this.macros.set(name, macro);
      this.env.addGlobal(name, macro);
    }
  }

  /** Parses a template (rejecting unsupported constructs first) so syntax errors surface with file:line. */
  compile(file: string, source: string): nunjucks.Template {
    checkSupported(file, source);
    try {
      return new nunjucks.Template(source, this.env, file, true);
    } catch (err) {
      throw this.wrap(file, err);
    }
  }

  render(file: string, template: nunjucks.Template, context: Record<string, unknown> = {}): string {
    try {
      return template.render(context);
    } catch (err) {
      throw this.wrap(file, err);
    }
  }

  /** Renders a short Jinja string (a test argument such as "ref('x')"). */
  renderString(file: string, source: string): string {
    return this.render(file, this.compile(file, source));
  }

  private wrap(file: string, err: unknown): DbtCompilationError {
    if (err instanceof DbtCompilationError) return err;
    const e = err as { message?: string; lineno?: number; cause?: unknown };
    const cause = e.cause;
    if (cause instanceof UnsupportedJinja) return notSupported(cause.message, file, e.lineno || undefined);
    if (cause instanceof DbtCompilationError) {
      return cause.line || !e.lineno
        ? cause
        : new DbtCompilationError(cause.file, e.lineno, cause.detail, { cause });
    }
    const raw = cause instanceof Error ? cause.message : String(e.message ?? err);
    const detail = raw
      .replace(/^\([^)]*\)(?: \[Line \d+(?:, Column \d+)?\])?\s*/, '')
      .replace(/^(Template render error|Error):\s*/, '')
      .replace(/^\([^)]*\)(?: \[Line \d+(?:, Column \d+)?\])?\s*/, '')
      .trim();
    return new DbtCompilationError(file, e.lineno, detail, { cause: err });
  }
}
