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

/** Resources (models, sources, tests) one selector term matches. */
function matchTerm(project: Project, term: string): Set<string> {
  const out = new Set<string>();
  const resources: { uniqueId: string; name: string; file: string; tags: string[]; fqn?: string[] }[] = [
    ...[...project.models.values()].map((m) => ({ ...m, tags: m.config.tags })),
    ...[...project.tests.values()].map((t) => ({ ...t, tags: t.config.tags })),
    ...[...project.sources.values()].map((s) => ({ ...s, name: `${s.sourceName}.${s.name}` })),
  ];
  const [method, value] = term.includes(':') ? (term.split(/:(.*)/s, 2) as [string, string]) : ['', term];
  for (const r of resources) {
    let hit = false;
    if (method === 'tag') hit = r.tags.includes(value);
    else if (method === 'path' || (method === '' && value.includes('/'))) {
      const p = value.replace(/\/$/, '');
      hit = r.file === p || r.file.startsWith(`${p}/`);
    } else if (method === 'source') {
      hit = r.uniqueId.startsWith('source.') && (r.name === value || r.name.split('.')[0] === value);
    } else if (method === 'resource_type') hit = r.uniqueId.startsWith(`${value}.`);
    else if (method === 'test_type')
      hit = (project.tests.get(r.uniqueId) as TestNode | undefined)?.kind === value;
    else if (method === '') hit = r.name === value;
    else
      throw new UsageError(
        `--select: unsupported selector method '${method}:' (use a name, +name, name+, tag:, path:, source:, resource_type:, test_type:)`,
      );
    if (hit) out.add(r.uniqueId);
  }
  return out;
}

/**
 * The selected resources. Each space-separated argument is a union; commas intersect; `+` before or after a
 * term adds ancestors or descendants.
 */
export function select(project: Project, selectors: readonly string[] | undefined): Set<string> {
  const all = new Set<string>([...project.models.keys(), ...project.tests.keys(), ...project.sources.keys()]);
  if (!selectors || selectors.length === 0) return all;
  const kids = children(project);
  const parentsOf = (id: string): Iterable<string> =>
    project.models.get(id)?.dependsOn ?? project.tests.get(id)?.dependsOn ?? [];
  const result = new Set<string>();
  const unmatched: string[] = [];
  for (const arg of selectors.flatMap((s) => s.split(/\s+/)).filter(Boolean)) {
    let acc: Set<string> | undefined;
    for (const raw of arg.split(',')) {
      const up = raw.startsWith('+');
      const down = raw.endsWith('+');
      const term = raw.replace(/^\+/, '').replace(/\+$/, '');
      const matched = matchTerm(project, term);
      if (matched.size === 0) unmatched.push(raw);
      const set = new Set(matched);
      if (up) for (const id of closure(matched, parentsOf)) set.add(id);
      if (down) for (const id of closure(matched, (id) => kids.get(id) ?? [])) set.add(id);
      acc = acc ? new Set([...acc].filter((id) => set.has(id))) : set;
    }
    for (const id of acc ?? []) result.add(id);
  }
  // dbt warns with these words (NoNodesForSelectionCriteria) and does nothing; a selector that matches nothing
  // is almost always a typo, so here it is an error, as under dbt's --warn-error, and the run exits non-zero.
  if (unmatched.length > 0) {
    throw new UsageError(
      `--select: ${unmatched.map((raw) => `The selection criterion '${raw}' does not match any enabled nodes`).join('; ')}`,
    );
  }
  return result;
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
