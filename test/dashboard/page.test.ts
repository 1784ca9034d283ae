/**
 * The dashboard page in real Chromium over a generated Gold: it loads without console errors, every chart
 * and table shows exactly the Gold rows (checked against SQL written here, independently of the server),
 * the date filter and the user picker work, and empty or unreachable Gold becomes an explanation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { formatCount, formatMinutes, formatPercent } from '../../lambdas/core/charts/format.js';
import { launchChromium, watchErrors } from './browser.ts';
import { AWKWARD_USER } from './gold-fixture.ts';
import { startHarness, type Harness } from './helpers.ts';

type Rows = Record<string, unknown>[];

interface ChartData {
  /** Each series' data, as the chart holds it. */
  readonly series: unknown[][];
  /** The first x and y axes' category labels, when they have any. */
  readonly xCategories: unknown[] | null;
  readonly yCategories: unknown[] | null;
}

async function chart(page: Page, name: string): Promise<ChartData> {
  return page.evaluate((n) => {
    type Opt = {
      series: { data: unknown[] }[];
      xAxis?: { data?: unknown[] }[];
      yAxis?: { data?: unknown[] }[];
    };
    const charts = (window as unknown as { __charts: Record<string, { getOption(): Opt }> }).__charts;
    const o = charts[n]!.getOption();
    return {
      series: o.series.map((s) => s.data),
      xCategories: o.xAxis?.[0]?.data ?? null,
      yCategories: o.yAxis?.[0]?.data ?? null,
    };
  }, name);
}

/** Name/value pairs of the data items of a chart's first series. */
async function items(page: Page, name: string): Promise<[unknown, unknown][]> {
  const c = await chart(page, name);
  return (c.series[0] as { name: unknown; value: unknown }[]).map((d) => [d.name, d.value]);
}

async function tableCells(page: Page, selector: string): Promise<string[][]> {
  return page.$$eval(`${selector} tbody tr`, (trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
  );
}

describe('dashboard page in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    h = await startHarness();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });
  beforeEach(async (ctx) => {
    h.target = h.full;
    h.log.length = 0;
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    errors = watchErrors(page);
    ctx.onTestFinished(() => context.close());
  });

  async function open(query = ''): Promise<void> {
    await page.goto(`${h.server.url}${query}`);
    await page.waitForSelector('body:not([data-state="loading"])');
  }

  it('loads with no console errors and every overview chart equals its Gold rows', async () => {
    // Prepare
    const expected = await h.read(h.full, async (wh) => ({
      hours: await wh.query<Rows[number]>(
        `SELECT hour_start, plays, skips FROM gold.plays_per_hour ORDER BY hour_start`,
      ),
      // The range's top 10 straight from Silver: streams, then minutes, then listener-days, then the id.
      tracks: await wh.query<Rows[number]>(
        `WITH d AS (
           SELECT CAST(event_timestamp AS DATE), song_id, song_name, artist_name,
                  COUNT(*) FILTER (WHERE event_type = 'play' AND duration_ms >= 30000) AS streams,
                  SUM(duration_ms) FILTER (WHERE event_type = 'play') AS ms, COUNT(DISTINCT user_id) AS l
           FROM silver.stg_spotify__events GROUP BY ALL)
         SELECT song_name || ' — ' || artist_name AS name, SUM(streams)::BIGINT AS value FROM d
         GROUP BY song_id, song_name, artist_name HAVING SUM(streams) > 0
         ORDER BY value DESC, SUM(ms) DESC, SUM(l) DESC, song_id LIMIT 10`,
      ),
      artists: await wh.query<Rows[number]>(
        `WITH d AS (
           SELECT CAST(event_timestamp AS DATE), artist_name,
                  COUNT(*) FILTER (WHERE event_type = 'play' AND duration_ms >= 30000) AS streams,
                  SUM(duration_ms) FILTER (WHERE event_type = 'play') AS ms, COUNT(DISTINCT user_id) AS l
           FROM silver.stg_spotify__events GROUP BY ALL)
         SELECT artist_name AS name, SUM(streams)::BIGINT AS value FROM d
         GROUP BY artist_name HAVING SUM(streams) > 0
         ORDER BY value DESC, SUM(ms) DESC, SUM(l) DESC, artist_name LIMIT 10`,
      ),
      devices: await wh.query<Rows[number]>(
        `SELECT device_type AS name, SUM(events)::BIGINT AS value FROM gold.device_mix
         GROUP BY device_type ORDER BY value DESC, name`,
      ),
      countries: await wh.query<Rows[number]>(
        `SELECT country AS name, SUM(events)::BIGINT AS value FROM gold.country_mix
         GROUP BY country ORDER BY value DESC, name LIMIT 15`,
      ),
      hourly: await wh.query<Rows[number]>(
        `SELECT hour_of_day, plays, skip_rate FROM gold.hourly_listening_preferences ORDER BY hour_of_day`,
      ),
      artistSkips: await wh.query<Rows[number]>(
        `SELECT artist_name AS name, skip_rate AS value FROM gold.artist_skip_rates WHERE plays >= 5
         ORDER BY skip_rate DESC, plays DESC, artist_name LIMIT 10`,
      ),
      songSkips: await wh.query<Rows[number]>(
        `SELECT song_name, artist_name, plays, skips, skip_rate FROM gold.song_skip_rates WHERE plays >= 5
         ORDER BY skip_rate DESC, plays DESC, song_id LIMIT 10`,
      ),
      popularity: await wh.query<Rows[number]>(
        `SELECT bucket AS name, songs AS value FROM gold.song_popularity_distribution ORDER BY bucket_order`,
      ),
      streaks: await wh.query<Rows[number]>(
        `SELECT user_id, artist_name, streak_length FROM gold.artist_streaks
         ORDER BY streak_length DESC, streak_start, user_id LIMIT 10`,
      ),
      sources: await wh.query<Rows[number]>(
        `SELECT source, COUNT(*)::BIGINT AS events FROM silver.stg_spotify__events
         GROUP BY source ORDER BY events DESC, source`,
      ),
      totals: (
        await wh.query<Rows[number]>(
          `SELECT SUM(plays)::BIGINT AS plays, SUM(minutes_listened) AS minutes,
                  (SELECT COUNT(*) FROM gold.listening_sessions) AS sessions,
                  (SELECT COUNT(DISTINCT user_id) FROM gold.listening_sessions) AS listeners
           FROM gold.plays_per_hour`,
        )
      )[0]!,
    }));

    // Act
    await open();

    // Assess
    expect(errors).toEqual([]);
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    // The page says which sources the data came from, with Silver's events of each, visibly.
    expect(expected.sources.map((r) => r.source)).toEqual(['simulator', 'spotify_history']);
    expect(await page.isVisible('#sources')).toBe(true);
    expect(await page.textContent('#sources-list')).toBe(
      expected.sources
        .map(
          (r) =>
            `${r.source === 'simulator' ? 'Simulator' : 'Spotify streaming history'} ${formatCount(Number(r.events))} events`,
        )
        .join(' · '),
    );
    const perHour = await chart(page, 'playsPerHour');
    expect(perHour.series[0]).toEqual(expected.hours.map((r) => [r.hour_start, r.plays]));
    expect(perHour.series[1]).toEqual(expected.hours.map((r) => [r.hour_start, r.skips]));
    expect(await items(page, 'topTracks')).toEqual(expected.tracks.map((r) => [r.name, r.value]));
    expect(await items(page, 'topArtists')).toEqual(expected.artists.map((r) => [r.name, r.value]));
    expect(await items(page, 'deviceMix')).toEqual(expected.devices.map((r) => [r.name, r.value]));
    expect(await items(page, 'countryMix')).toEqual(expected.countries.map((r) => [r.name, r.value]));
    expect(await items(page, 'artistSkipRates')).toEqual(expected.artistSkips.map((r) => [r.name, r.value]));
    expect(await items(page, 'popularity')).toEqual(expected.popularity.map((r) => [r.name, r.value]));
    const hourly = await chart(page, 'hourlyPreferences');
    expect(hourly.xCategories).toEqual(expected.hourly.map((r) => String(r.hour_of_day).padStart(2, '0')));
    expect(hourly.series[0]).toEqual(expected.hourly.map((r) => r.plays));
    expect(hourly.series[1]).toEqual(expected.hourly.map((r) => r.skip_rate));
    expect(await tableCells(page, '[data-table="songSkipRates"]')).toEqual(
      expected.songSkips.map((r) => [
        r.song_name,
        r.artist_name,
        formatCount(r.plays as number),
        formatCount(r.skips as number),
        formatPercent(r.skip_rate as number),
      ]),
    );
    expect((await tableCells(page, '[data-table="streaks"]')).map((r) => r.slice(0, 3))).toEqual(
      expected.streaks.map((r) => [r.user_id, r.artist_name, formatCount(r.streak_length as number)]),
    );
    const t = expected.totals;
    expect(await page.textContent('[data-kpi="plays"] b')).toBe(formatCount(t.plays as number));
    expect(await page.textContent('[data-kpi="minutes"] b')).toBe(formatMinutes(t.minutes as number));
    expect(await page.textContent('[data-kpi="sessions"] b')).toBe(formatCount(t.sessions as number));
    expect(await page.textContent('[data-kpi="listeners"] b')).toBe(formatCount(t.listeners as number));
  });

  it('filters by date range: one day shows only that day, in the charts and in the address', async () => {
    // Prepare
    const day = '2026-11-21';
    const expected = await h.read(h.full, async (wh) => ({
      hours: await wh.query<Rows[number]>(
        `SELECT hour_start, plays FROM gold.plays_per_hour WHERE CAST(hour_start AS DATE) = $1 ORDER BY hour_start`,
        [day],
      ),
      tracks: await wh.query<Rows[number]>(
        `SELECT song_name || ' — ' || artist_name AS name, streams AS value FROM gold.top_tracks_daily
         WHERE event_date = $1 ORDER BY rank LIMIT 10`,
        [day],
      ),
    }));
    await open();

    // Act
    await page.fill('#from', day);
    await page.fill('#to', day);
    await page.click('#filters button[type="submit"]');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('from') === '2026-11-21');
    await page.waitForSelector('body[data-state="ready"]');

    // Assess
    expect((await chart(page, 'playsPerHour')).series[0]).toEqual(
      expected.hours.map((r) => [r.hour_start, r.plays]),
    );
    expect(await items(page, 'topTracks')).toEqual(expected.tracks.map((r) => [r.name, r.value]));
    expect(await page.isVisible('#message')).toBe(false);
    expect(errors).toEqual([]);
  });

  it('says so when the date range holds no data, and draws no empty charts', async () => {
    // Act
    await open('?from=2020-01-01&to=2020-01-31');

    // Assess
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    const message = await page.textContent('#message');
    expect(message).toContain('No listening between 1 Jan 2020 and 31 Jan 2020 (UTC)');
    expect(message).toContain('Gold has data from 20 Nov 2026 to 22 Nov 2026');
    expect(await page.textContent('[data-none="playsPerHour"]')).toContain('No plays in these dates');
    expect(await page.textContent('[data-kpi="plays"] b')).toBe('0');
    expect(errors).toEqual([]);
  });

  it('rejects a malformed date range with a message from the server, which keeps serving', async () => {
    // Act
    await open('?from=2026-11-22&to=2026-11-20');

    // Assess
    expect(await page.getAttribute('body', 'data-state')).toBe('error');
    expect(await page.textContent('#message')).toContain('"from" (2026-11-22) is after "to" (2026-11-20)');
    expect(h.log.some((e) => e.level === 'warn' && String(e.fields?.error).includes('is after'))).toBe(true);
    const status = await fetch(new URL('/api/status', h.server.url));
    expect(status.status).toBe(200);
  });

  it("changes the Wrapped view when another user is picked, and shows that user's Gold rows", async () => {
    // Prepare
    const users = await h.read(h.full, (wh) =>
      wh.query<Rows[number]>(
        `SELECT user_id FROM gold.user_wrapped WHERE period = 'all_time' ORDER BY plays DESC, user_id LIMIT 2`,
      ),
    );
    const second = users[1]!.user_id as string;
    const expected = await h.read(h.full, async (wh) => ({
      user: (
        await wh.query<Rows[number]>(
          `SELECT * FROM gold.user_wrapped WHERE user_id = $1 AND period = 'all_time'`,
          [second],
        )
      )[0]!,
      artists: await wh.query<Rows[number]>(
        `SELECT artist_name, streams FROM gold.user_wrapped_top
         WHERE user_id = $1 AND period = 'all_time' AND kind = 'artist' ORDER BY rank`,
        [second],
      ),
      tracks: await wh.query<Rows[number]>(
        `SELECT rank, song_name, artist_name, streams FROM gold.user_wrapped_top
         WHERE user_id = $1 AND period = 'all_time' AND kind = 'track' ORDER BY rank`,
        [second],
      ),
    }));
    await open();
    await page.waitForSelector('#wrapped-body[data-state="ready"]');
    expect(await page.getAttribute('#wrapped-body', 'data-user')).toBe(users[0]!.user_id);

    // Act
    await page.selectOption('#user-select', second);
    await page.waitForSelector(`#wrapped-body[data-state="ready"][data-user="${second}"]`);

    // Assess
    const hero = await page.textContent('#wrapped-body .hero');
    expect(hero).toContain(formatMinutes(expected.user.minutes_listened as number));
    expect(hero).toContain(formatCount(expected.user.streams as number));
    expect(await items(page, 'wrappedTopArtists')).toEqual(
      expected.artists.map((r) => [r.artist_name, r.streams]),
    );
    expect(await tableCells(page, '[data-table="wrappedTopTracks"]')).toEqual(
      expected.tracks.map((r) => [
        String(r.rank),
        r.song_name,
        r.artist_name,
        formatCount(r.streams as number),
      ]),
    );
    expect(new URL(page.url()).searchParams.get('user')).toBe(second);
    expect(errors).toEqual([]);
  });

  it('finds users by search and renders an id with HTML and URL special characters as text', async () => {
    // Prepare
    await open();

    // Act
    await page.fill('#user-search', 'brien');
    await page.waitForFunction(() => document.querySelectorAll('#user-select option').length === 1);
    await page.selectOption('#user-select', AWKWARD_USER);
    await page.waitForSelector('#wrapped-body[data-state="ready"] [data-wrapped-user]');

    // Assess
    expect(await page.getAttribute('[data-wrapped-user]', 'data-wrapped-user')).toBe(AWKWARD_USER);
    expect(
      await page.$$eval(
        '#wrapped-body b, #wrapped-body script',
        (els) => els.filter((e) => e.tagName === 'SCRIPT').length,
      ),
    ).toBe(0);
    expect(errors).toEqual([]);
  });

  it('shows a clear message for an unknown user; the rest of the page keeps working', async () => {
    // Prepare
    await open();

    // Act
    await page.fill('#user-search', 'nobody-listens-here');
    await page.press('#user-search', 'Enter');
    await page.waitForSelector('#wrapped-body[data-state="not-found"]');

    // Assess
    expect(await page.textContent('#wrapped-body')).toContain(
      'No listening history for user "nobody-listens-here"',
    );
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    expect(h.log.some((e) => e.level === 'warn' && e.fields?.status === 404)).toBe(true);
    // The only console error is Chromium reporting the 404 response itself.
    expect(errors.every((e) => e.includes('404'))).toBe(true);
  });

  it('explains an empty Gold (tables built, no rows) instead of showing broken charts', async () => {
    // Prepare
    h.target = h.empty;

    // Act
    await open();

    // Assess
    expect(await page.getAttribute('body', 'data-state')).toBe('empty');
    expect(await page.isVisible('#empty')).toBe(true);
    expect(await page.isVisible('main')).toBe(false);
    expect(await page.textContent('#empty')).toContain('npx mds local up --once');
    expect(await page.textContent('#empty-detail')).toContain('hold no plays yet');
    expect(errors).toEqual([]);
  });

  it('explains a first start (no Gold schema yet) and names the missing tables', async () => {
    // Prepare
    h.target = h.noGold;

    // Act
    await open();

    // Assess
    expect(await page.getAttribute('body', 'data-state')).toBe('empty');
    expect(await page.textContent('#empty-detail')).toContain('plays_per_hour');
    expect(errors).toEqual([]);
  });

  it('reports a missing warehouse file on the page and in the log, then recovers once it exists', async () => {
    // Prepare
    h.target = path.join(h.dir, 'not-there.duckdb');

    // Act
    await open();

    // Assess
    expect(await page.getAttribute('body', 'data-state')).toBe('error');
    expect(await page.textContent('#message')).toContain('does not exist yet');
    expect(await page.textContent('#message')).toContain('npx mds local up --once');
    expect(
      h.log.some((e) => e.level === 'error' && String(e.fields?.error).includes('does not exist yet')),
    ).toBe(true);

    // Act: the file appears, the user presses "Try again" on the same page
    h.target = h.full;
    await page.click('#message button');
    await page.waitForSelector('body[data-state="ready"]');

    // Assess
    expect(await page.isVisible('#message')).toBe(false);
    expect(errors.every((e) => e.includes('503'))).toBe(true);
  });

  describe('with the warehouse file locked by another process', () => {
    let holder: ChildProcess | undefined;
    afterAll(() => {
      holder?.kill();
    });

    it('says the file is locked, on the page and in the log, and the server keeps running', async () => {
      // Prepare: another process opens a copy of the warehouse for writing and keeps it open
      const locked = path.join(h.dir, 'locked.duckdb');
      await copyFile(h.full, locked);
      holder = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { DuckDBInstance } from '@duckdb/node-api';
           const db = await DuckDBInstance.create(process.argv[1]);
           await db.connect();
           console.log('holding');
           setInterval(() => {}, 1000);`,
          locked,
        ],
        { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve, reject) => {
        holder!.stdout!.once('data', () => resolve());
        holder!.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
      });
      h.target = locked;

      // Act
      await open();

      // Assess
      expect(await page.getAttribute('body', 'data-state')).toBe('error');
      expect(await page.textContent('#message')).toContain('is in use by another process');
      expect(
        h.log.some(
          (e) => e.level === 'error' && String(e.fields?.error).includes('in use by another process'),
        ),
      ).toBe(true);

      // Act: the other process finishes
      holder.kill();
      await new Promise((resolve) => holder!.once('exit', resolve));
      await page.click('#message button');
      await page.waitForSelector('body[data-state="ready"]');

      // Assess
      expect(await page.textContent('[data-kpi="plays"] b')).not.toBe('–');
    });
  });
});
