/**
 * The streaming-history import end to end, on the local stand-ins: a synthetic export (two JSON files in a
 * folder, a zip as Spotify sends it, tracks mixed with episodes and audiobooks, a malformed entry, a JSON file
 * that is not an export, a truncated zip) goes through the real local broker, the event source mapping and
 * consumer bundle, the loader and dbt; Silver holds exactly the track entries, and a second import (through
 * `mds spotify import`'s code) adds nothing.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSpotifyImport } from '../../bin/commands/spotify-import.ts';
import { mapEntry } from '../../lambdas/core/spotify/history.ts';
import {
  historyWindows,
  runLocalHistoryPipeline,
  scanHistory,
  type HistoryReport,
} from '../../localstack/pipeline/history.ts';
import { startLocalServices, type LocalServices } from '../../localstack/pipeline/services.ts';
import { runWorkflowLocally } from '../../localstack/pipeline/workflow.ts';
import { entry, zipOf } from './history-fixtures.ts';

let dir: string;
let services: LocalServices;
let report: HistoryReport;
let paths: string[];
/** The event ids the track entries map to (the malformed one excluded). */
const expectedIds = new Set<string>();
let entries = 0;

async function silverIds(): Promise<string[]> {
  const rows = await services.warehouse.query<{ event_id: string }>(
    'select event_id from silver.stg_spotify__events order by event_id',
  );
  return rows.map((r) => String(r.event_id));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mds-import-'));
  const folder = path.join(dir, 'Spotify Extended Streaming History');
  await mkdir(folder, { recursive: true });
  // Two users, three hours on 2024-03-01 and one on 2024-04-02 (a gap the workflow does not run).
  const file1 = Array.from({ length: 120 }, (_, i) =>
    entry({ i, user: i % 2 ? 'alice' : 'bob', kind: i % 10 === 7 ? 'episode' : 'track' }),
  );
  const file2 = [
    ...Array.from({ length: 60 }, (_, k) =>
      entry({ i: 200 + k, kind: k % 15 === 3 ? 'audiobook' : 'track' }),
    ),
    { ...entry({ i: 300 }), ms_played: -1 },
  ];
  const zipped = Array.from({ length: 40 }, (_, k) =>
    entry({ i: 400 + k, ts: `2024-04-02T08:${String(k).padStart(2, '0')}:10Z` }),
  );
  // The fixture's platforms and countries include unknowns (a Partner speaker, ZZ): null in the events.
  for (const e of [...file1, ...file2, ...zipped]) {
    entries += 1;
    const out = mapEntry(e);
    if (out.kind === 'event') expectedIds.add(out.event.event_id);
  }
  await writeFile(path.join(folder, 'Streaming_History_Audio_2024_0.json'), JSON.stringify(file1));
  await writeFile(path.join(folder, 'Streaming_History_Audio_2024_1.json'), JSON.stringify(file2));
  const zipPath = path.join(dir, 'my_spotify_data.zip');
  await writeFile(
    zipPath,
    zipOf([
      {
        name: 'Spotify Extended Streaming History/Streaming_History_Audio_2024_2.json',
        data: JSON.stringify(zipped),
      },
      { name: 'Spotify Extended Streaming History/ReadMeFirst_ExtendedStreamingHistory.pdf', data: '%PDF' },
    ]),
  );
  const notExport = path.join(dir, 'playlists.json');
  await writeFile(notExport, JSON.stringify({ playlists: [] }));
  const whole = zipOf([
    { name: 'Streaming_History_Audio_9.json', data: JSON.stringify([entry({ i: 900 })]) },
  ]);
  const truncated = path.join(dir, 'truncated.zip');
  await writeFile(truncated, whole.subarray(0, whole.length - 10));
  paths = [folder, zipPath, notExport, truncated];

  services = await startLocalServices({ dataDir: path.join(dir, 'data'), brokerPort: 0, s3Port: 0 });
  const scanned = await scanHistory({ paths });
  report = await runLocalHistoryPipeline(services, { paths }, scanned);
}, 300_000);

afterAll(async () => {
  await services?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the streaming-history import through the local pipeline', () => {
  it('puts exactly the track entries in Silver, and the counts reconcile', async () => {
    const t = report.source.import.totals;
    expect(t.entries).toBe(entries);
    expect(t.entries).toBe(t.imported + t.leftOut + t.rejected);
    expect(t.imported).toBe(expectedIds.size);
    expect(t.rejected).toBe(1);
    expect(t.episodes).toBeGreaterThan(0);
    expect(t.audiobooks).toBeGreaterThan(0);
    expect(report.reconciliation.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.events.landed).toBe(expectedIds.size);
    expect(report.events.quarantined).toBe(0);
    expect(await silverIds()).toEqual([...expectedIds].sort());
    const unknown = await services.warehouse.query<{ devices: number; countries: number }>(
      'select count(*) filter (where device_type is null) as devices, count(*) filter (where country is null) as countries from silver.stg_spotify__events',
    );
    expect(Number(unknown[0]!.devices)).toBeGreaterThan(0);
    expect(Number(unknown[0]!.countries)).toBeGreaterThan(0);
    const skipped = report.reconciliation.checks.find((c) => c.skipped);
    expect(skipped?.skipped).toMatch(/streaming-history export/);
  });

  it('names the refused files and the rejected entry, and goes on with the others', () => {
    const imp = report.source.import;
    expect(imp.refused.map((r) => path.basename(r.file))).toEqual(['playlists.json', 'truncated.zip']);
    expect(imp.refused[0]!.message).toMatch(/playlists\.json: not a JSON array of streaming-history entries/);
    expect(imp.refused[1]!.message).toMatch(/truncated\.zip: not a readable zip/);
    expect(imp.rejections).toHaveLength(1);
    expect(imp.rejections[0]).toMatchObject({
      index: 60,
      problems: [expect.stringMatching(/^ms_played -1/)],
    });
    expect(imp.rejections[0]!.file).toMatch(/Streaming_History_Audio_2024_1\.json$/);
    expect(imp.skippedFiles.map((f) => path.basename(f))).toEqual([
      'ReadMeFirst_ExtendedStreamingHistory.pdf',
    ]);
  });

  it('runs the workflow over the hours with events only, in windows the planner accepts', () => {
    expect(report.window).toEqual({ start: '2024-03-01T10:00:00.000Z', end: '2024-04-02T09:00:00.000Z' });
    expect(report.runs.map((r) => r.window)).toEqual([
      { start: '2024-03-01T10:00:00.000Z', end: '2024-03-01T15:00:00.000Z' },
      { start: '2024-04-02T08:00:00.000Z', end: '2024-04-02T09:00:00.000Z' },
    ]);
    expect(report.runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);
  });

  it('adds nothing when the same export is imported again (mds spotify import)', async () => {
    const before = await silverIds();
    const out: string[] = [];
    const summary = await runSpotifyImport(
      paths,
      { brokers: services.broker.bootstrap, topic: services.topic, retries: 2 },
      { write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream,
    );
    expect(summary.sent).toBe(expectedIds.size);
    expect(out.join('')).toMatch(/entries \d+ = imported \d+ \+ left out \d+ .* \+ rejected 1/);
    await services.mapping.drained(60_000);
    for (const window of historyWindows(summary.hours, 31)) {
      const result = await runWorkflowLocally(services, {
        window,
        executionName: `again-${window.start.slice(0, 13)}-${Date.now()}`,
      });
      expect(result.execution.status).toBe('SUCCEEDED');
    }
    expect(await silverIds()).toEqual(before);
    const bronzeRows = await services.warehouse.query<{ n: number }>(
      'select count(*) as n from bronze.listening_events',
    );
    expect(Number(bronzeRows[0]!.n)).toBe(2 * expectedIds.size);
  });
});
