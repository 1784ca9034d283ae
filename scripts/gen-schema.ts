/**
 * Writes docs/event.schema.json from the zod contract (lambdas/core/contract.ts), the one source of truth.
 * `--check` writes nothing and exits 1 when the checked-in file is out of date.
 *
 *   npx tsx scripts/gen-schema.ts [--check]
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventJsonSchema } from '../lambdas/core/contract.ts';

export const SCHEMA_PATH = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'docs',
  'event.schema.json',
);

/** The exact text of docs/event.schema.json. */
export function renderSchema(): string {
  return `${JSON.stringify(eventJsonSchema(), null, 2)}\n`;
}

async function main(): Promise<void> {
  const expected = renderSchema();
  const relative = path.relative(process.cwd(), SCHEMA_PATH);
  if (process.argv.includes('--check')) {
    const actual = await readFile(SCHEMA_PATH, 'utf8').catch(() => '');
    if (actual !== expected) {
      console.error(`${relative} is out of date: run npx tsx scripts/gen-schema.ts`);
      process.exitCode = 1;
    }
    return;
  }
  await writeFile(SCHEMA_PATH, expected);
  console.log(`wrote ${relative}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
