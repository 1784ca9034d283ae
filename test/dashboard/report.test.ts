/**
 * The static run report: rendered from a run summary, written to a file and opened from a file:// URL in
 * Chromium with no server, it shows the numbers of the summary and needs nothing from the network.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRunReport } from '../../dashboard/report.ts';
import type { RunSummary } from '../../lambdas/core/run-summary.ts';
import { failed, succeeded } from './run-summaries.ts';
import { launchChromium, watchErrors } from './browser.ts';

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
    expect(await page.$$eval('[data-table="dbt"] tbody tr', (trs) => trs.length)).toBe(3);
    expect(await page.textContent('body')).toContain('took 12.5 s');
  });

  it('draws plays per hour, top tracks, top artists and step timings with the summary values', async () => {
    // Act
    const { page } = await openReport(succeeded);
    const values = (chart: string) =>
      page.$$eval(`svg[data-chart="${chart}"] g[data-value]`, (gs) =>
        gs.map((g) => [g.getAttribute('data-label'), Number(g.getAttribute('data-value'))]),
      );

    // Assess
    expect((await values('playsPerHour')).map(([, v]) => v)).toEqual(
      succeeded.gold!.playsPerHour.map((r) => r.plays),
    );
    expect(await values('topTracks')).toEqual(
      succeeded.gold!.topTracks.map((t) => [`${t.song_name} — ${t.artist_name}`, t.plays]),
    );
    expect(await values('topArtists')).toEqual(
      succeeded.gold!.topArtists.map((a) => [a.artist_name, a.plays]),
    );
    expect(await values('stepSeconds')).toEqual(Object.entries(succeeded.stepSeconds));
    const bars = await page.$$eval('svg[data-chart="topArtists"] rect', (rs) =>
      rs.map((r) => r.getBoundingClientRect().width),
    );
    expect(bars[0]).toBeGreaterThan(bars[1]!);
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
  });
});
