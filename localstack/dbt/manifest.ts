/**
 * target/manifest.json in dbt's manifest v12 schema (dbt 1.8 to 1.10; https://schemas.getdbt.com/dbt/manifest/v12.json):
 * the models, tests and sources of the parsed project with their config, fqn, checksums and dependencies,
 * and parent_map / child_map. Partial where the runner has nothing to say: `macros` lists the project's
 * macros without their SQL bodies' dependencies, and docs, exposures, metrics, groups, semantic models,
 * saved queries and unit tests are empty (the runner refuses the project features that would fill them).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelNode, Project, SourceNode, TestNode } from './project.ts';

export const MANIFEST_SCHEMA = 'https://schemas.getdbt.com/dbt/manifest/v12.json';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** dbt's config objects list every key; the ones the project set, and the defaults dbt reports. */
function modelConfig(model: ModelNode): Record<string, unknown> {
  const { tags, ...rest } = model.config;
  return {
    enabled: true,
    materialized: model.config.materialized ?? 'view',
    ...rest,
    alias: model.config.alias ?? null,
    schema: model.config.schema ?? null,
    tags,
    on_schema_change: model.config.on_schema_change ?? 'ignore',
    full_refresh: model.config.full_refresh ?? null,
    contract: { enforced: false, alias_types: true },
    docs: { show: true, node_color: null },
  };
}

function testConfig(test: TestNode): Record<string, unknown> {
  const { tags, ...rest } = test.config;
  return {
    enabled: true,
    materialized: 'test',
    severity: 'ERROR',
    fail_calc: 'count(*)',
    warn_if: '!= 0',
    error_if: '!= 0',
    store_failures: null,
    ...rest,
    tags,
  };
}

async function fileChecksum(root: string, file: string): Promise<{ name: string; checksum: string }> {
  try {
    return { name: 'sha256', checksum: sha256(await readFile(path.join(root, file), 'utf8')) };
  } catch {
    return { name: 'none', checksum: '' };
  }
}

const relativeToResourcePath = (file: string): string => file.split('/').slice(1).join('/');

async function modelEntry(project: Project, model: ModelNode): Promise<Record<string, unknown>> {
  const refs = [...model.dependsOn]
    .filter((id) => id.startsWith('model.'))
    .map((id) => ({ name: id.split('.').pop() as string, package: null, version: null }));
  const sources = [...model.dependsOn]
    .map((id) => project.sources.get(id))
    .filter((s): s is SourceNode => s !== undefined)
    .map((s) => [s.sourceName, s.name]);
  return {
    database: 'memory',
    schema: model.relation.schema,
    name: model.name,
    resource_type: 'model',
    package_name: project.name,
    path: relativeToResourcePath(model.file),
    original_file_path: model.file,
    unique_id: model.uniqueId,
    fqn: [project.name, ...model.fqn],
    alias: model.relation.identifier,
    checksum: await fileChecksum(project.root, model.file),
    config: modelConfig(model),
    tags: model.config.tags,
    description: '',
    columns: {},
    meta: {},
    language: 'sql',
    refs,
    sources,
    metrics: [],
    depends_on: { macros: [], nodes: [...model.dependsOn].sort() },
    relation_name: model.relation.toString(),
    access: 'protected',
    constraints: [],
  };
}

function testEntry(project: Project, test: TestNode): Record<string, unknown> {
  const base = {
    database: 'memory',
    schema: project.targetSchema,
    name: test.name,
    resource_type: 'test',
    package_name: project.name,
    path: test.kind === 'generic' ? `${test.name}.sql` : relativeToResourcePath(test.file),
    original_file_path: test.file,
    unique_id: test.uniqueId,
    fqn: [project.name, ...test.fqn],
    alias: test.name,
    checksum: { name: 'none', checksum: '' },
    config: testConfig(test),
    tags: test.config.tags,
    description: '',
    columns: {},
    meta: {},
    language: 'sql',
    refs: [...test.dependsOn]
      .filter((id) => id.startsWith('model.'))
      .map((id) => ({ name: id.split('.').pop() as string, package: null, version: null })),
    sources: [...test.dependsOn]
      .map((id) => project.sources.get(id))
      .filter((s): s is SourceNode => s !== undefined)
      .map((s) => [s.sourceName, s.name]),
    metrics: [],
    depends_on: { macros: [], nodes: [...test.dependsOn].sort() },
  };
  if (test.kind === 'singular') return base;
  return {
    ...base,
    attached_node: test.attachedTo?.startsWith('model.') ? test.attachedTo : null,
    file_key_name: test.attachedTo?.startsWith('source.')
      ? `sources.${test.attachedTo.split('.')[2]}`
      : `models.${test.attachedTo?.split('.').pop() ?? ''}`,
    test_metadata: { name: test.testName ?? test.name, kwargs: test.kwargs ?? {}, namespace: null },
    column_name: test.columnName ?? null,
  };
}

function sourceEntry(project: Project, source: SourceNode): Record<string, unknown> {
  const freshness = source.freshness ?? null;
  return {
    database: 'memory',
    schema: source.relation.schema,
    name: source.name,
    resource_type: 'source',
    package_name: project.name,
    path: source.file,
    original_file_path: source.file,
    unique_id: source.uniqueId,
    fqn: [project.name, ...source.file.split('/').slice(1, -1), source.sourceName, source.name],
    source_name: source.sourceName,
    source_description: '',
    loader: '',
    identifier: source.relation.identifier,
    loaded_at_field: source.loadedAtField ?? null,
    freshness: freshness && {
      warn_after: freshness.warn_after ?? { count: null, period: null },
      error_after: freshness.error_after ?? { count: null, period: null },
      filter: freshness.filter ?? null,
    },
    description: '',
    columns: {},
    meta: {},
    source_meta: {},
    tags: source.tags,
    config: { enabled: true },
    relation_name: source.relation.toString(),
  };
}

export interface ManifestOptions {
  readonly invocationId: string;
  readonly dbtVersion: string;
  readonly startedAt: Date;
}

/** The manifest of a parsed project (every enabled node, whatever was selected, as dbt writes it). */
export async function manifestDocument(
  project: Project,
  options: ManifestOptions,
): Promise<Record<string, unknown>> {
  const nodes: Record<string, unknown> = {};
  for (const model of project.models.values()) nodes[model.uniqueId] = await modelEntry(project, model);
  for (const test of project.tests.values()) nodes[test.uniqueId] = testEntry(project, test);
  const sources: Record<string, unknown> = {};
  for (const source of project.sources.values()) sources[source.uniqueId] = sourceEntry(project, source);
  const macros: Record<string, unknown> = {};
  for (const name of project.jinja.macros.keys()) {
    const uniqueId = `macro.${project.name}.${name}`;
    macros[uniqueId] = {
      name,
      resource_type: 'macro',
      package_name: project.name,
      path: '',
      original_file_path: '',
      unique_id: uniqueId,
      macro_sql: '',
    };
  }
  const parentMap: Record<string, string[]> = {};
  const childMap: Record<string, string[]> = {};
  for (const id of [...Object.keys(nodes), ...Object.keys(sources)]) childMap[id] = [];
  for (const node of [...project.models.values(), ...project.tests.values()]) {
    parentMap[node.uniqueId] = [...node.dependsOn].sort();
    for (const parent of node.dependsOn) (childMap[parent] ??= []).push(node.uniqueId);
  }
  for (const id of Object.keys(sources)) parentMap[id] = [];
  for (const list of Object.values(childMap)) list.sort();
  return {
    metadata: {
      dbt_schema_version: MANIFEST_SCHEMA,
      dbt_version: options.dbtVersion,
      generated_at: new Date().toISOString(),
      invocation_id: options.invocationId,
      invocation_started_at: options.startedAt.toISOString(),
      env: {},
      project_name: project.name,
      project_id: createHash('md5').update(project.name).digest('hex'),
      user_id: null,
      send_anonymous_usage_stats: false,
      adapter_type: project.adapterType,
    },
    nodes,
    sources,
    macros,
    docs: {},
    exposures: {},
    metrics: {},
    groups: {},
    selectors: {},
    disabled: {},
    parent_map: parentMap,
    child_map: childMap,
    group_map: {},
    saved_queries: {},
    semantic_models: {},
    unit_tests: {},
  };
}
