/**
 * Every text the dashboard's charts draw (axis labels, legends, value labels) lies fully inside its chart, at
 * laptop widths and at a narrow one, over three days of listening and over a short morning whose last hour
 * sits exactly on an axis tick: the shape that used to cut the last "plays per hour" label in half.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watchErrors } from './browser.ts';
import { drawnTexts } from './chart-bounds.ts';
import { startHarness, type Harness } from './helpers.ts';

/** Six hours of a quiet test stack: single-digit counts, the last hour on a tick of the hourly axis. */
const MORNING_HOURS = ['06', '07', '08', '09', '10', '11'].map((hh) => `21 Nov ${hh}:00`);

async function writeQuietMorning(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  const instance = await DuckDBInstance.create(to);
  const db = await instance.connect();
  try {
    await db.run(
      `DELETE FROM gold.plays_per_hour
       WHERE hour_start < TIMESTAMP '2026-11-21 06:00' OR hour_start > TIMESTAMP '2026-11-21 11:00'`,
    );
    await db.run(`UPDATE gold.plays_per_hour SET plays = 1 + plays % 9, skips = skips % 2`);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

/** The same listening a thousand times over: seven-digit counts make the widest value and axis labels. */
async function writeBusyCopy(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  const instance = await DuckDBInstance.create(to);
  const db = await instance.connect();
  try {
    for (const [table, columns] of [
      ['plays_per_hour', ['plays', 'skips']],
      ['top_tracks_daily', ['plays']],
      ['top_artists_daily', ['plays']],
      ['device_mix', ['events']],
      ['country_mix', ['events']],
      ['hourly_listening_preferences', ['plays']],
      ['song_popularity_distribution', ['songs']],
      ['user_top_artists', ['plays']],
    ] as const) {
      await db.run(`UPDATE gold.${table} SET ${columns.map((c) => `${c} = ${c} * 1000`).join(', ')}`);
    }
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

describe('chart text stays inside its chart', () => {
  let h: Harness;
  let browser: Browser;
  let morning: string;
  let busy: string;

  beforeAll(async () => {
    h = await startHarness();
    morning = path.join(h.dir, 'morning.duckdb');
    await writeQuietMorning(h.full, morning);
    busy = path.join(h.dir, 'busy.duckdb');
    await writeBusyCopy(h.full, busy);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  for (const width of [1440, 1280, 800]) {
    for (const data of ['three days', 'a quiet morning', 'a busy three days'] as const) {
      it(`over ${data} at ${width} px wide`, async () => {
        // Prepare
        h.target = { 'three days': h.full, 'a quiet morning': morning, 'a busy three days': busy }[data];
        const context = await browser.newContext({ viewport: { width, height: 900 } });
        try {
          const page = await context.newPage();
          const errors = watchErrors(page);

          // Act
          await page.goto(h.server.url);
          await page.waitForSelector('body[data-state="ready"]');
          await page.waitForSelector('#wrapped-body[data-state="ready"]');
          const { all, clipped } = await drawnTexts(page);

          // Assess
          expect(errors).toEqual([]);
          const charts = new Set(all.map((t) => t.chart));
          expect([...charts].sort()).toEqual(
            [
              'artistSkipRates',
              'countryMix',
              'deviceMix',
              'hourlyPreferences',
              'playsPerHour',
              'popularity',
              'topArtists',
              'topTracks',
              'wrappedClock',
              'wrappedTopArtists',
            ].sort(),
          );
          expect(clipped).toEqual([]);
          if (data === 'a quiet morning') {
            // Nothing may be "fixed" by hiding the edge labels: every hour, first and last, is labelled.
            const hourLabels = all.filter((t) => t.chart === 'playsPerHour').map((t) => t.text);
            expect(hourLabels).toEqual(expect.arrayContaining(MORNING_HOURS));
          }
        } finally {
          await context.close();
        }
      });
    }
  }
});
