/**
 * `npm run bench [-- name ...]`: runs every bench/*.bench.ts (or the named ones) one after the other,
 * each printing its figures and ratios. Benchmarks run sequentially so they do not share the two cores.
 */
import '../lambdas/core/polyfills.ts';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = (await readdir(dir)).filter((f) => f.endsWith('.bench.ts')).sort();
const selected = wanted.length ? files.filter((f) => wanted.some((w) => f.startsWith(w))) : files;
if (selected.length === 0) {
  console.error(
    `bench: nothing matches ${wanted.join(', ')}; available: ${files.map((f) => f.replace('.bench.ts', '')).join(', ')}`,
  );
  process.exit(2);
}
for (const f of selected) {
  console.log(`\n=== ${f.replace('.bench.ts', '')} ===`);
  const mod = (await import(path.join(dir, f))) as { default: () => Promise<void> };
  await mod.default();
}
