/**
 * What the runner reads of profiles.yml: the `threads` of the project's profile for the DuckDB target (the
 * one the embedded runner builds), from the project directory, where the Fargate task's image keeps it too.
 * Values may be Jinja (`{{ env_var('DBT_THREADS', '2') }}`), rendered as dbt renders profiles.
 * https://docs.getdbt.com/docs/core/connect-data-platform/connection-profiles#understanding-threads
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { DbtCompilationError } from './jinja.ts';
import type { Project } from './project.ts';

const FILE = 'profiles.yml';

/** The profile's DuckDB `threads`; 1 when there is no profiles.yml, no such profile or no threads. */
export async function profileThreads(project: Project): Promise<number> {
  let text: string;
  try {
    text = await readFile(path.join(project.root, FILE), 'utf8');
  } catch {
    return 1;
  }
  const profiles = (YAML.parse(text) ?? {}) as Record<
    string,
    { outputs?: Record<string, { threads?: unknown }> }
  >;
  const raw = profiles[project.profile ?? project.name]?.outputs?.duckdb?.threads;
  if (raw === undefined || raw === null) return 1;
  const value = typeof raw === 'string' ? project.jinja.renderString(FILE, raw).trim() : raw;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new DbtCompilationError(
      FILE,
      undefined,
      `threads of the duckdb output of profile '${project.profile ?? project.name}' must be a whole number of at least 1, got ${JSON.stringify(raw)}`,
    );
  }
  return threads;
}
