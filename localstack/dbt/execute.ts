/**
 * Executes nodes on the warehouse (DuckDB or Postgres, through DbtAdapter): materializations (view, table, incremental merged on unique_key, or by a project's custom strategy macro) and data tests
 * (a test passes when its query returns no rows; severity decides between fail and warn).
 */
import type { DbtAdapter } from './adapter.ts';
import { renderWithLookups, withRenderScope, type WarehouseLookups } from './context.ts';
import { DbtCompilationError, notSupported } from './jinja.ts';
import { Relation, type ModelNode, type Project, type TestNode } from './project.ts';

export interface NodeOutcome {
  readonly status: 'success' | 'error' | 'pass' | 'fail' | 'warn';
  readonly message: string;
  readonly failures: number | null;
  readonly rowsAffected: number | null;
  readonly compiledCode: string;
  readonly relation?: Relation;
}

/** A model built: what dbt reports for it (rows affected: null for a view). */
function built(sql: string, relation: Relation, rowsAffected: number | null): NodeOutcome {
  return { status: 'success', message: 'OK', failures: null, rowsAffected, compiledCode: sql, relation };
}

/** `create or replace table` from the model's SQL; the outcome counts the table's rows. */
async function createTable(conn: DbtAdapter, sql: string, target: Relation): Promise<NodeOutcome> {
  await conn.replaceRelation('table', target, sql);
  return built(sql, target, await count(conn, target));
}

/** Every relation of the connection's database, as adapter.get_relation() and is_incremental() see them. */
async function warehouseRelations(conn: DbtAdapter): Promise<Map<string, 'table' | 'view'>> {
  const rows = await conn.rows(
    `select table_schema, table_name, table_type from information_schema.tables
     where table_catalog = current_database()`,
  );
  const out = new Map<string, 'table' | 'view'>();
  for (const [schema, name, type] of rows) {
    out.set(`${String(schema)}.${String(name)}`.toLowerCase(), type === 'VIEW' ? 'view' : 'table');
  }
  return out;
}

function relationType(
  relations: ReadonlyMap<string, 'table' | 'view'>,
  relation: Relation,
): 'table' | 'view' | undefined {
  return relations.get(`${relation.schema}.${relation.identifier}`.toLowerCase());
}

/** Column names and data types, in order (what dbt's adapter.get_columns_in_relation gives). */
function columns(conn: DbtAdapter, from: string): Promise<{ name: string; type: string }[]> {
  return conn.columns(from);
}

/** What a render asks of the connection: a relation's columns, a run_query's result. */
function lookups(conn: DbtAdapter): WarehouseLookups {
  return { columns: (r) => columns(conn, r), query: (sql) => conn.query(sql) };
}

/** dbt's full_refresh config: true always rebuilds, false never does (whatever --full-refresh says). */
export function effectiveFullRefresh(model: ModelNode, flag: boolean): boolean {
  if (model.config.full_refresh === true) return true;
  if (model.config.full_refresh === false) return false;
  return flag;
}

async function count(conn: DbtAdapter, relation: Relation): Promise<number> {
  const rows = await conn.rows(`select count(*) from ${relation.toString()}`);
  return Number(rows[0]?.[0] ?? 0);
}

/** Renders a node with the context dbt gives at execution time (execute = true, this, is_incremental()). */
export async function compileModel(
  project: Project,
  conn: DbtAdapter,
  model: ModelNode,
  fullRefresh: boolean,
): Promise<{
  sql: string;
  existing: 'table' | 'view' | undefined;
  relations: ReadonlyMap<string, 'table' | 'view'>;
}> {
  const relations = await warehouseRelations(conn);
  const existing = relationType(relations, model.relation);
  // dbt: true only when the model is incremental, its relation exists as a table, and this is no full refresh.
  const isIncremental = model.config.materialized === 'incremental' && existing === 'table' && !fullRefresh;
  const scope = { node: model, execute: true, this: model.relation, isIncremental, relations };
  const sql = await renderWithLookups(relations, lookups(conn), () =>
    withRenderScope(project.jinja, project.state, scope, () =>
      project.jinja.render(model.file, model.template),
    ),
  );
  return { sql: sql.trim(), existing, relations };
}

export async function runModel(
  project: Project,
  conn: DbtAdapter,
  model: ModelNode,
  fullRefresh: boolean,
): Promise<NodeOutcome> {
  fullRefresh = effectiveFullRefresh(model, fullRefresh);
  const { sql, existing, relations } = await compileModel(project, conn, model, fullRefresh);
  const target = model.relation;
  const materialized = model.config.materialized ?? 'view';
  await conn.run(`create schema if not exists "${target.schema}"`);
  const dropOther = async (keep: 'table' | 'view'): Promise<void> => {
    if (existing && existing !== keep) await conn.run(`drop ${existing} if exists ${target.toString()}`);
  };
  switch (materialized) {
    case 'view':
      await dropOther('view');
      await conn.replaceRelation('view', target, sql);
      return built(sql, target, null);
    case 'table':
      await dropOther('table');
      return createTable(conn, sql, target);
    case 'incremental':
      return runIncremental(project, conn, model, { sql, existing, relations }, fullRefresh);
    default:
      throw new DbtCompilationError(
        model.file,
        undefined,
        `unsupported materialization '${String(materialized)}' (supported: view, table, incremental)`,
      );
  }
}

async function runIncremental(
  project: Project,
  conn: DbtAdapter,
  model: ModelNode,
  compiled: Awaited<ReturnType<typeof compileModel>>,
  fullRefresh: boolean,
): Promise<NodeOutcome> {
  const { sql, existing, relations } = compiled;
  const target = model.relation;
  if (existing !== 'table' || fullRefresh) {
    if (existing === 'view') await conn.run(`drop view if exists ${target.toString()}`);
    return createTable(conn, sql, target);
  }
  const strategy = String(model.config.incremental_strategy ?? 'delete+insert');
  const custom = BUILTIN_STRATEGIES.has(strategy) ? undefined : strategyMacro(project, model, strategy);
  if (!custom && !RUNNER_STRATEGIES.has(strategy)) {
    throw new DbtCompilationError(model.file, undefined, `unsupported incremental_strategy '${strategy}'`);
  }
  const predicates = incrementalPredicates(model);
  if (predicates.length > 0 && !custom && strategy !== 'delete+insert') {
    throw notSupported(`model config 'incremental_predicates' with '${strategy}'`, model.file, model.name);
  }
  const tmp = `"${target.identifier}__dbt_tmp"`;
  await conn.createTempTable(tmp, sql);
  try {
    const targetCols = await columns(conn, target.toString());
    const newCols = await columns(conn, tmp);
    const onSchemaChange = model.config.on_schema_change ?? 'ignore';
    // dbt's check_for_schema_changes: columns added or removed, or a column whose data type changed.
    const show = (cols: { name: string; type: string }[]): string =>
      cols.map((c) => `${c.name} ${c.type}`).join(', ');
    const same =
      targetCols.length === newCols.length &&
      targetCols.every((c) => newCols.some((n) => n.name === c.name && n.type === c.type));
    if (!same && onSchemaChange === 'fail') {
      throw new Error(
        `The source and target schemas on this incremental model are out of sync (on_schema_change: fail): target [${show(targetCols)}], new [${show(newCols)}]. Run with --full-refresh.`,
      );
    }
    if (!same && onSchemaChange !== 'ignore') {
      throw new DbtCompilationError(
        model.file,
        undefined,
        `unsupported on_schema_change '${String(onSchemaChange)}' (supported: ignore, fail)`,
      );
    }
    // dbt's dest_columns: the target's columns (the new rows' columns it also has).
    const destCols = targetCols.filter((c) => newCols.some((n) => n.name === c.name));
    const statements = custom
      ? await customStrategySql(project, conn, model, custom, { tmp, destCols, predicates, relations })
      : builtinStrategySql(strategy, model, { tmp, destCols, predicates });
    // One transaction, as dbt runs a strategy's statements (dbt-snowflake wraps its own in begin/commit:
    // snowflake_dml_explicit_transaction); the outcome counts the rows of the last statement, the insert.
    await conn.run('begin transaction');
    try {
      let affected = 0;
      for (const statement of statements) affected = await conn.run(statement);
      await conn.run('commit');
      return built(sql, target, affected);
    } catch (err) {
      await conn.run('rollback');
      throw err;
    }
  } finally {
    await conn.run(`drop table if exists ${tmp}`);
  }
}

/** dbt's built-in strategy names (dbt-adapters' builtin_incremental_strategies); others are custom. */
const BUILTIN_STRATEGIES = new Set(['append', 'delete+insert', 'merge', 'insert_overwrite', 'microbatch']);
/** The built-in strategies the runner implements (merge as a delete and an insert on unique_key). */
const RUNNER_STRATEGIES = new Set(['append', 'delete+insert', 'merge']);

/**
 * A custom strategy's macro, as dbt-adapters' get_incremental_strategy_macro finds it: the strategy's name
 * with every `+` as `_`, in `get_incremental_<name>_sql`; dbt's error when the project defines none.
 */
function strategyMacro(project: Project, model: ModelNode, strategy: string): unknown {
  const name = `get_incremental_${strategy.replaceAll('+', '_')}_sql`;
  const macro = project.jinja.macros.get(name);
  if (macro === undefined) {
    throw new DbtCompilationError(
      model.file,
      undefined,
      `unsupported incremental_strategy '${strategy}': dbt could not find an incremental strategy macro with the name "${name}" in ${project.name}`,
    );
  }
  return macro;
}

/** dbt's incremental_predicates config: SQL conditions, as a list. */
function incrementalPredicates(model: ModelNode): string[] {
  const raw = model.config.incremental_predicates;
  if (raw === undefined || raw === null) return [];
  return (Array.isArray(raw) ? raw : [raw]).map(String);
}

interface StrategyInputs {
  readonly tmp: string;
  readonly destCols: readonly { name: string; type: string }[];
  readonly predicates: readonly string[];
}

/** A custom strategy renders in the model's scope: the relations (and the answers) of the model's start. */
interface CustomStrategyInputs extends StrategyInputs {
  readonly relations: ReadonlyMap<string, 'table' | 'view'>;
}

function builtinStrategySql(strategy: string, model: ModelNode, inputs: StrategyInputs): string[] {
  const target = model.relation.toString();
  const { tmp, destCols, predicates } = inputs;
  const insertCols = destCols.map((c) => `"${c.name}"`).join(', ');
  const insert = `insert into ${target} (${insertCols}) select ${insertCols} from ${tmp}`;
  const keys = model.config.unique_key === undefined ? [] : [model.config.unique_key].flat().map(String);
  if (keys.length === 0 || strategy === 'append') return [insert];
  if (predicates.length > 0) {
    // dbt-adapters' default__get_delete_insert_merge_sql: the predicates qualify the target as DBT_INTERNAL_DEST.
    const list = keys.join(', ');
    return [
      `delete from ${target} as DBT_INTERNAL_DEST where (${list}) in (select distinct ${list} from ${tmp} as DBT_INTERNAL_SOURCE)${predicates.map((p) => ` and ${p}`).join('')}`,
      insert,
    ];
  }
  const on = keys.map((k) => `${target}."${k}" = ${tmp}."${k}"`).join(' and ');
  return [`delete from ${target} using ${tmp} where ${on}`, insert];
}

/**
 * A custom strategy: its macro rendered with dbt's arg_dict (target_relation, temp_relation, unique_key,
 * dest_columns with name/data_type/quoted, incremental_predicates), the text split into its statements.
 */
async function customStrategySql(
  project: Project,
  conn: DbtAdapter,
  model: ModelNode,
  macro: unknown,
  inputs: CustomStrategyInputs,
): Promise<string[]> {
  const temp = {
    toString: () => inputs.tmp,
    identifier: inputs.tmp.slice(1, -1),
    name: inputs.tmp.slice(1, -1),
  };
  const argDict = {
    target_relation: model.relation,
    temp_relation: temp,
    unique_key: model.config.unique_key ?? null,
    dest_columns: inputs.destCols.map((c) => ({
      name: c.name,
      column: c.name,
      data_type: c.type,
      dtype: c.type,
      quoted: `"${c.name}"`,
    })),
    incremental_predicates: inputs.predicates.length > 0 ? [...inputs.predicates] : null,
  };
  const { relations } = inputs;
  const scope = { node: model, execute: true, this: model.relation, isIncremental: true, relations };
  const text = await renderWithLookups(relations, lookups(conn), () =>
    withRenderScope(project.jinja, project.state, scope, () =>
      String((macro as (arg: unknown) => unknown)(argDict)),
    ),
  );
  return splitStatements(text);
}

/** SQL text split at the semicolons outside quotes and comments; empty statements dropped. */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i] as string;
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      const stop = end === -1 ? text.length : end + 1;
      current += text.slice(i, stop);
      i = stop - 1;
    } else if (ch === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      current += text.slice(i, stop);
      i = stop - 1;
    } else if (ch === ';') {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A test's SQL as dbt compiles it at execution (execute = true, the warehouse's relations and columns). */
export async function compileTest(project: Project, conn: DbtAdapter, test: TestNode): Promise<string> {
  const relations = await warehouseRelations(conn);
  const scope = { node: test, execute: true, relations };
  const sql = await renderWithLookups(relations, lookups(conn), () =>
    withRenderScope(project.jinja, project.state, scope, test.render),
  );
  return sql.trim();
}

export async function runTest(project: Project, conn: DbtAdapter, test: TestNode): Promise<NodeOutcome> {
  const sql = await compileTest(project, conn, test);
  const limit = test.config.limit === undefined ? '' : `\nlimit ${Number(test.config.limit)}`;
  // dbt's test materialization: select {{ fail_calc }} as failures from (the test's query) dbt_internal_test.
  const failCalc = String(test.config.fail_calc ?? 'count(*)');
  const rows = await conn.rows(`select ${failCalc} as failures from (\n${sql}${limit}\n) dbt_internal_test`);
  const failures = Number(rows[0]?.[0] ?? 0);
  // dbt: with severity error, error_if decides fail, then warn_if decides warn; with severity warn only warn_if.
  const severity = String(test.config.severity ?? 'error').toLowerCase();
  const errorIf = threshold(test, 'error_if');
  const warnIf = threshold(test, 'warn_if');
  const status = severity === 'error' && errorIf(failures) ? 'fail' : warnIf(failures) ? 'warn' : 'pass';
  if (status === 'pass') return { status, message: '', failures, rowsAffected: null, compiledCode: sql };
  const condition = String(test.config[status === 'fail' ? 'error_if' : 'warn_if'] ?? '!= 0');
  const message = `Got ${failures} result${failures === 1 ? '' : 's'}, configured to ${status === 'fail' ? 'fail' : 'warn'} if ${condition}`;
  return { status, message, failures, rowsAffected: null, compiledCode: sql };
}

/** A test's warn_if / error_if condition ("!= 0", ">10", ...) as a predicate on the failure count. */
function threshold(test: TestNode, key: 'warn_if' | 'error_if'): (failures: number) => boolean {
  const text = String(test.config[key] ?? '!= 0');
  const m = /^\s*(!=|<>|>=|<=|==|=|>|<)\s*(\d+)\s*$/.exec(text);
  if (!m)
    throw new DbtCompilationError(
      test.file,
      undefined,
      `unsupported ${key} condition '${text}' (use a comparison such as '>10')`,
    );
  const n = Number(m[2]);
  switch (m[1]) {
    case '!=':
    case '<>':
      return (f) => f !== n;
    case '>=':
      return (f) => f >= n;
    case '<=':
      return (f) => f <= n;
    case '>':
      return (f) => f > n;
    case '<':
      return (f) => f < n;
    default:
      return (f) => f === n;
  }
}

export { Relation };
