/** The streaming-history reader and mapping: entries to version-2 events, left out, rejected, refused files, zips. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateEvent } from '../../lambdas/core/contract.ts';
import { naturalEventId } from '../../lambdas/core/event-id.ts';
import { deviceTypeOf, mapEntry, readExportFile } from '../../lambdas/core/spotify/history.ts';
import { importHistory, type ImportSummary } from '../../lambdas/core/spotify/history-import.ts';
import { localItems } from '../../lambdas/core/spotify/history-source.ts';
import { entry, trackId, zipOf } from './history-fixtures.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-history-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Reads text in small chunks, as a file stream delivers it, so entries arrive one by one. */
const readText = (name: string, text: string) => {
  const b = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < b.length; i += 64) chunks.push(b.subarray(i, i + 64));
  return readExportFile(name, Readable.from(chunks));
};

async function runImport(
  paths: string[],
  user?: string,
): Promise<{ summary: ImportSummary; sent: Record<string, unknown>[] }> {
  const sent: Record<string, unknown>[] = [];
  const summary = await importHistory(localItems(paths), {
    user,
    send: async (records) => {
      for (const r of records) sent.push(JSON.parse(r.value) as Record<string, unknown>);
    },
  });
  return { summary, sent };
}

describe('mapEntry', () => {
  it('maps a track entry to a version-2 event with the documented fields', () => {
    const e = entry({ i: 3 });
    const out = mapEntry(e);
    expect(out).toEqual({
      kind: 'event',
      event: {
        event_id: naturalEventId(
          'spotify_history',
          'listener1',
          '2024-03-01T10:03:00.000Z',
          trackId(3),
          '1003',
        ),
        user_id: 'listener1',
        song_id: trackId(3),
        artist_name: 'Artist 3',
        song_name: 'Song 3',
        album_name: 'Album 0',
        track_length_ms: null,
        event_type: 'skip',
        device_type: null, // 'Partner sonos_one'
        country: 'SE',
        timestamp: '2024-03-01T10:03:00.000Z',
        duration_ms: 1003,
        source: 'spotify_history',
        schema_version: 2,
      },
    });
    const keys = Object.keys((out as { event: object }).event);
    expect(keys).toEqual([
      'event_id',
      'user_id',
      'song_id',
      'artist_name',
      'song_name',
      'album_name',
      'track_length_ms',
      'event_type',
      'device_type',
      'country',
      'timestamp',
      'duration_ms',
      'source',
      'schema_version',
    ]);
  });

  it('normalises ts to UTC with Z; ZZ and unknown platforms are null; not skipped is a play', () => {
    const out = mapEntry({ ...entry({ i: 5 }), ts: '2024-03-01T12:00:00+02:00', skipped: null });
    expect(out.kind).toBe('event');
    const ev = (out as unknown as { event: Record<string, unknown> }).event;
    expect(ev.timestamp).toBe('2024-03-01T10:00:00.000Z');
    expect(ev.country).toBeNull();
    expect(ev.event_type).toBe('play');
    expect(deviceTypeOf('Partner sonos_one')).toBeNull();
    expect(deviceTypeOf('Google Chromecast')).toBeNull();
    expect(deviceTypeOf('iOS 14.4 (iPhone12,1)')).toBe('mobile');
    expect(deviceTypeOf('android')).toBe('mobile');
    expect(deviceTypeOf('OS X 10.15.7 [x86 8]')).toBe('desktop');
    expect(deviceTypeOf('web_player windows 10;chrome 87')).toBe('web');
    expect(deviceTypeOf(null)).toBeNull();
  });

  it('gives a re-read entry the same id, and two streams ending in the same second different ids', () => {
    const a = mapEntry(entry({ i: 1 }));
    const b = mapEntry(entry({ i: 1 }));
    const c = mapEntry({ ...entry({ i: 1 }), ms_played: 42 });
    const id = (o: typeof a) => (o as { event: { event_id: string } }).event.event_id;
    expect(id(a)).toBe(id(b));
    expect(id(c)).not.toBe(id(a));
  });

  it('gives events the contract (version 2) accepts, unknowns as null included', () => {
    for (let i = 0; i < 12; i++) {
      const out = mapEntry({
        ...entry({ i }),
        master_metadata_album_album_name: i === 4 ? null : `Album ${i}`,
      });
      expect(out.kind).toBe('event');
      expect(validateEvent((out as unknown as { event: unknown }).event)).toMatchObject({ ok: true });
    }
  });

  it('leaves out episodes, audiobooks and entries without a track', () => {
    expect(mapEntry(entry({ i: 1, kind: 'episode' }))).toEqual({ kind: 'left_out', reason: 'episode' });
    expect(mapEntry(entry({ i: 1, kind: 'audiobook' }))).toEqual({ kind: 'left_out', reason: 'audiobook' });
    expect(mapEntry(entry({ i: 1, kind: 'local' }))).toEqual({ kind: 'left_out', reason: 'no_track' });
  });

  it('rejects a bad field, naming every problem', () => {
    const out = mapEntry({
      ...entry({ i: 1 }),
      ts: 'yesterday',
      ms_played: -5,
      master_metadata_track_name: null,
    });
    expect(out.kind).toBe('rejected');
    const problems = (out as unknown as { problems: string[] }).problems.join(' | ');
    expect(problems).toMatch(/ts "yesterday"/);
    expect(problems).toMatch(/ms_played -5/);
    expect(problems).toMatch(/master_metadata_track_name is missing/);
    expect(mapEntry({ ...entry({ i: 1 }), spotify_track_uri: 'spotify:track:short' }).kind).toBe('rejected');
  });

  it('takes the user id of entries without username from the importer, and rejects them without one', () => {
    const e = entry({ i: 1, user: null });
    expect((mapEntry(e, 'me') as { event: { user_id: string } }).event.user_id).toBe('me');
    const out = mapEntry(e);
    expect(out.kind).toBe('rejected');
    expect((out as unknown as { problems: string[] }).problems.join()).toMatch(/--user/);
  });
});

describe('readExportFile', () => {
  it('counts entries = imported + left out + rejected, naming the rejected entry by index', async () => {
    const entries = [
      entry({ i: 0 }),
      entry({ i: 1, kind: 'episode' }),
      { ...entry({ i: 2 }), ms_played: 'x' },
      entry({ i: 3 }),
    ];
    const r = await readText('Streaming_History_Audio_2024.json', JSON.stringify(entries));
    expect(r.refused).toBeUndefined();
    expect(r.counts).toMatchObject({ entries: 4, imported: 2, leftOut: 1, episodes: 1, rejected: 1 });
    expect(r.rejections).toEqual([
      {
        file: 'Streaming_History_Audio_2024.json',
        index: 2,
        problems: [expect.stringMatching(/ms_played "x"/)],
      },
    ]);
    expect(r.events.map((e) => e.song_name)).toEqual(['Song 0', 'Song 3']);
  });

  it('refuses a JSON file that is not an export, naming the file, and produces nothing of it', async () => {
    const notArray = await readText('a.json', JSON.stringify({ ts: 'x' }));
    expect(notArray.refused).toMatch(/^a\.json: not a JSON array/);
    const other = await readText('b.json', JSON.stringify([{ name: 'x' }]));
    expect(other.refused).toMatch(/^b\.json: entry 0 is not a streaming-history entry/);
    const old = await readText(
      'StreamingHistory_music_0.json',
      JSON.stringify([{ endTime: '2024-01-01 10:00', artistName: 'a', trackName: 't', msPlayed: 1 }]),
    );
    expect(old.refused).toMatch(/Extended streaming history/);
    for (const r of [notArray, other, old]) expect(r.events).toEqual([]);
  });

  it('produces nothing of a file that breaks off mid-way', async () => {
    const text = JSON.stringify(Array.from({ length: 500 }, (_, i) => entry({ i })));
    const r = await readText('c.json', text.slice(0, text.length - 40));
    expect(r.refused).toMatch(/^c\.json: /);
    expect(r.events).toEqual([]);
    expect(r.counts.entries).toBe(0);
  });
});

describe('importHistory over files, folders and zips', () => {
  it('imports the audio members of a zip, skips the others, and the counts add up per file and in total', async () => {
    const f1 = [entry({ i: 0 }), entry({ i: 1, kind: 'episode' }), entry({ i: 2 })];
    const f2 = [entry({ i: 10 }), entry({ i: 11, kind: 'audiobook' }), { ...entry({ i: 12 }), ts: 'bad' }];
    const zip = zipOf([
      {
        name: 'Spotify Extended Streaming History/Streaming_History_Audio_2023-2024_0.json',
        data: JSON.stringify(f1),
      },
      {
        name: 'Spotify Extended Streaming History/Streaming_History_Audio_2024_1.json',
        data: JSON.stringify(f2),
      },
      { name: 'Spotify Extended Streaming History/Streaming_History_Video_2024.json', data: '[]' },
      { name: 'Spotify Extended Streaming History/ReadMeFirst_ExtendedStreamingHistory.pdf', data: 'pdf' },
    ]);
    const zipPath = path.join(dir, 'my_spotify_data.zip');
    await writeFile(zipPath, zip);
    const { summary, sent } = await runImport([zipPath]);
    expect(summary.totals).toMatchObject({
      entries: 6,
      imported: 3,
      leftOut: 2,
      episodes: 1,
      audiobooks: 1,
      rejected: 1,
    });
    expect(summary.skippedFiles).toHaveLength(2);
    expect(summary.files).toHaveLength(2);
    for (const f of summary.files)
      expect(f.counts.entries).toBe(f.counts.imported + f.counts.leftOut + f.counts.rejected);
    expect(summary.rejections).toEqual([
      {
        file: `${zipPath}:Spotify Extended Streaming History/Streaming_History_Audio_2024_1.json`,
        index: 2,
        problems: [expect.stringMatching(/^ts "bad"/)],
      },
    ]);
    expect(sent.map((e) => e.song_name)).toEqual(['Song 0', 'Song 2', 'Song 10']);
    expect(summary.sent).toBe(3);
    expect(summary.firstEventTime).toBe('2024-03-01T10:00:00.000Z');
    expect(summary.lastEventTime).toBe('2024-03-01T10:10:00.000Z');
  });

  it('refuses a truncated zip before producing anything, and goes on with the other paths', async () => {
    const zip = zipOf([{ name: 'Streaming_History_Audio_0.json', data: JSON.stringify([entry({ i: 0 })]) }]);
    const truncated = path.join(dir, 'truncated.zip');
    await writeFile(truncated, zip.subarray(0, zip.length - 30));
    const folder = path.join(dir, 'folder');
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'Streaming_History_Audio_1.json'), JSON.stringify([entry({ i: 5 })]));
    await writeFile(path.join(folder, 'notes.txt'), 'x');
    const { summary, sent } = await runImport([truncated, folder, path.join(dir, 'missing.json')]);
    expect(summary.refused.map((r) => r.file)).toEqual([truncated, path.join(dir, 'missing.json')]);
    expect(summary.refused[0]!.message).toMatch(/truncated\.zip: not a readable zip .*download it again/);
    expect(sent.map((e) => e.song_name)).toEqual(['Song 5']);
    expect(summary.skippedFiles).toEqual([path.join(folder, 'notes.txt')]);
  });
});
