import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

/**
 * The project's root folder (no trailing separator): entry points and the dbt image are found relative to it,
 * wherever synth runs. The one definition: the local stand-ins, the CLI and the tests take it from here too
 * (through localstack/paths.ts).
 */
export const PROJECT_ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function fromRoot(...parts: string[]): string {
  return path.resolve(PROJECT_ROOT, ...parts);
}
