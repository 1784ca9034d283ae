/**
 * The project's files on disk, and its properties YAML files: sources (with their tests) and model
 * properties (config, tests), read as dbt reads them.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { asArray, asArrayOf } from './config.ts';
import { DbtCompilationError } from './jinja.ts';
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
}

export function parseTestEntry(entry: unknown, file: string): YamlTestEntry {
  if (typeof entry === 'string') return { testName: entry, args: {}, config: {} };
  if (entry && typeof entry === 'object' && Object.keys(entry).length === 1) {
    const [testName, body] = Object.entries(entry)[0] as [string, Record<string, unknown> | null];
    const { config, arguments: explicitArgs, name: _name, where, severity, ...args } = body ?? {};
    const testConfig: Record<string, unknown> = { ...(config as Record<string, unknown> | undefined) };
    if (where !== undefined) testConfig.where = where;
    if (severity !== undefined) testConfig.severity = severity;
    return {
      testName,
      args: { ...args, ...(explicitArgs as Record<string, unknown> | undefined) },
      config: testConfig,
    };
  }
  throw new DbtCompilationError(file, undefined, `invalid data test entry ${JSON.stringify(entry)}`);
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
    for (const src of (doc.sources ?? []) as Record<string, unknown>[]) {
      for (const table of (src.tables ?? []) as Record<string, unknown>[]) {
        const source = sourceNode(projectName, src, table, file);
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

function sourceNode(
  projectName: string,
  src: Record<string, unknown>,
  table: Record<string, unknown>,
  file: string,
): SourceNode {
  const sourceName = String(src.name);
  const tableName = String(table.name);
  return {
    resourceType: 'source',
    uniqueId: `source.${projectName}.${sourceName}.${tableName}`,
    name: tableName,
    sourceName,
    file,
    relation: new Relation(String(src.schema ?? sourceName), String(table.identifier ?? tableName)),
    loadedAtField: (table.loaded_at_field ?? src.loaded_at_field) as string | undefined,
    freshness: (table.freshness !== undefined ? table.freshness : src.freshness) as FreshnessSpec | null,
    tags: asArray(src.tags),
  };
}
