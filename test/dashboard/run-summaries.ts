// Run summaries for the report tests: one clean run, one failed run whose strings try to inject HTML.
import type { RunSummary } from '../../lambdas/core/run-summary.ts';
import { GOLD_TABLES } from '../../dashboard/gold.ts';

export const succeeded: RunSummary = {
  runId: 'local-2026-11-23T14-00-00Z',
  status: 'SUCCEEDED',
  window: { start: '2026-11-23T13:00:00.000Z', end: '2026-11-23T14:00:00.000Z' },
  startedAt: '2026-11-23T14:00:02.000Z',
  finishedAt: '2026-11-23T14:00:14.500Z',
  stepSeconds: { PlanWindow: 0.12, LoadBronze: 3.4, DbtBuild: 7.9, Reconcile: 0.6, Publish: 0.3 },
  counts: { landed: 12_480, quarantined: 20, loaded: 12_480, modelled: 12_431 },
  loader: { objectsSeen: 14, objectsLoaded: 12, objectsSkipped: 2, rowsLoaded: 12_480, errors: [] },
  dbt: {
    status: 'success',
    results: [
      { unique_id: 'model.mds.stg_spotify__events', status: 'success', execution_time: 1.52 },
      { unique_id: 'model.mds.plays_per_hour', status: 'success', execution_time: 0.31 },
      { unique_id: 'test.mds.unique_stg_spotify__events_event_id', status: 'pass', execution_time: 0.08 },
    ],
  },
  reconciliation: {
    ok: true,
    checks: [
      { name: 'landed = loaded', expected: 12_480, actual: 12_480, ok: true },
      {
        name: 'modelled <= loaded',
        expected: 12_480,
        actual: 12_431,
        ok: true,
        detail: '49 duplicates removed',
      },
    ],
  },
  gold: {
    playsPerHour: Array.from({ length: 24 }, (_, i) => ({
      hour_start: new Date(Date.UTC(2026, 10, 22, 14 + i)).toISOString(),
      plays: 4000 + ((i * 733) % 5000),
    })),
    topTracks: [
      { song_name: 'Blue Hearts', artist_name: 'Aurora Lane', streams: 1532 },
      { song_name: 'Night Road', artist_name: 'Kofi Mensah', streams: 1210 },
      { song_name: 'Paper Tide', artist_name: 'Neon Harbor', streams: 998 },
    ],
    topArtists: [
      { artist_name: 'Aurora Lane', streams: 5120 },
      { artist_name: 'Kofi Mensah', streams: 4410 },
    ],
  },
};

export const failed: RunSummary = {
  ...succeeded,
  runId: 'run-<script>alert(1)</script>',
  status: 'FAILED',
  dbt: {
    status: 'error',
    results: [
      {
        unique_id: 'model.mds.plays_per_hour',
        status: 'error',
        execution_time: 0.2,
        message: 'Binder Error: <x>',
      },
    ],
  },
  reconciliation: {
    ok: false,
    checks: [
      { name: 'landed = loaded', expected: 12_480, actual: 12_000, ok: false, detail: '480 rows missing' },
    ],
  },
  gold: undefined,
  failure: {
    state: 'DbtBuild',
    error: 'DbtError',
    cause: 'model plays_per_hour failed: Binder Error <img src=x onerror=alert(1)>',
  },
};

/** The project's marts: the Gold tables. */
const MARTS = GOLD_TABLES;

/**
 * An hourly run the size of the project's dbt build: Silver, a model per Gold table the dashboard reads, and 87
 * data tests, all passing (the shape whose report used to be a 100-row table of "pass").
 */
export const hourly: RunSummary = {
  ...succeeded,
  dbt: {
    status: 'success',
    results: [
      ...['stg_spotify__events', ...MARTS].map((m, i) => ({
        unique_id: `model.spotify_mds.${m}`,
        status: 'success',
        execution_time: 0.05 + (i % 4) * 0.02,
      })),
      ...Array.from({ length: 87 }, (_, i) => ({
        unique_id: `test.spotify_mds.not_null_${MARTS[i % MARTS.length]}_column_${i}.${(i * 2654435761).toString(16).slice(-10)}`,
        status: 'pass',
        execution_time: 0.01 + (i % 3) * 0.01,
      })),
    ],
  },
};
