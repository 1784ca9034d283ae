/**
 * The project's files on disk, and its properties YAML files: sources (with their tests) and model
 * properties (config, tests), read as dbt reads them.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { asArray, asArrayOf } from './config.ts';
import { DbtCompilationError, notSupported } from './jinja.ts';
import { Relation, type FreshnessSpec, type SourceNode } from './nodes.ts';

/** Every file under `dir` ending in `ext`, sorted; none when `dir` does not exist. */
export async function listFiles(dir: string, ext: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** One entry of a `data_tests:` (or `tests:`) list: the test's name, its arguments and its config. */
export interface YamlTestEntry {
  readonly testName: string;
  readonly args: Record<string, unknown>;
  readonly config: Record<string, unknown>;
  /** The entry's `name:` (dbt 1.10's `name` + `test_name` form), which replaces the generated test name. */
  readonly name?: string;
}

/**
 * The keys dbt reads as test config when they sit at the top level of a test entry (dbt-core's
 * TestBuilder.CONFIG_ARGS, 1.10); anything else at the top level is a test argument (deprecated in 1.10:
 * arguments go under `arguments:`).
 */
export const TEST_CONFIG_ARGS = new Set([
  'severity',
  'tags',
  'enabled',
  'where',
  'limit',
  'warn_if',
  'error_if',
  'fail_calc',
  'store_failures',
  'store_failures_as',
  'meta',
  'database',
  'schema',
  'alias',
]);

/**
 * A test entry as dbt 1.10 reads it: `name`, `{name: {arguments:, config:}}` or `{name:, test_name:,
 * arguments:, config:}`; top-level config keys are config, other top-level keys arguments.
 */
export function parseTestEntry(entry: unknown, file: string): YamlTestEntry {
  if (typeof entry === 'string') return { testName: entry, args: {}, config: {} };
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new DbtCompilationError(file, undefined, `invalid data test entry ${JSON.stringify(entry)}`);
  }
  const record = entry as Record<string, unknown>;
  let testName: string;
  let body: Record<string, unknown>;
  let name: string | undefined;
  if (typeof record.test_name === 'string') {
    const { test_name: tn, name: n, ...rest } = record;
    testName = String(tn);
    name = n === undefined ? undefined : String(n);
    body = rest;
  } else if (Object.keys(record).length === 1) {
    const [key, value] = Object.entries(record)[0] as [string, Record<string, unknown> | null];
    testName = key;
    body = { ...(value ?? {}) };
    if (typeof body.name === 'string') name = body.name;
    delete body.name;
  } else {
    throw new DbtCompilationError(file, undefined, `invalid data test entry ${JSON.stringify(entry)}`);
  }
  const { config, arguments: explicitArgs, description: _description, column_name: _c, ...top } = body;
  const testConfig: Record<string, unknown> = {};
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(top)) {
    if (TEST_CONFIG_ARGS.has(key)) testConfig[key] = value;
    else args[key] = value;
  }
  Object.assign(testConfig, config as Record<string, unknown> | undefined);
  Object.assign(args, explicitArgs as Record<string, unknown> | undefined);
  return name === undefined
    ? { testName, args, config: testConfig }
    : { testName, args, config: testConfig, name };
}

/** A resource's own tests, then its columns' tests, in file order (column undefined for the resource's own). */
export function* testEntries(
  resource: Record<string, unknown>,
  file: string,
): Generator<{ column?: string; entry: YamlTestEntry }> {
  const listed = (r: Record<string, unknown>): unknown[] => [
    ...asArrayOf(r.data_tests),
    ...asArrayOf(r.tests),
  ];
  for (const entry of listed(resource)) yield { entry: parseTestEntry(entry, file) };
  for (const col of (resource.columns ?? []) as Record<string, unknown>[]) {
    for (const entry of listed(col)) yield { column: String(col.name), entry: parseTestEntry(entry, file) };
  }
}

export interface SourceTest {
  readonly source: SourceNode;
  readonly column?: string;
  readonly entry: YamlTestEntry;
  readonly file: string;
}

export interface ModelProperties {
  /** The properties file, relative to the project root. */
  readonly file: string;
  readonly props: Record<string, unknown>;
}

export interface Properties {
  readonly sources: Map<string, SourceNode>;
  readonly sourceTests: SourceTest[];
  /** By model name. */
  readonly modelProps: Map<string, ModelProperties>;
}

/** Reads the properties files (`files` absolute, `rel` turns them into project paths). */
export async function readProperties(
  projectName: string,
  files: readonly string[],
  rel: (file: string) => string,
): Promise<Properties> {
  const properties: Properties = { sources: new Map(), sourceTests: [], modelProps: new Map() };
  for (const absolute of files) {
    const file = rel(absolute);
    const doc = (YAML.parse(await readFile(absolute, 'utf8')) ?? {}) as Record<string, unknown>;
    for (const key of ['unit_tests', 'snapshots', 'seeds']) {
      const entries = asArrayOf(doc[key]) as Record<string, unknown>[];
      if (entries.length > 0) throw notSupported(`${key}:`, file, String(entries[0]?.name ?? key));
    }
    for (const src of (doc.sources ?? []) as Record<string, unknown>[]) {
      for (const table of (src.tables ?? []) as Record<string, unknown>[]) {
        const source = sourceNode(projectName, src, table, file);
        if (!source.enabled) continue;
        properties.sources.set(source.uniqueId, source);
        for (const { column, entry } of testEntries(table, file)) {
          properties.sourceTests.push(
            column === undefined ? { source, entry, file } : { source, column, entry, file },
          );
        }
      }
    }
    for (const m of (doc.models ?? []) as Record<string, unknown>[]) {
      properties.modelProps.set(String(m.name), { file, props: m });
    }
  }
  return properties;
}

/** The source config keys the runner applies (freshness, loaded_at_field) or that change nothing it runs. */
const SOURCE_CONFIG_KEYS = new Set(['freshness', 'loaded_at_field', 'enabled', 'tags', 'meta', 'event_time']);

/**
 * dbt 1.10 reads freshness from `config:` (the top-level property is deprecated but still read); the most
 * specific wins: the table's config, the table's property, the source's config, the source's property. An
 * explicit null turns freshness off.
 */
function freshnessOf(
  table: Record<string, unknown>,
  tableConfig: Record<string, unknown>,
  src: Record<string, unknown>,
  srcConfig: Record<string, unknown>,
): FreshnessSpec | null | undefined {
  for (const level of [tableConfig, table, srcConfig, src]) {
    if (level.freshness !== undefined) return level.freshness as FreshnessSpec | null;
  }
  return undefined;
}

function sourceNode(
  projectName: string,
  src: Record<string, unknown>,
  table: Record<string, unknown>,
  file: string,
): SourceNode {
  const sourceName = String(src.name);
  const tableName = String(table.name);
  const srcConfig = (src.config ?? {}) as Record<string, unknown>;
  const tableConfig = (table.config ?? {}) as Record<string, unknown>;
  for (const [where, config] of [
    [`${sourceName}`, srcConfig],
    [`${sourceName}.${tableName}`, tableConfig],
  ] as const) {
    for (const key of Object.keys(config)) {
      if (!SOURCE_CONFIG_KEYS.has(key)) throw notSupported(`source config '${key}'`, file, where);
    }
  }
  for (const key of ['loaded_at_query']) {
    if (table[key] !== undefined || src[key] !== undefined)
      throw notSupported(`source property '${key}'`, file, `${sourceName}.${tableName}`);
  }
  return {
    resourceType: 'source',
    uniqueId: `source.${projectName}.${sourceName}.${tableName}`,
    name: tableName,
    sourceName,
    file,
    relation: new Relation(String(src.schema ?? sourceName), String(table.identifier ?? tableName)),
    loadedAtField: (tableConfig.loaded_at_field ??
      table.loaded_at_field ??
      srcConfig.loaded_at_field ??
      src.loaded_at_field) as string | undefined,
    freshness: freshnessOf(table, tableConfig, src, srcConfig),
    tags: [
      ...asArray(src.tags),
      ...asArray(srcConfig.tags),
      ...asArray(table.tags),
      ...asArray(tableConfig.tags),
    ],
    enabled: tableConfig.enabled !== false && srcConfig.enabled !== false,
  };
}
