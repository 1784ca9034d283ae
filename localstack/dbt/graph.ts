/**
 * The DAG: cycle detection, node selection (dbt's selector syntax, the subset the runner supports) and the
 * execution order. In `build`, a model also waits for the tests of the models it reads, so a failing test
 * skips everything downstream, as dbt build does.
 */
import { DbtCompilationError } from './jinja.ts';
import type { ExecNode, ModelNode, Project, TestNode } from './project.ts';
import { UsageError } from '../../lambdas/core/errors.ts';

export type Command = 'build' | 'run' | 'test';

/** Throws naming the models of the first cycle found (dbt: "Found a cycle"). */
export function checkCycles(project: Project): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      const first = project.models.get(id);
      throw new DbtCompilationError(first?.file ?? id, undefined, `Found a cycle: ${cycle.join(' --> ')}`);
    }
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of project.models.get(id)?.dependsOn ?? []) {
      if (project.models.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of [...project.models.keys()].sort()) visit(id);
}

function children(project: Project): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const model of project.models.values()) {
    for (const dep of model.dependsOn) {
      if (!out.has(dep)) out.set(dep, new Set());
      out.get(dep)?.add(model.uniqueId);
    }
  }
  return out;
}

function closure(start: Iterable<string>, edges: (id: string) => Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const todo = [...start];
  while (todo.length > 0) {
    const id = todo.pop() as string;
    for (const next of edges(id)) {
      if (!seen.has(next)) {
        seen.add(next);
        todo.push(next);
      }
    }
  }
  return seen;
}

/** Python's fnmatch: `*` any run (dots too), `?` one character, `[...]` a set. */
function fnmatch(text: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') re += '[\\s\\S]*';
    else if (ch === '?') re += '[\\s\\S]';
    else if (ch === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        const body = pattern.slice(i + 1, close);
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = close;
      }
    } else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(text);
}

/** dbt's is_selected_node (dbt-core graph/selector_methods.py, 1.10): the leaf by name, or the fqn by prefix. */
function fqnMatches(fqn: readonly string[], selector: string): boolean {
  if (fqn[fqn.length - 1] === selector) return true;
  const flat = fqn.flatMap((p) => p.split('.'));
  const parts = selector.split('.');
  if (flat.length < parts.length) return false;
  for (const [i, part] of parts.entries()) {
    if (/[*?[\]]/.test(part)) return fnmatch(flat.slice(i).join('.'), parts.slice(i).join('.'));
    if (flat[i] !== part) return false;
  }
  return true;
}

interface Selectable {
  readonly uniqueId: string;
  readonly file: string;
  readonly tags: readonly string[];
  /** With the project's name first, as in dbt; undefined for sources (not matched by fqn here). */
  readonly fqn?: readonly string[];
  readonly source?: { readonly sourceName: string; readonly name: string };
}

function selectables(project: Project): Selectable[] {
  return [
    ...[...project.models.values()].map((m) => ({
      uniqueId: m.uniqueId,
      file: m.file,
      tags: m.config.tags,
      fqn: [project.name, ...m.fqn],
    })),
    ...[...project.tests.values()].map((t) => ({
      uniqueId: t.uniqueId,
      file: t.file,
      tags: t.config.tags,
      fqn: [project.name, ...t.fqn],
    })),
    ...[...project.sources.values()].map((s) => ({
      uniqueId: s.uniqueId,
      file: s.file,
      tags: s.tags,
      fqn: [project.name, s.sourceName, s.name],
      source: { sourceName: s.sourceName, name: s.name },
    })),
  ];
}

/** Resources (models, sources, tests) one selector term (no graph operators) matches. */
function matchTerm(project: Project, term: string): Set<string> {
  const out = new Set<string>();
  const [given, value] = term.includes(':') ? (term.split(/:(.*)/s, 2) as [string, string]) : ['', term];
  // dbt's default method: path for a value with a slash (or a file name), fqn otherwise.
  const method =
    given !== '' ? given : value.includes('/') || /\.(sql|yml|csv|py)$/.test(value) ? 'path' : 'fqn';
  for (const r of selectables(project)) {
    let hit: boolean;
    switch (method) {
      case 'tag':
        hit = r.tags.some((t) => fnmatch(t, value));
        break;
      case 'path': {
        const p = value.replace(/\/$/, '');
        hit = r.file === p || r.file.startsWith(`${p}/`) || fnmatch(r.file, p);
        break;
      }
      case 'source': {
        const [src, table = '*'] = value.split('.');
        hit =
          r.source !== undefined && fnmatch(r.source.sourceName, src ?? '') && fnmatch(r.source.name, table);
        break;
      }
      case 'resource_type':
        hit = r.uniqueId.startsWith(`${value}.`);
        break;
      case 'test_type': {
        const kind = value === 'schema' ? 'generic' : value === 'data' ? 'singular' : value;
        hit = (project.tests.get(r.uniqueId) as TestNode | undefined)?.kind === kind;
        break;
      }
      case 'fqn':
        hit =
          r.source === undefined &&
          r.fqn !== undefined &&
          (fqnMatches(r.fqn, value) || fqnMatches(r.fqn.slice(1), value));
        break;
      default:
        throw new UsageError(
          `--select: unsupported selector method '${method}:' (use a name or fqn such as marts.plays_per_hour, path:, tag:, source:, resource_type:, test_type:, with the graph operators +, N+, +N and @)`,
        );
    }
    if (hit) out.add(r.uniqueId);
  }
  return out;
}

/** One term with dbt's graph operators: `@m`, `N+m` / `+m` (ancestors), `m+N` / `m+` (descendants). */
interface GraphTerm {
  readonly term: string;
  readonly up?: number;
  readonly down?: number;
  readonly at: boolean;
}

function parseGraphTerm(raw: string): GraphTerm {
  const m = /^(@)?(?:(\d*)\+)?(.*?)(?:\+(\d*))?$/.exec(raw) as RegExpExecArray;
  const [, at, upDepth, term, downDepth] = m;
  const depth = (d: string | undefined, present: boolean): number | undefined =>
    !present ? undefined : d ? Number(d) : Infinity;
  const up = depth(upDepth, raw.slice(at ? 1 : 0).match(/^\d*\+/) !== null);
  const down = depth(downDepth, /\+\d*$/.test(raw));
  if (at && up !== undefined)
    throw new UsageError(`--select: '${raw}': '@' and a leading '+' cannot be combined (dbt's rule)`);
  return { term: term ?? '', up, down, at: at !== undefined };
}

function within(
  start: Iterable<string>,
  edges: (id: string) => Iterable<string>,
  depth: number,
): Set<string> {
  const seen = new Set<string>();
  let frontier = [...start];
  for (let d = 0; d < depth && frontier.length > 0; d++) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const n of edges(id)) {
        if (!seen.has(n)) {
          seen.add(n);
          next.push(n);
        }
      }
    }
    frontier = next;
  }
  return seen;
}

export interface Selection {
  readonly selected: Set<string>;
  /** Terms that matched nothing: dbt warns for each and carries on. */
  readonly unmatched: readonly string[];
}

/**
 * The selected resources, with dbt's syntax: space-separated arguments are a union, commas intersect; each
 * term may carry graph operators (`+m`, `2+m`, `m+`, `m+1`, `@m`). A term that matches nothing is reported
 * (dbt's "does not match any enabled nodes" warning), not an error, as in dbt.
 */
export function selectNodes(project: Project, selectors: readonly string[] | undefined): Selection {
  const all = new Set<string>([...project.models.keys(), ...project.tests.keys(), ...project.sources.keys()]);
  if (!selectors || selectors.length === 0) return { selected: all, unmatched: [] };
  const kids = children(project);
  const parentsOf = (id: string): Iterable<string> =>
    project.models.get(id)?.dependsOn ?? project.tests.get(id)?.dependsOn ?? [];
  const childrenOf = (id: string): Iterable<string> => kids.get(id) ?? [];
  const result = new Set<string>();
  const unmatched: string[] = [];
  for (const arg of selectors.flatMap((s) => s.split(/\s+/)).filter(Boolean)) {
    let acc: Set<string> | undefined;
    for (const raw of arg.split(',')) {
      const g = parseGraphTerm(raw);
      const matched = matchTerm(project, g.term);
      if (matched.size === 0) unmatched.push(raw);
      const set = new Set(matched);
      if (g.up !== undefined) for (const id of within(matched, parentsOf, g.up)) set.add(id);
      if (g.down !== undefined || g.at) {
        for (const id of within(matched, childrenOf, g.down ?? Infinity)) set.add(id);
      }
      if (g.at) for (const id of within([...set], parentsOf, Infinity)) set.add(id);
      acc = acc ? new Set([...acc].filter((id) => set.has(id))) : set;
    }
    for (const id of acc ?? []) result.add(id);
  }
  return { selected: result, unmatched };
}

/** The selected resources (see selectNodes); the unmatched terms are dropped. */
export function select(project: Project, selectors: readonly string[] | undefined): Set<string> {
  return selectNodes(project, selectors).selected;
}

export interface Plan {
  /** Execution order. */
  readonly nodes: readonly ExecNode[];
  /** For each node, the nodes whose failure skips it. */
  readonly upstream: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The nodes a command executes, in dependency order, and what each waits for. */
export function plan(project: Project, command: Command, selected: ReadonlySet<string>): Plan {
  const models: ModelNode[] =
    command === 'test' ? [] : [...project.models.values()].filter((m) => selected.has(m.uniqueId));
  // Tests are selected directly or, "eagerly" as dbt does by default, when any resource they test is selected.
  const tests: TestNode[] =
    command === 'run'
      ? []
      : [...project.tests.values()].filter(
          (t) => selected.has(t.uniqueId) || [...t.dependsOn].some((d) => selected.has(d)),
        );
  const inPlan = new Set<string>([...models, ...tests].map((n) => n.uniqueId));
  const upstream = new Map<string, Set<string>>();
  for (const n of [...models, ...tests]) {
    upstream.set(n.uniqueId, new Set([...n.dependsOn].filter((d) => inPlan.has(d))));
  }
  if (command === 'build') {
    // A model waits for a test on a resource it reads when every resource of that test is upstream of the
    // model (dbt's rule for tests with several parents, such as relationships); otherwise the test would wait
    // for the model and the model for the test.
    const ancestors = new Map<string, Set<string>>();
    const ancestorsOf = (id: string): Set<string> => {
      let set = ancestors.get(id);
      if (!set) {
        set = closure([id], (x) => project.models.get(x)?.dependsOn ?? []);
        ancestors.set(id, set);
      }
      return set;
    };
    for (const t of tests) {
      for (const m of models) {
        if (t.dependsOn.has(m.uniqueId) || ![...t.dependsOn].some((d) => m.dependsOn.has(d))) continue;
        const upstreamOfM = ancestorsOf(m.uniqueId);
        if ([...t.dependsOn].every((d) => upstreamOfM.has(d))) upstream.get(m.uniqueId)?.add(t.uniqueId);
      }
    }
  }
  const byId = new Map<string, ExecNode>([...models, ...tests].map((n) => [n.uniqueId, n]));
  const order: ExecNode[] = [];
  const done = new Set<string>();
  const pending = new Set(byId.keys());
  while (pending.size > 0) {
    const ready = [...pending]
      .filter((id) => [...(upstream.get(id) ?? [])].every((d) => done.has(d)))
      .sort((a, b) => rankOf(byId.get(a)) - rankOf(byId.get(b)) || a.localeCompare(b));
    const next = ready[0];
    if (next === undefined)
      throw new DbtCompilationError('<graph>', undefined, `Found a cycle among ${[...pending].join(', ')}`);
    pending.delete(next);
    done.add(next);
    order.push(byId.get(next) as ExecNode);
  }
  return { nodes: order, upstream };
}

/** Tests run as soon as they can (so failures surface early); then models. */
function rankOf(node: ExecNode | undefined): number {
  return node?.resourceType === 'test' ? 0 : 1;
}
