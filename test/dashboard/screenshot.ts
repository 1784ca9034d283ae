/**
 * Takes the screenshot of docs/dashboard.md from the real page: starts the dashboard on a free port over Gold (a generated
 * fixture, or with --data DIR the warehouse a pipeline run built), opens it in Chromium at a laptop's size
 * and saves a PNG.
 * Usage: npx tsx test/dashboard/screenshot.ts [out.png] [--full] [--data DIR] [--width PX]
 *        (default docs/images/dashboard.png at 1440 px wide)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDashboardServer } from '../../dashboard/server.ts';
import { openGoldReader } from '../../dashboard/warehouse.ts';
import { launchChromium, watchErrors } from './browser.ts';
import { writeGoldFixture } from './gold-fixture.ts';

const args = process.argv.slice(2);
const dataIndex = args.indexOf('--data');
const dataDir = dataIndex >= 0 ? args[dataIndex + 1] : undefined;
const widthIndex = args.indexOf('--width');
const width = widthIndex >= 0 ? Number(args[widthIndex + 1]) : 1440;
if (!Number.isInteger(width) || width < 320) throw new Error(`--width wants a whole number of pixels >= 320`);
const valueOf = new Set([dataIndex + 1, widthIndex + 1].filter((i) => i > 0));
const positional = args.filter((a, i) => !a.startsWith('--') && !valueOf.has(i));
const out = path.resolve(positional[0] ?? 'docs/images/dashboard.png');
const dir = await mkdtemp(path.join(os.tmpdir(), 'mds-dashboard-shot-'));
const file = dataDir
  ? path.join(path.resolve(dataDir), 'warehouse.duckdb')
  : path.join(dir, 'warehouse.duckdb');
if (!dataDir) await writeGoldFixture(file);
const quiet = { info: () => {}, warn: console.warn, error: console.error };
const server = await createDashboardServer({
  warehouse: () => openGoldReader(file),
  release: async (wh) => wh.close?.(),
  log: quiet,
});
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
  const errors = watchErrors(page);
  await page.goto(server.url);
  await page.waitForSelector('body[data-state="ready"]');
  await page.waitForSelector('#wrapped-body[data-state="ready"]');
  await page.screenshot({ path: out, fullPage: process.argv.includes('--full') });
  if (errors.length) console.warn(errors.join('\n'));
  console.log(`saved ${path.relative(process.cwd(), out)}`);
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
