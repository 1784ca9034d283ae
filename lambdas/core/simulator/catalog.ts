/**
 * The simulated world: a catalog of artists, their albums and songs (each song on one album of its artist,
 * with its track length) with Zipf-like popularity and per-song behaviour, and a population of users with a home country, a time zone, a device preference and an activity level.
 * Built once per run from the seed; every string that goes into an event is JSON-encoded here, once.
 */
import { DEVICE_TYPES, EVENT_TYPES, type CountryCode } from '../contract.ts';
import { AliasTable, Prng } from './prng.ts';

/** Listening activity by local hour of day (0-23): quiet nights, a morning commute, a long evening peak. */
// prettier-ignore
export const DAILY_RHYTHM: readonly number[] = [
  0.9, 0.55, 0.35, 0.22, 0.18, 0.22, 0.45, 0.9, 1.3, 1.2, 1.0, 1.0,
  1.15, 1.1, 1.0, 1.05, 1.2, 1.4, 1.55, 1.6, 1.6, 1.5, 1.3, 1.1,
];

/** Where listeners live: share of users and the UTC offsets (minutes, standard time) of each country. */
export const HOME_COUNTRIES: readonly {
  readonly code: CountryCode;
  readonly weight: number;
  readonly offsets: readonly number[];
}[] = [
  { code: 'US', weight: 22, offsets: [-300, -360, -420, -480] },
  { code: 'BR', weight: 7, offsets: [-180] },
  { code: 'GB', weight: 6, offsets: [0] },
  { code: 'DE', weight: 6, offsets: [60] },
  { code: 'MX', weight: 5, offsets: [-360] },
  { code: 'FR', weight: 4, offsets: [60] },
  { code: 'IN', weight: 4, offsets: [330] },
  { code: 'CA', weight: 3, offsets: [-300, -480] },
  { code: 'ES', weight: 3, offsets: [60] },
  { code: 'IT', weight: 3, offsets: [60] },
  { code: 'JP', weight: 3, offsets: [540] },
  { code: 'AU', weight: 2, offsets: [600, 480] },
  { code: 'NL', weight: 2, offsets: [60] },
  { code: 'SE', weight: 2, offsets: [60] },
  { code: 'PL', weight: 2, offsets: [60] },
  { code: 'ID', weight: 2, offsets: [420] },
  { code: 'PH', weight: 2, offsets: [480] },
  { code: 'AR', weight: 2, offsets: [-180] },
  { code: 'KR', weight: 1, offsets: [540] },
  { code: 'CL', weight: 1, offsets: [-240] },
  { code: 'CO', weight: 1, offsets: [-300] },
  { code: 'TR', weight: 1, offsets: [180] },
  { code: 'ZA', weight: 1, offsets: [120] },
  { code: 'NG', weight: 1, offsets: [60] },
  { code: 'PT', weight: 1, offsets: [0] },
  { code: 'NO', weight: 1, offsets: [60] },
  { code: 'DK', weight: 1, offsets: [60] },
  { code: 'BE', weight: 1, offsets: [60] },
  { code: 'AT', weight: 1, offsets: [60] },
  { code: 'CH', weight: 1, offsets: [60] },
  { code: 'TH', weight: 1, offsets: [420] },
  { code: 'VN', weight: 1, offsets: [420] },
  { code: 'IE', weight: 0.5, offsets: [0] },
  { code: 'FI', weight: 0.5, offsets: [120] },
  { code: 'NZ', weight: 0.5, offsets: [720] },
  { code: 'SG', weight: 0.5, offsets: [480] },
  { code: 'AE', weight: 0.5, offsets: [240] },
  { code: 'KE', weight: 0.5, offsets: [180] },
  { code: 'PE', weight: 0.5, offsets: [-300] },
];

/** Device a user mostly listens on, and how often a session uses that one. */
const PRIMARY_DEVICE_WEIGHTS = [0.6, 0.25, 0.15]; // mobile, desktop, web
const PRIMARY_DEVICE_SHARE = 0.8;

// prettier-ignore
const ADJECTIVES = [
  'Golden', 'Electric', 'Velvet', 'Silent', 'Neon', 'Crimson', 'Broken', 'Wild', 'Lonely', 'Cosmic', 'Midnight',
  'Paper', 'Sugar', 'Frozen', 'Burning', 'Hollow', 'Lucky', 'Blue', 'Northern', 'Secret', 'Glass', 'Radio',
  'Summer', 'Little', 'Dangerous', 'Sweet', 'Wandering', 'Perfect', 'Strange', 'Crystal', 'Rusty', 'Holy',
];
// prettier-ignore
const NOUNS = [
  'Heart', 'River', 'Echo', 'Dream', 'Fire', 'Shadow', 'Ocean', 'Highway', 'Garden', 'Signal', 'Mirror', 'Storm',
  'Satellite', 'Rain', 'Horizon', 'Thunder', 'Island', 'Window', 'Machine', 'Diamond', 'Canyon', 'Parade',
  'Lantern', 'Compass', 'Feather', 'Harbor', 'Engine', 'Orchid', 'Valley', 'Comet', 'Kingdom', 'Tide',
];
// prettier-ignore
const FIRST_NAMES = [
  'Ana', 'Björn', 'Chloé', 'Diego', 'Emma', 'Felix', 'Hana', 'Isaac', 'Jules', 'Kofi', 'Lena', 'Mateo', 'Nina',
  'Oscar', 'Priya', 'Rafael', 'Sofía', 'Tomás', 'Yuki', 'Zoë', 'Amara', 'Noah', 'Léa', 'Sven',
];
// prettier-ignore
const LAST_NAMES = [
  'Rivers', 'Moreau', 'Okafor', 'Lindqvist', 'Tanaka', 'García', 'Novak', 'Kowalski', 'Silva', 'Müller',
  "O'Brien", 'Haddad', 'Park', 'Rossi', 'Nguyen', 'Dubois', 'Santos', 'Keller', 'Andersen', 'Mbeki',
];
const SONG_SUFFIXES = [' (Remix)', ' - Live', ' (Acoustic)', ' - Radio Edit', ' (feat. ', ' Pt. 2'];
const ALBUM_FORMS = ['', '', '', ' (Deluxe Edition)', ' - EP', ' (Live)', ' Vol. 2'];
/** Songs per album, on average: an artist with n songs has about n / SONGS_PER_ALBUM albums (at least one). */
const SONGS_PER_ALBUM = 10;

export interface Song {
  /**
   * `"song_id":"…","artist_name":"…","song_name":"…","album_name":"…","track_length_ms":<n>,`: the song's part
   * of an event, JSON-encoded.
   */
  readonly fragment: string;
  readonly id: string;
  readonly name: string;
  readonly artist: number;
  /** Index into `Catalog.albums`: the album of the song's artist the song is on. */
  readonly album: number;
  /** The track's full length (track_length_ms); a play listens to at most this much. */
  readonly durationMs: number;
  /** Probability a play of this song is skipped: some songs are skipped far more than others. */
  readonly skipProb: number;
  /** Probability a play is paused once; longer songs are paused more. */
  readonly pauseProb: number;
  /** Probability a full play ends in add_to_playlist; popular songs are added more. */
  readonly addProb: number;
}

export interface Album {
  readonly name: string;
  readonly artist: number;
}

export interface Catalog {
  readonly artists: readonly string[];
  /** Each artist's albums; names are unique per artist. */
  readonly albums: readonly Album[];
  readonly songs: readonly Song[];
  /** The songs of each artist (indices into `songs`), for runs of one artist within a session. */
  readonly songsByArtist: readonly (readonly number[])[];
  /** Samples a song index by popularity: weight 1 / rank^1.05 (Zipf-like). */
  readonly popularity: AliasTable;
}

export interface User {
  readonly id: string;
  readonly country: CountryCode;
  /** Offset of the user's local time from UTC, in minutes. */
  readonly utcOffsetMinutes: number;
  readonly primaryDevice: number;
  /** Relative listening activity; heavy-tailed so a few users listen a lot. */
  readonly activity: number;
}

export interface Population {
  readonly users: readonly User[];
  /** For each user: `"user_id":"…",`. */
  readonly userFragments: readonly string[];
  /** For each user: the index of the home country in HOME_COUNTRIES (see eventFragment). */
  readonly userCountries: Uint8Array;
  /** The distinct UTC offsets, with the users living at each, for rhythm-weighted user choice. */
  readonly zones: readonly {
    readonly offsetMinutes: number;
    readonly users: AliasTable;
    readonly members: Uint32Array;
    readonly activity: number;
  }[];
}

/**
 * `"event_type":"…","device_type":"…","country":"…","timestamp":"` for every home country, device and event
 * type: the middle of an event line, shared by all users of a country.
 */
const EVENT_FRAGMENTS: readonly string[] = HOME_COUNTRIES.flatMap((c) =>
  DEVICE_TYPES.flatMap((d) =>
    EVENT_TYPES.map((t) => `"event_type":"${t}","device_type":"${d}","country":"${c.code}","timestamp":"`),
  ),
);

/** The middle fragment of an event line; `type` indexes EVENT_TYPES, `device` DEVICE_TYPES. */
export function eventFragment(country: number, device: number, type: number): string {
  return EVENT_FRAGMENTS[(country * DEVICE_TYPES.length + device) * EVENT_TYPES.length + type] as string;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The catalog. `albumRng` draws the albums and which song is on which, from its own stream, so adding albums
 * left every other draw of a seed as it was.
 */
export function buildCatalog(rng: Prng, songCount: number, albumRng: Prng = rng): Catalog {
  const artistCount = Math.max(1, Math.round(songCount / 8));
  const artists = uniqueNames(artistCount, () => artistName(rng));
  // Some artists have many songs: assign the first song of each artist, then the rest by a Zipf-like weight.
  const artistWeights = Float64Array.from({ length: artistCount }, (_, i) => 1 / Math.pow(i + 1, 0.8));
  const artistAlias = new AliasTable(artistWeights);
  const songArtist = Array.from({ length: songCount }, (_, i) =>
    i < artistCount ? i : artistAlias.sample(rng),
  );
  // Popularity rank is a random permutation, so popularity is not tied to catalog order.
  const rank = Array.from({ length: songCount }, (_, i) => i);
  for (let i = songCount - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [rank[i], rank[j]] = [rank[j] as number, rank[i] as number];
  }
  // Albums: each artist gets about one per SONGS_PER_ALBUM of its songs, and each song one of them.
  const songsOfArtist = new Uint32Array(artistCount);
  for (const a of songArtist) songsOfArtist[a]! += 1;
  const albums: Album[] = [];
  const firstAlbum = new Uint32Array(artistCount);
  for (let a = 0; a < artistCount; a++) {
    firstAlbum[a] = albums.length;
    const count = Math.max(1, Math.round(songsOfArtist[a]! / SONGS_PER_ALBUM));
    const names = uniqueNames(count, () => albumName(albumRng));
    for (const name of names) albums.push({ name, artist: a });
  }
  const usedIds = new Set<string>();
  const songs: Song[] = [];
  const songsByArtist: number[][] = Array.from({ length: artistCount }, () => []);
  for (let i = 0; i < songCount; i++) {
    const artist = songArtist[i] as number;
    const rankFraction = (rank[i] as number) / songCount; // 0 = most popular
    let id = songId(rng);
    while (usedIds.has(id)) id = songId(rng);
    usedIds.add(id);
    const name = songName(rng, artists);
    const durationMs = Math.round(
      Math.min(720_000, Math.max(60_000, 210_000 * Math.exp(0.3 * rng.normal()))),
    );
    const skipBase = 0.06 + 0.5 * Math.pow(rng.float(), 1.3);
    const skipProb = Math.min(0.85, skipBase * (0.7 + 0.6 * rankFraction));
    const pauseProb = Math.min(0.3, (0.03 + 0.05 * rng.float()) * (durationMs / 210_000));
    const addProb = 0.01 + 0.07 * (1 - rankFraction) * rng.float();
    const albumCount = Math.max(1, Math.round(songsOfArtist[artist]! / SONGS_PER_ALBUM));
    const album = firstAlbum[artist]! + albumRng.int(albumCount);
    const fragment =
      `"song_id":${JSON.stringify(id)},"artist_name":${JSON.stringify(artists[artist])},` +
      `"song_name":${JSON.stringify(name)},"album_name":${JSON.stringify(albums[album]!.name)},` +
      `"track_length_ms":${durationMs},`;
    songs.push({ fragment, id, name, artist, album, durationMs, skipProb, pauseProb, addProb });
    songsByArtist[artist]?.push(i);
  }
  const popularity = new AliasTable(Float64Array.from(rank, (r) => 1 / Math.pow(r + 1, 1.05)));
  return { artists, albums, songs, songsByArtist, popularity };
}

export function buildPopulation(rng: Prng, userCount: number): Population {
  const countryAlias = new AliasTable(HOME_COUNTRIES.map((c) => c.weight));
  const deviceAlias = new AliasTable(PRIMARY_DEVICE_WEIGHTS);
  const width = Math.max(6, String(userCount).length);
  const users: User[] = [];
  const userFragments: string[] = [];
  const userCountries = new Uint8Array(userCount);
  for (let i = 0; i < userCount; i++) {
    const country = countryAlias.sample(rng);
    const home = HOME_COUNTRIES[country] as (typeof HOME_COUNTRIES)[number];
    const user: User = {
      id: `user_${String(i + 1).padStart(width, '0')}`,
      country: home.code,
      utcOffsetMinutes: rng.pick(home.offsets),
      primaryDevice: deviceAlias.sample(rng),
      activity: Math.exp(rng.normal()),
    };
    users.push(user);
    userFragments.push(`"user_id":${JSON.stringify(user.id)},`);
    userCountries[i] = country;
  }
  const byOffset = new Map<number, number[]>();
  users.forEach((u, i) => {
    const list = byOffset.get(u.utcOffsetMinutes) ?? [];
    list.push(i);
    byOffset.set(u.utcOffsetMinutes, list);
  });
  const zones = [...byOffset.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([offsetMinutes, members]) => ({
      offsetMinutes,
      members: Uint32Array.from(members),
      users: new AliasTable(members.map((m) => (users[m] as User).activity)),
      activity: members.reduce((sum, m) => sum + (users[m] as User).activity, 0),
    }));
  return { users, userFragments, userCountries, zones };
}

/** Picks the device of one session: mostly the user's primary device. */
export function sessionDevice(rng: Prng, user: User): number {
  if (rng.chance(PRIMARY_DEVICE_SHARE)) return user.primaryDevice;
  return (user.primaryDevice + 1 + rng.int(DEVICE_TYPES.length - 1)) % DEVICE_TYPES.length;
}

function songId(rng: Prng): string {
  let id = '';
  for (let i = 0; i < 22; i++) id += BASE62[rng.int(62)];
  return id;
}

function artistName(rng: Prng): string {
  switch (rng.int(5)) {
    case 0:
      return `The ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}s`;
    case 1:
      return `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`;
    case 2:
      return `DJ ${rng.pick(NOUNS)}`;
    case 3:
      return `${rng.pick(NOUNS)} & the ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}s`;
    default:
      return `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
  }
}

function songName(rng: Prng, artists: readonly string[]): string {
  let name: string;
  switch (rng.int(5)) {
    case 0:
      name = `${rng.pick(NOUNS)} of ${rng.pick(NOUNS)}s`;
      break;
    case 1:
      name = `"${rng.pick(ADJECTIVES)}"`;
      break;
    case 2:
      name = `Don't Leave the ${rng.pick(NOUNS)}`;
      break;
    default:
      name = `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
  }
  if (rng.chance(0.15)) {
    const suffix = rng.pick(SONG_SUFFIXES);
    name += suffix.endsWith('(feat. ') ? `${suffix}${rng.pick(artists)})` : suffix;
  }
  return name;
}

function albumName(rng: Prng): string {
  const form = rng.pick(ALBUM_FORMS);
  switch (rng.int(4)) {
    case 0:
      return `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}s${form}`;
    case 1:
      return `The ${rng.pick(NOUNS)} Sessions${form}`;
    case 2:
      return `${rng.pick(NOUNS)} & ${rng.pick(NOUNS)}${form}`;
    default:
      return `${rng.pick(ADJECTIVES)}${form}`;
  }
}

/** Makes names unique by numbering repeats ("Blue Comet", "Blue Comet 2"): artist_name is a key in Gold. */
function uniqueNames(count: number, make: () => string): string[] {
  const seen = new Map<string, number>();
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = make();
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    names.push(n === 1 ? base : `${base} ${n}`);
  }
  return names;
}
