/**
 * The streaming-history import on one core: entries per second and peak memory of reading, validating and
 * mapping a generated export of 1,000,000 entries (50 files of 20,000 entries, about 12 MB each, as Spotify
 * splits an export), every event serialized as it would be sent, the send itself a no-op (Kafka's side is
 * `npm run bench -- broker`). Each size runs in its own process, so its peak RSS is its own: memory follows
 * the largest file, not the export, and the figures at 100,000 and 1,000,000 entries show it.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { importHistory } from '../lambdas/core/spotify/history-import.ts';
import { localItems } from '../lambdas/core/spotify/history-source.ts';

const PER_FILE = 20_000;
const TOTAL = 1_000_000;
const HEAP_CAP_MIB = 64;
const CHILD_FLAG = '--import-bench-child';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PLATFORMS = [
  'Android OS 14 API 34 (Google, Pixel 8)',
  'iOS 17.4 (iPhone15,2)',
  'Windows 10 (10.0.19045; x64)',
  'OS X 14.4 [arm 2]',
  'WebPlayer (websocket RFC6455)',
  'Partner sonos_one',
];

function id(n: number): string {
  let s = '';
  let v = n;
  for (let k = 0; k < 22; k++) {
    s = BASE62[v % 62]! + s;
    v = Math.floor(v / 62);
  }
  return s;
}

/** Entry n of the generated export: mostly tracks (of 50,000), an episode every 25th. */
function entryText(n: number): string {
  const episode = n % 25 === 0;
  const track = (n * 7919) % 50_000;
  const ts = new Date(Date.UTC(2019, 0, 1) + n * 137_000).toISOString().replace('.000Z', 'Z');
  return JSON.stringify({
    ts,
    platform: PLATFORMS[n % PLATFORMS.length],
    ms_played: (n * 31) % 240_000,
    conn_country: n % 50 === 0 ? 'ZZ' : 'SE',
    ip_addr: '192.0.2.1',
    master_metadata_track_name: episode ? null : `Track ${track}`,
    master_metadata_album_artist_name: episode ? null : `Artist ${track % 5000}`,
    master_metadata_album_album_name: episode ? null : `Album ${track % 12000}`,
    spotify_track_uri: episode ? null : `spotify:track:${id(track)}`,
    episode_name: episode ? `Episode ${n}` : null,
    episode_show_name: episode ? 'A show' : null,
    spotify_episode_uri: episode ? `spotify:episode:${id(n)}` : null,
    audiobook_title: null,
    audiobook_uri: null,
    audiobook_chapter_uri: null,
    audiobook_chapter_title: null,
    reason_start: 'trackdone',
    reason_end: n % 3 ? 'trackdone' : 'fwdbtn',
    shuffle: n % 2 === 0,
    skipped: n % 3 === 0,
    offline: false,
    offline_timestamp: null,
    incognito_mode: false,
  });
}

async function writeExport(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (let f = 0; f < TOTAL / PER_FILE; f++) {
    const file = path.join(dir, `Streaming_History_Audio_${2019 + Math.floor(f / 10)}_${f}.json`);
    const out = createWriteStream(file);
    let chunk = '[';
    for (let k = 0; k < PER_FILE; k++) {
      chunk += (k ? ',\n' : '\n') + entryText(f * PER_FILE + k);
      if (chunk.length > 1 << 16) {
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        chunk = '';
      }
    }
    out.end(chunk + '\n]\n');
    await new Promise<void>((r) => out.once('finish', () => r()));
    files.push(file);
  }
  return files;
}

interface ChildResult {
  entries: number;
  imported: number;
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
}

/** In the child: imports the files, serializing every event as the CLI would send it. */
async function child(files: string[]): Promise<void> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  let bytes = 0;
  const summary = await importHistory(localItems(files), {
    user: 'bench',
    send: async (records) => {
      for (const r of records) bytes += r.value.length;
    },
  });
  const used = process.cpuUsage(cpu);
  const result: ChildResult = {
    entries: summary.totals.entries,
    imported: summary.totals.imported,
    seconds: (performance.now() - wall) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  if (bytes === 0) throw new Error('nothing serialized');
  process.stdout.write(JSON.stringify(result));
}

async function runChild(files: string[], nodeArgs: string[] = []): Promise<ChildResult> {
  const self = fileURLToPath(import.meta.url);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', self, CHILD_FLAG, ...files],
    {
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout) as ChildResult;
}

export default async function bench(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mds-import-bench-'));
  try {
    const t0 = performance.now();
    const files = await writeExport(dir);
    console.log(
      `generated ${TOTAL.toLocaleString('en-US')} entries in ${files.length} files in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
    );
    // The last run caps V8's old generation at HEAP_CAP_MIB: the whole export goes through a heap a tenth of
    // its size, because only one file's events are held at a time.
    for (const [n, nodeArgs] of [
      [100_000, []],
      [TOTAL, []],
      [TOTAL, [`--max-old-space-size=${HEAP_CAP_MIB}`]],
    ] as const) {
      const r = await runChild(files.slice(0, n / PER_FILE), [...nodeArgs]);
      console.log(
        `${r.entries.toLocaleString('en-US').padStart(9)} entries (${r.imported.toLocaleString('en-US')} imported): ` +
          `${Math.round(r.entries / r.seconds).toLocaleString('en-US')} entries/s wall, ` +
          `${Math.round(r.entries / r.cpuSeconds).toLocaleString('en-US')} entries/CPU-s, peak RSS ${r.maxRssMiB.toFixed(0)} MiB` +
          (nodeArgs.length ? ` (${nodeArgs.join(' ')})` : ''),
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === CHILD_FLAG) await child(process.argv.slice(3));
