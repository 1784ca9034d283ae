/**
 * Synthetic streaming-history exports for the import tests: entries of the export's shape (tracks, episodes,
 * audiobooks) and a minimal zip writer (deflated members, central directory), so a test can build the zip as
 * Spotify sends it and a truncated copy of it.
 */
import { deflateRawSync, crc32 } from 'node:zlib';

export interface EntryOptions {
  readonly i: number;
  readonly user?: string | null;
  readonly kind?: 'track' | 'episode' | 'audiobook' | 'local';
  readonly ts?: string;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A 22-character track id of a number. */
export function trackId(n: number): string {
  let s = '';
  let v = n;
  for (let k = 0; k < 22; k++) {
    s = BASE62[v % 62]! + s;
    v = Math.floor(v / 62);
  }
  return s;
}

/** One export entry; `i` makes it unique (its ts is i minutes after 2024-03-01 10:00 UTC). */
export function entry(o: EntryOptions): Record<string, unknown> {
  const kind = o.kind ?? 'track';
  const ts =
    o.ts ?? new Date(Date.UTC(2024, 2, 1, 10, 0, 0) + o.i * 60_000).toISOString().replace('.000Z', 'Z');
  const e: Record<string, unknown> = {
    ts,
    platform: [
      'Android OS 9 API 28 (samsung, SM-G960F)',
      'Windows 10 (10.0.19041; x64)',
      'WebPlayer (websocket RFC6455)',
      'Partner sonos_one',
    ][o.i % 4],
    ms_played: 1000 + o.i,
    conn_country: o.i % 5 === 0 ? 'ZZ' : 'SE',
    ip_addr: '192.0.2.1',
    master_metadata_track_name: kind === 'track' ? `Song ${o.i}` : null,
    master_metadata_album_artist_name: kind === 'track' ? `Artist ${o.i % 7}` : null,
    master_metadata_album_album_name: kind === 'track' ? `Album ${o.i % 3}` : null,
    spotify_track_uri: kind === 'track' ? `spotify:track:${trackId(o.i)}` : null,
    episode_name: kind === 'episode' ? `Episode ${o.i}` : null,
    episode_show_name: kind === 'episode' ? 'A show' : null,
    spotify_episode_uri: kind === 'episode' ? `spotify:episode:${trackId(o.i)}` : null,
    audiobook_title: kind === 'audiobook' ? 'A book' : null,
    audiobook_uri: kind === 'audiobook' ? `spotify:show:${trackId(o.i)}` : null,
    audiobook_chapter_uri: null,
    audiobook_chapter_title: null,
    reason_start: 'trackdone',
    reason_end: 'endplay',
    shuffle: false,
    skipped: o.i % 3 === 0,
    offline: false,
    offline_timestamp: null,
    incognito_mode: false,
  };
  if (o.user !== null) e.username = o.user ?? 'listener1';
  return e;
}

/** A zip of the given members (deflated), as `zip` writes one: local headers, data, central directory, end record. */
export function zipOf(members: readonly { name: string; data: string | Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const raw = Buffer.isBuffer(m.data) ? m.data : Buffer.from(m.data);
    const data = deflateRawSync(raw);
    const name = Buffer.from(m.name);
    const crc = crc32(raw);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(8, 10);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(raw.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, name, data);
    central.push(cd, name);
    offset += local.length + name.length + data.length;
  }
  const cdSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, end]);
}
