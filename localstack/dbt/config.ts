/**
 * Node config as dbt layers it: dbt_project.yml levels down the resource's path (most specific last), then
 * the properties file, then config() in the node itself. Tags add up; every other key is replaced.
 */
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
  'database',
  'docs',
  'meta',
  'persist_docs',
  'full_refresh',
  'store_failures',
  'warn_if',
  'error_if',
  'limit',
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
