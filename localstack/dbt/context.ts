/**
 * dbt's Jinja context: ref(), source(), config() (and config.get), var(), env_var(), is_incremental(), log(),
 * exceptions, target, run_started_at, run_query, adapter.dispatch, adapter.get_relation,
 * adapter.get_columns_in_relation;
 * and the one place that sets what they see while a node renders.
 */
import type { TargetType } from './adapter.ts';
import { DbtCompilationError, JinjaEnv, splitKwargs } from './jinja.ts';
import { UnsupportedJinja } from './python.ts';
import { mergeConfig } from './config.ts';
import {
  Relation,
  type ExecNode,
  type ModelNode,
  type NodeConfig,
  type RenderState,
  type SourceNode,
} from './nodes.ts';

export interface ContextInputs {
  readonly projectName: string;
  readonly targetSchema: string;
  /** dbt's target.type; adapter.dispatch looks for `<type>__<macro>` first. @default 'duckdb' */
  readonly adapterType?: TargetType;
  readonly vars: Readonly<Record<string, unknown>>;
  /** Filled while the project loads; ref() and source() look names up when a node renders. */
  readonly modelByName: ReadonlyMap<string, ModelNode>;
  readonly sources: ReadonlyMap<string, SourceNode>;
  /** Where `{{ log(msg, info=True) }}` writes. */
  readonly log?: (line: string) => void;
}

/** A column as dbt's adapter.get_columns_in_relation gives it (the attributes a macro reads). */
export interface JinjaColumn {
  readonly name: string;
  readonly column: string;
  readonly data_type: string;
  readonly dtype: string;
}

/**
 * dbt's run_query() result: an agate Table as a macro reads it (https://agate.readthedocs.io/page/api/table.html):
 * `rows` (each row by position or by column name), `columns` (by position or name, each with `name` and
 * `values()`) and `column_names`. Values are plain numbers, strings, booleans and none.
 */
export class QueryTable {
  readonly column_names: readonly string[];
  readonly rows: readonly unknown[][];
  readonly columns: readonly { readonly name: string; values(): unknown[] }[];
  constructor(names: readonly string[], rows: readonly unknown[][]) {
    this.column_names = [...names];
    const byName = <L extends object>(list: L, value: (i: number) => unknown): L => {
      names.forEach((n, i) => Object.defineProperty(list, n, { value: value(i), enumerable: false }));
      return list;
    };
    this.rows = rows.map((row) => byName([...row], (i) => row[i]));
    const columns = names.map((name, i) => ({ name, values: () => this.rows.map((r) => r[i]) }));
    this.columns = byName(columns, (i) => columns[i]);
  }
}

/** A warehouse value as a Jinja value: BIGINT as a number, DECIMAL as a double, other objects as text. */
export function jinjaValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  if (value !== null && typeof value === 'object') {
    const toDouble = (value as { toDouble?: () => number }).toDouble;
    return typeof toDouble === 'function' ? toDouble.call(value) : String(value);
  }
  return value;
}

/**
 * What a render asked the warehouse for (adapter.get_columns_in_relation, run_query), for the relations
 * snapshot of one node's start (a fresh map per node, so what a node sees is the warehouse when it started, as
 * for adapter.get_relation). A render is synchronous and a query is not: a question asked for the first time is
 * recorded as pending (`undefined`) and gets no columns, or none from run_query; renderWithLookups answers the
 * pending ones and renders again.
 */
interface Lookups {
  readonly columns: Map<string, JinjaColumn[] | undefined>;
  readonly queries: Map<string, QueryTable | undefined>;
}
const lookupsSeen = new WeakMap<ReadonlyMap<string, unknown>, Lookups>();

function lookupsOf(relations: ReadonlyMap<string, unknown>): Lookups {
  let seen = lookupsSeen.get(relations);
  if (!seen) lookupsSeen.set(relations, (seen = { columns: new Map(), queries: new Map() }));
  return seen;
}

const relationKey = (relation: { schema: string; identifier: string }): string =>
  `${relation.schema}.${relation.identifier}`.toLowerCase();

/** How renderWithLookups asks the warehouse. */
export interface WarehouseLookups {
  /** A relation's columns ("schema"."identifier"), in order. */
  readonly columns: (relation: string) => Promise<{ name: string; type: string }[]>;
  /** A query's column names and rows (run_query). */
  readonly query: (sql: string) => Promise<{ names: string[]; rows: unknown[][] }>;
}

/**
 * Renders (`render`, inside the node's scope) until every question the render asked is answered: the columns
 * of a relation, once per relation and node; a run_query, once per query text and node.
 */
export async function renderWithLookups(
  relations: ReadonlyMap<string, unknown>,
  warehouse: WarehouseLookups,
  render: () => string,
): Promise<string> {
  for (;;) {
    let sql: string | undefined;
    let failure: unknown;
    try {
      sql = render();
    } catch (err) {
      // A render may fail on what it has not seen yet (a macro that raises without it): ask, retry.
      failure = err;
    }
    const seen = lookupsSeen.get(relations);
    const pendingColumns = [...(seen?.columns.entries() ?? [])].filter(([, cols]) => cols === undefined);
    const pendingQueries = [...(seen?.queries.entries() ?? [])].filter(([, table]) => table === undefined);
    if (seen === undefined || pendingColumns.length + pendingQueries.length === 0) {
      if (sql === undefined) throw failure;
      return sql;
    }
    for (const [key] of pendingColumns) {
      const [schema = '', identifier = ''] = key.split('.');
      const cols = await warehouse.columns(`"${schema}"."${identifier}"`);
      seen.columns.set(
        key,
        cols.map((c) => ({ name: c.name, column: c.name, data_type: c.type, dtype: c.type })),
      );
    }
    for (const [text] of pendingQueries) {
      const { names, rows } = await warehouse.query(text);
      seen.queries.set(
        text,
        new QueryTable(
          names,
          rows.map((r) => r.map(jinjaValue)),
        ),
      );
    }
  }
}

/**
 * dbt's run_started_at: when the invocation started, a Python datetime in UTC
 * (https://docs.getdbt.com/reference/dbt-jinja-functions/run_started_at; dbt-core's tracking sets it with
 * `datetime.now(tz=pytz.utc)`, so it prints with `+00:00`). Microseconds, as Python's datetime has them.
 */
export class RunStartedAt {
  readonly #micros: number;
  constructor(epochMicros: number) {
    this.#micros = epochMicros;
  }
  #parts(): Record<string, string> {
    const d = new Date(Math.floor(this.#micros / 1000));
    const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
    return {
      Y: pad(d.getUTCFullYear(), 4),
      m: pad(d.getUTCMonth() + 1),
      d: pad(d.getUTCDate()),
      H: pad(d.getUTCHours()),
      M: pad(d.getUTCMinutes()),
      S: pad(d.getUTCSeconds()),
      f: pad(((this.#micros % 1_000_000) + 1_000_000) % 1_000_000, 6),
      z: '+0000',
      Z: 'UTC',
      '%': '%',
    };
  }
  /** Python's strftime for the codes of a timestamp (%Y %m %d %H %M %S %f %z %Z %%); others are refused. */
  strftime(format: string): string {
    const parts = this.#parts();
    return String(format).replace(/%(.)/g, (_, code: string) => {
      const part = parts[code];
      if (part === undefined) throw new UnsupportedJinja(`run_started_at.strftime('%${code}')`);
      return part;
    });
  }
  /** Python's datetime.isoformat(): 2026-05-01T10:00:00.123456+00:00. */
  isoformat(): string {
    return this.strftime('%Y-%m-%dT%H:%M:%S.%f+00:00');
  }
  /** str(datetime), what `{{ run_started_at }}` prints: 2026-05-01 10:00:00.123456+00:00. */
  toString(): string {
    return this.strftime('%Y-%m-%d %H:%M:%S.%f+00:00');
  }
}

/**
 * The start of this invocation, to the microsecond: the process's monotonic clock from its wall-clock
 * origin, so two invocations of one process never go back in time.
 */
function runStartedNow(): RunStartedAt {
  return new RunStartedAt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}

/** A Jinja environment whose context functions read `state` (the node rendering) when called. */
export function createJinja(inputs: ContextInputs, state: RenderState): JinjaEnv {
  const { projectName: name, targetSchema, vars, modelByName, sources } = inputs;
  const adapterType = inputs.adapterType ?? 'duckdb';
  const currentFile = (): string => state.node?.file ?? '<project>';
  // config(...) sets a node's config while it parses; config.get/config.require read it (dbt's config object).
  const config = Object.assign(
    (...args: unknown[]) => {
      const { positional, kwargs } = splitKwargs(args);
      const values = { ...(positional[0] as Record<string, unknown> | undefined), ...kwargs };
      if (state.configured) Object.assign(state.configured, mergeConfig(state.configured, values));
      return '';
    },
    {
      get: (key: string, ...rest: unknown[]) => {
        const { positional, kwargs } = splitKwargs(rest);
        const value = (state.configured ?? state.node?.config)?.[String(key)];
        return value ?? positional[0] ?? kwargs.default ?? null;
      },
      require: (key: string) => {
        const value = (state.configured ?? state.node?.config)?.[String(key)];
        if (value === undefined || value === null) {
          throw new DbtCompilationError(
            currentFile(),
            undefined,
            `Required config "${String(key)}" not found`,
          );
        }
        return value;
      },
    },
  );
  const jinja = new JinjaEnv({
    ref: (...args: unknown[]) => {
      const { positional } = splitKwargs(args);
      const modelName = String(positional[positional.length - 1]);
      const model = modelByName.get(modelName);
      if (!model) {
        throw new DbtCompilationError(
          currentFile(),
          undefined,
          `${state.node?.resourceType ?? 'node'} '${state.node?.name ?? '?'}' depends on a node named '${modelName}' which was not found`,
        );
      }
      state.collected?.add(model.uniqueId);
      // dbt: a ref the parse render did not see (inside {% if execute %}) is an error at execution.
      if (state.execute && !state.collected && state.node && !state.node.dependsOn.has(model.uniqueId)) {
        const n = state.node.name;
        throw new DbtCompilationError(
          currentFile(),
          undefined,
          `dbt was unable to infer all dependencies for the model "${n}". This typically happens when ref() is placed within a conditional block. To fix this, add the following hint to the top of the model "${n}":\n\n-- depends_on: {{ ref('${modelName}') }}`,
        );
      }
      return model.relation;
    },
    source: (sourceName: string, tableName: string) => {
      const source = sources.get(`source.${name}.${sourceName}.${tableName}`);
      if (!source) {
        throw new DbtCompilationError(
          currentFile(),
          undefined,
          `'${state.node?.name ?? '?'}' depends on a source named '${sourceName}.${tableName}' which was not found`,
        );
      }
      state.collected?.add(source.uniqueId);
      return source.relation;
    },
    config,
    var: (varName: string, ...rest: unknown[]) => {
      if (varName in vars) return vars[varName];
      if (rest.length > 0) return rest[0];
      throw new DbtCompilationError(
        currentFile(),
        undefined,
        `Required var '${varName}' not found in config`,
      );
    },
    env_var: (varName: string, ...rest: unknown[]) => {
      const value = process.env[varName];
      if (value !== undefined) return value;
      if (rest.length > 0) return rest[0];
      throw new DbtCompilationError(
        currentFile(),
        undefined,
        `Env var required but not provided: '${varName}'`,
      );
    },
    is_incremental: () => state.isIncremental,
    // dbt's run_query(sql): the query's result as a Table, run on the node's connection when the node executes
    // (once per query text and node); none while parsing (execute is false), as dbt's statement block gives.
    run_query: (sql: unknown) => {
      const relations = state.relations;
      if (!state.execute || !relations) return null;
      const seen = lookupsOf(relations).queries;
      const text = String(sql);
      const table = seen.get(text);
      if (table === undefined) seen.set(text, undefined);
      return table ?? null;
    },
    // dbt's log(msg, info=False): info messages go to the progress output, the others only to dbt's log file.
    log: (...args: unknown[]) => {
      const { positional, kwargs } = splitKwargs(args);
      if (positional[1] === true || kwargs.info === true) inputs.log?.(String(positional[0]));
      return '';
    },
    exceptions: {
      raise_compiler_error: (msg: unknown) => {
        throw new DbtCompilationError(currentFile(), undefined, String(msg));
      },
    },
    target: { name: adapterType, type: adapterType, schema: targetSchema, profile_name: name, threads: 1 },
    // One value for every node of the invocation: the environment is created once per invocation.
    run_started_at: runStartedNow(),
    project_name: name,
    adapter: {
      // dbt's adapter.get_relation(database, schema, identifier): the relation if it exists, else none. The
      // database is the connection's own here (one catalog per warehouse file or Postgres database).
      get_relation: (...args: unknown[]) => {
        const { positional, kwargs } = splitKwargs(args);
        const schema = String(kwargs.schema ?? positional[1] ?? '');
        const identifier = String(kwargs.identifier ?? positional[2] ?? '');
        if (!schema || !identifier) {
          throw new DbtCompilationError(
            currentFile(),
            undefined,
            'adapter.get_relation needs schema= and identifier=',
          );
        }
        const found = state.relations?.get(`${schema}.${identifier}`.toLowerCase());
        return found === undefined ? null : new Relation(schema, identifier);
      },
      // dbt's adapter.get_columns_in_relation(relation): its columns in order, none for a relation that does
      // not exist (and none while parsing, when there is no warehouse to ask).
      get_columns_in_relation: (relation: unknown) => {
        const rel = relation as { schema?: unknown; identifier?: unknown } | null;
        const relations = state.relations;
        if (!relations || typeof rel?.schema !== 'string' || typeof rel.identifier !== 'string') return [];
        const key = relationKey({ schema: rel.schema, identifier: rel.identifier });
        if (!relations.has(key)) return [];
        const seen = lookupsOf(relations).columns;
        const cols = seen.get(key);
        if (cols === undefined) seen.set(key, undefined);
        return cols ?? [];
      },
      dispatch: (...args: unknown[]) => {
        const { positional, kwargs } = splitKwargs(args);
        const macroName = String(positional[0]);
        const namespace = positional[1] ?? kwargs.macro_namespace;
        if (namespace !== undefined && namespace !== null && namespace !== name && namespace !== 'dbt') {
          throw new DbtCompilationError(
            currentFile(),
            undefined,
            `adapter.dispatch: unknown namespace '${String(namespace)}'`,
          );
        }
        for (const candidate of [`${adapterType}__${macroName}`, `default__${macroName}`]) {
          const macro = jinja.macros.get(candidate);
          if (macro) return macro;
        }
        throw new DbtCompilationError(
          currentFile(),
          undefined,
          `adapter.dispatch('${macroName}'): no macro ${adapterType}__${macroName} or default__${macroName}`,
        );
      },
    },
  });
  jinja.setGlobal('execute', state.execute);
  return jinja;
}

/** One render of one node: what `state` and the `execute` and `this` globals hold while it runs. */
export interface RenderScope {
  readonly node: ExecNode;
  readonly execute: boolean;
  readonly this?: Relation;
  readonly isIncremental?: boolean;
  /** Parsing: ref() and source() add the unique_ids they resolve here. */
  readonly collected?: Set<string>;
  /** Parsing: config() merges into this. */
  readonly configured?: NodeConfig;
  /** Execution: the relations adapter.get_relation() finds. */
  readonly relations?: ReadonlyMap<string, 'table' | 'view'>;
}

/** Runs `render` inside `scope`, then restores what was there before, even when the render throws. */
export function withRenderScope<T>(
  jinja: JinjaEnv,
  state: RenderState,
  scope: RenderScope,
  render: () => T,
): T {
  const saved: RenderState = { ...state };
  enter(jinja, state, { ...scope, isIncremental: scope.isIncremental ?? false });
  try {
    return render();
  } finally {
    enter(jinja, state, saved);
  }
}

function enter(jinja: JinjaEnv, state: RenderState, next: RenderState): void {
  state.node = next.node;
  state.execute = next.execute;
  state.isIncremental = next.isIncremental;
  state.this = next.this;
  state.collected = next.collected;
  state.configured = next.configured;
  state.relations = next.relations;
  jinja.setGlobal('execute', next.execute);
  jinja.setGlobal('this', next.this);
}

/** Parse render (execute = false): the refs and sources a node reads and the config its config() calls set. */
export function collectDependencies(
  jinja: JinjaEnv,
  state: RenderState,
  node: ExecNode,
  thisRelation: Relation | undefined,
  render: () => unknown,
): { dependsOn: Set<string>; config: NodeConfig } {
  const collected = new Set<string>();
  const configured: NodeConfig = { ...node.config, tags: [...node.config.tags] };
  withRenderScope(jinja, state, { node, execute: false, this: thisRelation, collected, configured }, render);
  return { dependsOn: collected, config: configured };
}
