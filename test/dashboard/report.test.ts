/**
 * The static run report: rendered from a run summary, written to a file and opened from a file:// URL in
 * Chromium with no server, it shows the numbers of the summary and needs nothing from the network. Its charts
 * (the dashboard's definitions, rendered to SVG by echarts) are read back from what Chromium draws: each
 * mark's position against the chart's own value axis gives its value, which must be the summary's.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRunReport } from '../../lambdas/core/report.ts';
import type { RunSummary } from '../../lambdas/core/run-summary.ts';
import { failed, hourly, succeeded } from './run-summaries.ts';
import { launchChromium, watchErrors } from './browser.ts';

interface Drawn {
  readonly texts: { text: string; x: number; y: number }[];
  /** The data marks (bars, line symbols) in data order: their box in page pixels. */
  readonly marks: { series: number; index: number; left: number; right: number; x: number; y: number }[];
}

/** The texts and data marks echarts drew into one chart of the report, as Chromium lays them out. */
async function drawn(page: Page, chart: string): Promise<Drawn> {
  return page.$eval(`figure[data-chart="${chart}"] svg`, (svg) => ({
    texts: Array.from(svg.querySelectorAll('text'), (t) => {
      const r = t.getBoundingClientRect();
      return { text: t.textContent ?? '', x: r.x + r.width / 2, y: r.y + r.height / 2 };
    }),
    marks: Array.from(svg.querySelectorAll('[ecmeta_ssr_type="chart"]'), (m) => {
      const r = m.getBoundingClientRect();
      return {
        series: Number(m.getAttribute('ecmeta_series_index')),
        index: Number(m.getAttribute('ecmeta_data_index')),
        left: r.left,
        right: r.right,
        x: r.x + r.width / 2,
        y: r.y + r.height / 2,
      };
    }).sort((a, b) => a.series - b.series || a.index - b.index),
  }));
}

const axisNumber = (text: string): number => Number(text.replace(/,/g, '').replace(/ s$/, ''));

/**
 * Reads each mark's value off the chart's value axis: the axis labels' positions and numbers give the scale.
 * `along` is 'x' for horizontal bars (value at the bar's end) and 'y' for a line (value at the symbol).
 */
function readValues(d: Drawn, along: 'x' | 'y'): { values: number[]; perPixel: number } {
  const marks = d.marks.filter((m) => m.series === 0);
  const numeric = d.texts.filter((t) => t.text !== '' && Number.isFinite(axisNumber(t.text)));
  const axis =
    along === 'x'
      ? numeric.filter((t) => t.y > Math.max(...marks.map((m) => m.y)) + 8)
      : numeric.filter((t) => t.x < Math.min(...marks.map((m) => m.left)));
  expect(axis.length).toBeGreaterThanOrEqual(2);
  const pos = (p: { x: number; y: number }) => (along === 'x' ? p.x : p.y);
  const [a, b] = [axis[0]!, axis[axis.length - 1]!];
  const perPixel = (axisNumber(b.text) - axisNumber(a.text)) / (pos(b) - pos(a));
  const values = marks.map((m) => axisNumber(a.text) + ((along === 'x' ? m.right : m.y) - pos(a)) * perPixel);
  return { values, perPixel: Math.abs(perPixel) };
}

/** The value read off the chart is the summary's, to within a pixel and a half of the axis. */
function expectValues(d: Drawn, along: 'x' | 'y', expected: readonly number[]): void {
  const { values, perPixel } = readValues(d, along);
  expect(values).toHaveLength(expected.length);
  values.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(perPixel * 1.5));
}

/** The category labels of a horizontal bar chart, top to bottom: the texts left of the bars. */
function categories(d: Drawn): string[] {
  const left = Math.min(...d.marks.map((m) => m.left));
  return d.texts
    .filter((t) => t.x < left && t.y < Math.max(...d.marks.map((m) => m.y)) + 8)
    .map((t) => t.text);
}

describe('static run report', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mds-report-'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function tableRows(page: Page, selector: string): Promise<string[][]> {
    return page.$$eval(`${selector} tbody tr`, (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
    );
  }

  async function openReport(
    summary: RunSummary,
  ): Promise<{ page: Page; errors: string[]; requests: string[] }> {
    const file = path.join(dir, `${summary.status}.html`);
    await writeFile(file, renderRunReport(summary));
    const page = await browser.newPage();
    const errors = watchErrors(page);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    return { page, errors, requests };
  }

  it('opens from a file with no console errors, loads nothing else, and shows the run numbers', async () => {
    // Act
    const { page, errors, requests } = await openReport(succeeded);

    // Assess
    expect(errors).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(await page.getAttribute('[data-status]', 'data-status')).toBe('SUCCEEDED');
    expect(await page.textContent('[data-window]')).toBe('23 Nov 2026 13:00 UTC → 23 Nov 2026 14:00 UTC');
    const kpis = await page.$$eval('.kpi b', (bs) => bs.map((b) => b.textContent));
    expect(kpis).toEqual(['12,480', '20', '12,480', '12,431']);
    const checks = await page.$$eval('[data-table="reconciliation"] tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)),
    );
    expect(checks).toEqual([
      ['landed = loaded', '12,480', '12,480', '✓ ok', ''],
      ['modelled <= loaded', '12,480', '12,431', '✓ ok', '49 duplicates removed'],
    ]);
    expect(await page.textContent('[data-table="loader"] tbody')).toContain('12,480');
    const folds = await page.$$eval('[data-dbt-kind]', (ds) =>
      ds.map((d) => [d.getAttribute('data-dbt-kind'), d.getAttribute('data-passed')]),
    );
    expect(folds).toEqual([
      ['model', '2'],
      ['test', '1'],
    ]);
    expect(await page.$$eval('[data-table="dbt-problems"]', (ts) => ts.length)).toBe(0);
    expect(await page.textContent('body')).toContain('took 12.5 s');
  });

  it('draws plays per hour, top tracks, top artists and step timings with the summary values', async () => {
    // Act
    const { page } = await openReport(succeeded);
    const g = succeeded.gold!;

    // Assess
    const perHour = await drawn(page, 'playsPerHour');
    expectValues(
      perHour,
      'y',
      g.playsPerHour.map((r) => r.plays),
    );
    const tracks = await drawn(page, 'topTracks');
    expect(categories(tracks)).toEqual(g.topTracks.map((t) => `${t.song_name} — ${t.artist_name}`));
    expectValues(
      tracks,
      'x',
      g.topTracks.map((t) => t.streams),
    );
    const artists = await drawn(page, 'topArtists');
    expect(categories(artists)).toEqual(g.topArtists.map((a) => a.artist_name));
    expectValues(
      artists,
      'x',
      g.topArtists.map((a) => a.streams),
    );
    const steps = await drawn(page, 'stepSeconds');
    expect(categories(steps)).toEqual(Object.keys(succeeded.stepSeconds));
    expectValues(steps, 'x', Object.values(succeeded.stepSeconds));
  });

  it('leads with status and reconciliation and folds 104 dbt nodes into a count per kind', async () => {
    // Prepare: the same hour with one test that warns
    const results = hourly.dbt!.results.map((r, i) =>
      i === 20 ? { ...r, status: 'warn', message: 'Got 3 results, configured to warn if != 0' } : r,
    );
    const warned: RunSummary = { ...hourly, dbt: { status: 'success', results } };

    // Act
    const { page, errors } = await openReport(warned);

    // Assess
    expect(errors).toEqual([]);
    const folds = await page.$$eval('[data-dbt-kind]', (ds) =>
      ds.map((d) => [d.getAttribute('data-dbt-kind'), d.getAttribute('data-passed'), d.hasAttribute('open')]),
    );
    expect(folds).toEqual([
      ['model', '17', false],
      ['test', '86', false],
    ]);
    expect(await tableRows(page, '[data-table="dbt-problems"]')).toEqual([
      [results[20]!.unique_id, 'warn', '0.0 s', 'Got 3 results, configured to warn if != 0'],
    ]);
    // What a person checks is on the first screen; the passing tests are not until asked for.
    const top = (sel: string) => page.$eval(sel, (e) => e.getBoundingClientRect().bottom);
    expect(await top('[data-section="reconciliation"]')).toBeLessThan(900);
    expect(await top('[data-table="dbt-problems"]')).toBeLessThan(900);
    const testNodes = page.locator('[data-dbt-kind="test"] li');
    expect(await testNodes.count()).toBe(86);
    expect(await testNodes.first().isVisible()).toBe(false);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    expect(height).toBeLessThan(1600);

    // Act: open the passing tests
    await page.click('[data-dbt-kind="test"] summary');

    // Assess
    expect(await testNodes.first().isVisible()).toBe(true);
    expect(await testNodes.first().textContent()).toContain(
      hourly.dbt!.results.find((r) => r.status === 'pass')!.unique_id.split('.')[2],
    );
  });

  it('shows a failure, its cause and the failed checks, with every summary string escaped', async () => {
    // Act
    const { page, errors } = await openReport(failed);

    // Assess
    expect(errors).toEqual([]);
    expect(await page.getAttribute('[data-status]', 'data-status')).toBe('FAILED');
    const failure = await page.textContent('[data-section="failure"]');
    expect(failure).toContain('DbtError in state DbtBuild');
    expect(failure).toContain('<img src=x onerror=alert(1)>');
    expect(await page.textContent('[data-table="reconciliation"]')).toContain('✗ mismatch');
    expect(await page.textContent('h1')).toContain('run-<script>alert(1)</script>');
    expect(await page.$$eval('script, img', (els) => els.length)).toBe(0);
    expect(await page.textContent('[data-section="dbt"]')).toContain('Binder Error: <x>');

    // Act: names in Gold reach the charts' SVG text
    const artist = '<img src=x onerror=alert(1)>';
    const named = await openReport({
      ...succeeded,
      gold: { ...succeeded.gold!, topArtists: [{ artist_name: artist, streams: 5 }] },
    });

    // Assess
    expect(named.errors).toEqual([]);
    expect(categories(await drawn(named.page, 'topArtists'))).toEqual([artist]);
    expect(await named.page.$$eval('script, img', (els) => els.length)).toBe(0);
  });
});
