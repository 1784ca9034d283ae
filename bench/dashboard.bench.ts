/**
 * Dashboard figures: how long the overview API and a full page load in Chromium take over a month of Gold
 * built from about a million events, what the lazy per-request open of the DuckDB file costs, and how
 * large and fast the static run report is (SVG charts against an inlined ECharts).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { renderRunReport } from '../dashboard/report.ts';
import { createDashboardServer } from '../dashboard/server.ts';
import { openGoldReader } from '../dashboard/warehouse.ts';
import { launchChromium } from '../test/dashboard/browser.ts';
import { writeGoldFixture } from '../test/dashboard/gold-fixture.ts';
import { succeeded } from '../test/dashboard/run-summaries.ts';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

export default async function (): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mds-dashboard-bench-'));
  const file = path.join(dir, 'warehouse.duckdb');
  const quiet = { info: () => {}, warn: () => {}, error: console.error };
  try {
    let t = performance.now();
    await writeGoldFixture(file, 'full', { users: 2000, days: 30 });
    console.log(`fixture (2,000 users, 30 days) built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const lazy = await createDashboardServer({
      warehouse: () => openGoldReader(file),
      release: async (wh) => wh.close?.(),
      log: quiet,
    });
    const get = (url: string) => fetch(url).then((r) => r.arrayBuffer());
    // The lazy server opens and closes the file per request; measured while nothing else holds it open
    // (the adapter shares an open instance within a process, which would hide the cost of opening).
    await get(`${lazy.url}api/overview`);
    const lazyMs = await timeIt(7, () => get(`${lazy.url}api/overview`));
    const shared = await openGoldReader(file);
    const [{ events }] = (await shared.query(
      `SELECT SUM(events)::BIGINT AS events FROM gold.plays_per_hour`,
    )) as [{ events: number }];
    console.log(`Gold over ${events.toLocaleString('en-US')} events`);

    const open = await createDashboardServer({ warehouse: async () => shared, log: quiet });
    await get(`${open.url}api/overview`);
    const openMs = await timeIt(7, () => get(`${open.url}api/overview`));
    const wrappedMs = await timeIt(7, () => get(`${open.url}api/wrapped/user-0001`));
    console.log(`GET /api/overview (all 30 days), file opened per request: median ${lazyMs.toFixed(0)} ms`);
    console.log(`GET /api/overview, warehouse already open:               median ${openMs.toFixed(0)} ms`);
    console.log(`  ratio lazy/open: ${(lazyMs / openMs).toFixed(2)}`);
    console.log(`GET /api/wrapped/<user>, warehouse already open:         median ${wrappedMs.toFixed(0)} ms`);
    await open.close();
    await shared.close?.();

    const browser = await launchChromium();
    try {
      const loads: number[] = [];
      for (let i = 0; i < 3; i++) {
        const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
        t = performance.now();
        await page.goto(lazy.url);
        await page.waitForSelector('body[data-state="ready"]');
        await page.waitForSelector('#wrapped-body[data-state="ready"]');
        loads.push(performance.now() - t);
        await page.close();
      }
      console.log(
        `page load to every chart and Wrapped drawn (Chromium, lazy open): median ${median(loads).toFixed(0)} ms`,
      );
    } finally {
      await browser.close();
    }
    await lazy.close();

    const renders: number[] = [];
    let html = '';
    for (let i = 0; i < 50; i++) {
      t = performance.now();
      html = renderRunReport(succeeded);
      renders.push(performance.now() - t);
    }
    const echartsPath = path.join(
      path.dirname(createRequire(import.meta.url).resolve('echarts')),
      'echarts.min.js',
    );
    const echartsBytes = (await readFile(echartsPath)).length;
    const reportBytes = Buffer.byteLength(html);
    console.log(
      `renderRunReport: median ${median(renders).toFixed(2)} ms, ${(reportBytes / 1024).toFixed(1)} KiB`,
    );
    console.log(
      `  an inlined echarts.min.js alone is ${(echartsBytes / 1024).toFixed(0)} KiB: ` +
        `${((reportBytes + echartsBytes) / reportBytes).toFixed(0)}x the SVG report`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
