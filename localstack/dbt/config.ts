/**
 * Node config as dbt layers it: dbt_project.yml levels down the resource's path (most specific last), then
 * the properties file, then config() in the node itself. Tags add up; every other key is replaced.
 */
import { notSupported } from './jinja.ts';
import type { NodeConfig } from './nodes.ts';

const CONFIG_KEYS = new Set([
  'materialized',
  'schema',
  'alias',
  'tags',
  'unique_key',
  'on_schema_change',
  'enabled',
  'severity',
  'where',
  'incremental_strategy',
  'incremental_predicates',
  'database',
  'docs',
  'meta',
  'persist_docs',
  'full_refresh',
  'store_failures',
  'warn_if',
  'error_if',
  'limit',
  'fail_calc',
  'post-hook',
  'pre-hook',
  'grants',
  'contract',
  'sql_header',
]);

export function asArray(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

export function asArrayOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Applies one level of dbt_project.yml config (`+key` or a known key) onto `into`; tags add up. */
function applyConfig(into: NodeConfig, level: Record<string, unknown>): void {
  for (const [rawKey, value] of Object.entries(level)) {
    const key = rawKey.startsWith('+') ? rawKey.slice(1) : rawKey;
    if (!rawKey.startsWith('+') && !CONFIG_KEYS.has(key)) continue;
    if (key === 'tags') into.tags = [...into.tags, ...asArray(value)];
    else into[key] = value;
  }
}

/** The config dbt_project.yml gives a resource at `fqn` (most specific path last, so it wins). */
export function projectConfig(section: unknown, projectName: string, fqn: readonly string[]): NodeConfig {
  const config: NodeConfig = { tags: [] };
  let level = (section as Record<string, unknown> | undefined)?.[projectName] as
    Record<string, unknown> | undefined;
  if (!level) return config;
  applyConfig(config, level);
  for (const part of fqn) {
    const next = level[part];
    if (!next || typeof next !== 'object' || Array.isArray(next)) break;
    level = next as Record<string, unknown>;
    applyConfig(config, level);
  }
  return config;
}

/** `base` with `override` on top (a copy; tags add up). */
export function mergeConfig(base: NodeConfig, override: Record<string, unknown> | undefined): NodeConfig {
  if (!override) return base;
  const out: NodeConfig = { ...base, tags: [...base.tags] };
  for (const [key, value] of Object.entries(override)) {
    if (key === 'tags') out.tags = [...out.tags, ...asArray(value)];
    else out[key] = value;
  }
  return out;
}

/**
 * Model config keys the runner applies, or that change nothing it builds (docs, meta, group, access, a
 * contract that is not enforced). Every other key is refused by name: dbt would apply it (hooks, grants,
 * database, persist_docs, ...) and the runner would not.
 */
const MODEL_CONFIG_APPLIED = new Set([
  'materialized',
  'schema',
  'alias',
  'tags',
  'unique_key',
  'on_schema_change',
  'enabled',
  'incremental_strategy',
  'incremental_predicates',
  'full_refresh',
  'docs',
  'meta',
  'group',
  'access',
  'contract',
  'description',
]);

/** Test config keys the runner applies (or that change nothing it runs); store_failures only when false. */
const TEST_CONFIG_APPLIED = new Set([
  'severity',
  'where',
  'tags',
  'enabled',
  'limit',
  'warn_if',
  'error_if',
  'fail_calc',
  'meta',
  'store_failures',
  'schema',
  'alias',
]);

/** Throws naming the first config key of a model or test that the runner would accept without applying. */
export function checkConfig(kind: 'model' | 'test', config: NodeConfig, file: string, node: string): void {
  const applied = kind === 'model' ? MODEL_CONFIG_APPLIED : TEST_CONFIG_APPLIED;
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined || value === null) continue;
    if (!applied.has(key)) throw notSupported(`${kind} config '${key}'`, file, node);
  }
  const contract = config.contract as { enforced?: unknown } | undefined;
  if (contract && contract.enforced === true)
    throw notSupported(`model config 'contract: {enforced: true}'`, file, node);
  if (config.store_failures === true) throw notSupported(`test config 'store_failures: true'`, file, node);
  const onSchemaChange = config.on_schema_change;
  if (onSchemaChange !== undefined && onSchemaChange !== 'ignore' && onSchemaChange !== 'fail')
    throw notSupported(`model config 'on_schema_change: ${String(onSchemaChange)}'`, file, node);
}
