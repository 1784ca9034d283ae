import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

/** The project's root folder: entry points and the dbt image are found relative to it, wherever synth runs. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function fromRoot(...parts: string[]): string {
  return path.resolve(PROJECT_ROOT, ...parts);
}
