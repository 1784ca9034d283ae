/**
 * The Wrapped period picker in real Chromium over Gold that dbt built: simulated events over three months
 * through the dbt project (embedded runner, DuckDB file), the dashboard server over that file. Picking a
 * period shows that period's Gold rows (gold.user_wrapped, user_wrapped_top), and its numbers differ from
 * all time's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCount, formatMinutes } from '../../lambdas/core/charts/format.js';
import { createDashboardServer, type DashboardServer } from '../../dashboard/server.ts';
import { openGoldReader, type GoldWarehouse } from '../../dashboard/warehouse.ts';
import { runDbt } from '../../localstack/dbt/index.ts';
import { bronzeRows, createBronze, insertBronze } from '../dbt/dataset.ts';
import { DBT_PROJECT } from '../dbt/helpers.ts';
import { launchChromium, watchErrors } from './browser.ts';

type Rows = Record<string, unknown>[];

describe('Wrapped period picker over dbt-built Gold, in Chromium', () => {
  let dir: string;
  let file: string;
  let server: DashboardServer;
  let browser: Browser;

  const read = async <T>(fn: (wh: GoldWarehouse) => Promise<T>): Promise<T> => {
    const wh = await openGoldReader(file);
    try {
      return await fn(wh);
    } finally {
      await wh.close?.();
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mds-wrapped-'));
    file = path.join(dir, 'warehouse.duckdb');
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    try {
      await createBronze(connection);
      const { rows } = bronzeRows({
        seed: 5,
        events: 8_000,
        start: new Date('2025-12-01T00:00:00Z'),
        end: new Date('2026-03-01T00:00:00Z'),
        users: 12,
        songs: 200,
      });
      await insertBronze(connection, rows);
      const build = await runDbt({
        projectDir: DBT_PROJECT,
        connection,
        command: 'build',
        targetDir: path.join(dir, 'target'),
      });
      expect(build.success).toBe(true);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    server = await createDashboardServer({
      warehouse: () => openGoldReader(file),
      release: async (wh) => wh.close?.(),
      log: { info: () => {}, warn: () => {}, error: console.error },
    });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function hero(page: Page): Promise<string> {
    return (await page.textContent('#wrapped-body .hero')) ?? '';
  }

  it('picking a period shows that period of gold.user_wrapped, different from all time', async () => {
    // Prepare: the most active listener and their Gold rows for all time and the last 4 weeks.
    const expected = await read(async (wh) => {
      const [top] = await wh.query<Rows[number]>(
        `SELECT user_id FROM gold.user_wrapped WHERE period = 'all_time' ORDER BY plays DESC, user_id LIMIT 1`,
      );
      const user = top!.user_id as string;
      const row = async (period: string) =>
        (
          await wh.query<Rows[number]>(
            `SELECT plays, streams, minutes_listened FROM gold.user_wrapped WHERE user_id = $1 AND period = $2`,
            [user, period],
          )
        )[0]!;
      const tracks = await wh.query<Rows[number]>(
        `SELECT rank, song_name, artist_name, streams FROM gold.user_wrapped_top
         WHERE user_id = $1 AND period = 'last_4_weeks' AND kind = 'track' ORDER BY rank`,
        [user],
      );
      const periods = await wh.query<Rows[number]>(
        `SELECT period FROM gold.user_wrapped WHERE user_id = $1 ORDER BY period`,
        [user],
      );
      return { user, allTime: await row('all_time'), weeks: await row('last_4_weeks'), tracks, periods };
    });
    expect(expected.periods.map((p) => p.period)).toEqual([
      'all_time',
      'last_4_weeks',
      'last_6_months',
      'year_2025',
      'year_2026',
    ]);
    expect(expected.weeks.streams).toBeLessThan(expected.allTime.streams as number);
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    try {
      const page = await context.newPage();
      const errors = watchErrors(page);
      await page.goto(`${server.url}?user=${encodeURIComponent(expected.user)}`);
      await page.waitForSelector('#wrapped-body[data-state="ready"][data-period="all_time"]');
      expect(await hero(page)).toContain(formatCount(expected.allTime.streams as number));
      expect(await hero(page)).toContain(formatMinutes(expected.allTime.minutes_listened as number));

      // Act
      await page.selectOption('#wrapped-period', 'last_4_weeks');
      await page.waitForSelector('#wrapped-body[data-state="ready"][data-period="last_4_weeks"]');

      // Assess
      const after = await hero(page);
      expect(after).toContain(formatCount(expected.weeks.streams as number));
      expect(after).toContain(formatMinutes(expected.weeks.minutes_listened as number));
      expect(after).not.toContain(formatMinutes(expected.allTime.minutes_listened as number));
      expect(
        await page.$$eval('[data-table="wrappedTopTracks"] tbody tr', (trs) =>
          trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
        ),
      ).toEqual(
        expected.tracks.map((r) => [
          String(r.rank),
          r.song_name,
          r.artist_name,
          formatCount(r.streams as number),
        ]),
      );
      expect(new URL(page.url()).searchParams.get('period')).toBe('last_4_weeks');
      expect(
        await page.$$eval('#wrapped-period option', (os) => os.map((o) => o.getAttribute('value'))),
      ).toEqual(['all_time', 'last_6_months', 'last_4_weeks', 'year_2026', 'year_2025']);
      if (process.env.WRAPPED_SCREENSHOT) {
        await page.locator('#wrapped').screenshot({ path: process.env.WRAPPED_SCREENSHOT });
      }
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
