/**
 * The listening-event simulator: deterministic for a given seed, pure (no I/O, no clock), streaming.
 *
 * Users listen in sessions (runs of tracks with short gaps) that start more often at the busy hours of their
 * local day; songs are picked with Zipf-like popularity and are skipped, paused and added to playlists at rates
 * of their own. Faults for the later stages are injected in exact numbers: duplicates (byte-identical re-sends),
 * late events (sent 1-6 h after their event time) and invalid records of five kinds.
 *
 * Memory stays bounded for any number of events: the window is cut into slices of at most one hour and
 * MAX_EVENTS_PER_SLICE events; only the sessions active at a time and the pending re-sends are held.
 */
import type { ListeningEventV2 as ListeningEvent } from '../contract.ts';
import { ConfigError } from '../errors.ts';
import {
  buildCatalog,
  buildPopulation,
  DAILY_RHYTHM,
  eventFragment,
  sessionDevice,
  type Catalog,
} from './catalog.ts';
import { LineEncoder } from './encode.ts';
import { INVALID_KINDS, makeInvalid, type InvalidKind } from './faults.ts';
import { TimeHeap, type Timed } from './heap.ts';
import { AliasTable, Prng, Selection, mix32 } from './prng.ts';

export { INVALID_KINDS, type InvalidKind } from './faults.ts';

export interface SimulatorOptions {
  readonly seed: number;
  /** Total records emitted, faults included. */
  readonly events: number;
  /** Event-time window [start, end). */
  readonly start: Date;
  readonly end: Date;
  /** @default 1000 */
  readonly users?: number;
  /** Catalog size; artists ~ songs / 8. @default 5000 */
  readonly songs?: number;
  /** @default 0 */
  readonly duplicateFraction?: number;
  /** @default 0 */
  readonly lateFraction?: number;
  /** @default 0 */
  readonly invalidFraction?: number;
}

export type Fault = 'none' | 'duplicate' | 'late' | 'invalid';

export interface SimulatedRecord {
  /** Kafka key = user_id (null only for some invalid records). */
  readonly key: string | null;
  /** The serialized record: one line, no newline (may be malformed JSON if invalid). */
  readonly value: string;
  /** When it is sent = the Kafka record timestamp; records come in sendTime order. */
  readonly sendTime: Date;
  readonly fault: Fault;
  readonly invalidKind?: InvalidKind;
}

export interface SimulationSummary {
  readonly records: number;
  readonly valid: number;
  readonly distinctEvents: number;
  readonly duplicates: number;
  readonly late: number;
  readonly invalid: number;
  readonly invalidByKind: Readonly<Record<string, number>>;
  /** Size of the simulated population (not all of them need to listen in a short run). */
  readonly users: number;
  readonly songs: number;
  readonly artists: number;
  readonly window: { readonly start: string; readonly end: string };
}

export interface SimulationRun {
  /** A fresh generator on every call, always yielding the same records in the same order. */
  records(): Generator<SimulatedRecord>;
  /** Exact counts of what records() yields; known up front, so callable before, during or after a run. */
  summary(): SimulationSummary;
}

export const DEFAULT_USERS = 1000;
export const DEFAULT_SONGS = 5000;

const EARLIEST_MS = Date.parse('1000-01-01T00:00:00.000Z');
const LATEST_MS = Date.parse('9999-12-31T23:59:59.999Z');
/** The window is planned hour by hour; ten years are 87,660 hours. */
const MAX_WINDOW_MS = 3653 * 86_400_000;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** Late events are sent this long after their event time. */
const LATE_MIN_MS = HOUR;
const LATE_MAX_MS = 6 * HOUR;
/** A duplicate is re-sent at least a second after the original (a producer retry or a redelivery). */
const DUPLICATE_MIN_DELAY_MS = SECOND;
const DUPLICATE_MEAN_DELAY_MS = MINUTE;
const DUPLICATE_MAX_DELAY_MS = 15 * MINUTE;
/** Slices hold at most this many events' sessions: the bound on memory for any N. */
const MAX_EVENTS_PER_SLICE = 20_000;
/** A user does not start a new session within this gap of their previous one (the Gold definition of a session). */
const SESSION_GAP_MS = 30 * MINUTE;
const MAX_TRACKS_PER_SESSION = 150;
/** Chance that the next track is by the same artist as the previous one (albums, artist radio). */
const SAME_ARTIST_SHARE = 0.3;
/** Skip propensity by device (mobile, desktop, web): phones are skipped on more. */
const DEVICE_SKIP_FACTOR = [1.15, 0.85, 0.95];

const PLAY = 0;
const PAUSE = 1;
const SKIP = 2;
const ADD_TO_PLAYLIST = 3;

interface Plan {
  readonly seed: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly users: number;
  readonly songs: number;
  /** Events drawn from sessions: every record except the duplicates' re-sends. */
  readonly base: number;
  readonly invalidByKind: readonly number[];
  readonly summary: SimulationSummary;
}

/** A session in progress: its pre-drawn events as flat quadruples (time, type, song, duration_ms). */
interface Session extends Timed {
  seq: number;
  readonly user: number;
  readonly device: number;
  readonly events: number[];
  pos: number;
}

interface Pending extends Timed {
  readonly key: string;
  readonly value: string;
  readonly fault: 'duplicate' | 'late';
}

export function simulate(options: SimulatorOptions): SimulationRun {
  const plan = planRun(options);
  return { records: () => generate(plan), summary: () => plan.summary };
}

function planRun(o: SimulatorOptions): Plan {
  if (!Number.isSafeInteger(o.seed))
    throw new ConfigError('seed', `must be an integer, got ${o.seed}`, 'Pass a whole number.');
  const events = count('events', o.events, 0);
  const users = count('users', o.users ?? DEFAULT_USERS, 1);
  const songs = count('songs', o.songs ?? DEFAULT_SONGS, 1);
  const startMs = instant('start', o.start);
  const endMs = instant('end', o.end);
  if (endMs <= startMs) {
    throw new ConfigError(
      'end',
      `${o.end.toISOString()} is not after start ${o.start.toISOString()}`,
      'Pass an end later than the start.',
    );
  }
  if (endMs - startMs > MAX_WINDOW_MS) {
    throw new ConfigError(
      'end',
      'the window is longer than 10 years',
      'Simulate a shorter window, in several runs if need be.',
    );
  }
  const duplicates = Math.round(events * fraction('duplicateFraction', o.duplicateFraction));
  const late = Math.round(events * fraction('lateFraction', o.lateFraction));
  const invalid = Math.round(events * fraction('invalidFraction', o.invalidFraction));
  const distinct = events - duplicates - invalid;
  if (distinct < 0 || duplicates > distinct || late > distinct) {
    throw new ConfigError(
      'duplicateFraction/lateFraction/invalidFraction',
      `leave ${Math.max(0, distinct)} distinct events for ${duplicates} duplicates and ${late} late events`,
      'Lower the fractions: duplicates and late events are copies or delays of distinct valid events.',
    );
  }
  // Split the invalid records evenly over the kinds, so every kind shows up in any run with a few of them.
  const invalidByKind = INVALID_KINDS.map(
    (_, i) =>
      Math.floor((invalid * (i + 1)) / INVALID_KINDS.length) -
      Math.floor((invalid * i) / INVALID_KINDS.length),
  );
  return {
    seed: o.seed,
    startMs,
    endMs,
    users,
    songs,
    base: events - duplicates,
    invalidByKind,
    summary: {
      records: events,
      valid: events - invalid,
      distinctEvents: distinct,
      duplicates,
      late,
      invalid,
      invalidByKind: Object.fromEntries(INVALID_KINDS.map((k, i) => [k, invalidByKind[i] as number])),
      users,
      songs,
      artists: Math.max(1, Math.round(songs / 8)),
      window: { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() },
    },
  };
}

function* generate(plan: Plan): Generator<SimulatedRecord> {
  if (plan.base === 0) return;
  const { startMs, endMs } = plan;
  const world = new Prng(plan.seed, 0);
  const behaviour = new Prng(plan.seed, 1);
  // Event ids come from a stream of the seed and the window's start (whole seconds): runs of one seed over
  // successive windows (`mds local up --once` hour after hour, a month of history and then its next hour)
  // share their world (catalog, listeners) but never an event id, while one seed and window give the same ids.
  const startSeconds = Math.floor(startMs / SECOND);
  const ids = new Prng(plan.seed ^ mix32(startSeconds ^ mix32(Math.floor(startSeconds / 2 ** 32))), 2);
  const faults = new Prng(plan.seed, 3);
  const catalog = buildCatalog(world, plan.songs, new Prng(plan.seed, 4));
  const population = buildPopulation(world, plan.users);
  const { users, zones, userFragments, userCountries } = population;
  const { summary } = plan;

  const invalidPick = new Selection(summary.invalid, plan.base);
  const latePick = new Selection(summary.late, summary.distinctEvents);
  const duplicatePick = new Selection(summary.duplicates, summary.distinctEvents);
  const kindsLeft = [...plan.invalidByKind];
  let invalidLeft = summary.invalid;

  const sessions = new TimeHeap<Session>();
  const pending = new TimeHeap<Pending>();
  const busyFrom = new Float64Array(users.length).fill(-Infinity);
  const busyUntil = new Float64Array(users.length).fill(-Infinity);
  let seq = 0;
  const encoder = new LineEncoder();

  const hours = hourSlices(startMs, endMs);
  const quotas = apportion(
    plan.base,
    hours.map(([from, to]) => {
      const middle = (from + to) / 2;
      return (
        (to - from) *
        zones.reduce((sum, z) => sum + z.activity * DAILY_RHYTHM[localHour(middle, z.offsetMinutes)]!, 0)
      );
    }),
  );

  for (let h = 0; h < hours.length; h++) {
    const [hourFrom, hourTo] = hours[h] as [number, number];
    const quota = quotas[h] as number;
    const middle = (hourFrom + hourTo) / 2;
    const zonePick = new AliasTable(
      zones.map((z) => z.activity * DAILY_RHYTHM[localHour(middle, z.offsetMinutes)]!),
    );
    const length = hourTo - hourFrom;
    const parts = Math.min(length, Math.max(1, Math.ceil(quota / MAX_EVENTS_PER_SLICE)));
    for (let p = 0; p < parts; p++) {
      const from = hourFrom + Math.floor((length * p) / parts);
      const to = hourFrom + Math.floor((length * (p + 1)) / parts);
      let left = Math.floor((quota * (p + 1)) / parts) - Math.floor((quota * p) / parts);

      // Start sessions in this slice until they hold its share of events; the last one is cut short.
      const started: Session[] = [];
      while (left > 0) {
        const at = from + Math.floor(behaviour.float() * (to - from));
        const zone = zones[zonePick.sample(behaviour)]!;
        let user = 0;
        for (let attempt = 0; attempt < 4; attempt++) {
          user = zone.members[zone.users.sample(behaviour)]!;
          if (at < busyFrom[user]! - SESSION_GAP_MS || at > busyUntil[user]! + SESSION_GAP_MS) break;
        }
        const device = sessionDevice(behaviour, users[user]!);
        const events = drawSession(behaviour, catalog, at, endMs, left, device);
        left -= events.length / 4;
        busyFrom[user] = at;
        busyUntil[user] = events[events.length - 4]!;
        started.push({ at, seq: 0, user, device, events, pos: 0 });
      }
      started.sort((a, b) => a.at - b.at);
      for (const s of started) {
        s.seq = seq++;
        sessions.push(s);
      }

      // Every session that can still add an event before `to` has started: emit up to `to`, in time order.
      for (;;) {
        const session = sessions.peek();
        if (session === undefined || session.at >= to) break;
        const ev = session.events;
        const i = session.pos;
        const t = ev[i]!;
        const type = ev[i + 1]!;
        const song = catalog.songs[ev[i + 2]!]!;
        const duration = ev[i + 3]!;
        session.pos = i + 4;
        if (session.pos < ev.length) {
          session.at = ev[session.pos]!;
          sessions.updateTop();
        } else {
          sessions.pop();
        }

        while (pending.size > 0 && pending.peek()!.at <= t) yield release(pending.pop()!);

        const user = session.user;
        const value =
          encoder.head(ids) +
          userFragments[user]! +
          song.fragment +
          eventFragment(userCountries[user]!, session.device, type) +
          encoder.tail(t, duration);
        const key = users[user]!.id;

        if (invalidLeft > 0 && invalidPick.next(faults)) {
          const kind = pickKind(faults, kindsLeft, invalidLeft);
          invalidLeft--;
          const event = JSON.parse(value) as ListeningEvent;
          const bad = makeInvalid(faults, event, kind);
          yield {
            key: bad.key,
            value: bad.value,
            sendTime: new Date(t),
            fault: 'invalid',
            invalidKind: kind,
          };
          continue;
        }
        const isLate = latePick.next(faults);
        const isDuplicate = duplicatePick.next(faults);
        const sentAt = isLate ? t + LATE_MIN_MS + faults.int(LATE_MAX_MS - LATE_MIN_MS + 1) : t;
        if (isLate) pending.push({ at: sentAt, seq: seq++, key, value, fault: 'late' });
        if (isDuplicate) {
          const delay = Math.min(
            DUPLICATE_MAX_DELAY_MS,
            DUPLICATE_MIN_DELAY_MS + Math.floor(faults.exponential(DUPLICATE_MEAN_DELAY_MS)),
          );
          pending.push({ at: sentAt + delay, seq: seq++, key, value, fault: 'duplicate' });
        }
        if (!isLate) yield { key, value, sendTime: new Date(t), fault: 'none' };
      }
    }
  }
  while (pending.size > 0) yield release(pending.pop()!);
}

function release(p: Pending): SimulatedRecord {
  return { key: p.key, value: p.value, sendTime: new Date(p.at), fault: p.fault };
}

/**
 * Pre-draws one session from `startMs`: tracks follow each other with short gaps; each track is a `play`
 * (duration_ms = all of it that was listened), maybe a `pause` and an `add_to_playlist` during it, and a `skip`
 * when it was abandoned. Stops at `maxEvents` or at the end of the window, whichever comes first.
 */
function drawSession(
  rng: Prng,
  catalog: Catalog,
  startMs: number,
  endMs: number,
  maxEvents: number,
  device: number,
): number[] {
  const ev: number[] = [];
  const limit = maxEvents * 4;
  const tracks = Math.min(MAX_TRACKS_PER_SESSION, 1 + Math.floor(Math.exp(1.5 + 0.8 * rng.normal())));
  let t = startMs;
  let previous = -1;
  for (let k = 0; k < tracks; k++) {
    let index: number;
    if (previous >= 0 && rng.chance(SAME_ARTIST_SHARE)) {
      index = rng.pick(catalog.songsByArtist[catalog.songs[previous]!.artist]!);
    } else {
      index = catalog.popularity.sample(rng);
    }
    previous = index;
    const song = catalog.songs[index]!;
    const skipped = rng.chance(song.skipProb * DEVICE_SKIP_FACTOR[device]!);
    const listened = skipped
      ? Math.min(song.durationMs - SECOND, 1500 + Math.floor(rng.exponential(25 * SECOND)))
      : rng.chance(0.75)
        ? song.durationMs
        : Math.floor(song.durationMs * (0.8 + 0.2 * rng.float()));
    let pauseAt = -1;
    let pauseLength = 0;
    if (listened > 20 * SECOND && rng.chance(song.pauseProb)) {
      pauseAt = Math.floor(listened * (0.1 + 0.8 * rng.float()));
      pauseLength = Math.min(20 * MINUTE, 2 * SECOND + Math.floor(rng.exponential(45 * SECOND)));
    }
    const addAt =
      !skipped && rng.chance(song.addProb) ? Math.floor(listened * (0.2 + 0.8 * rng.float())) : -1;
    // Wall-clock time of the playlist add: after the pause, the pause adds to it.
    const addTime = t + addAt + (pauseAt >= 0 && addAt > pauseAt ? pauseLength : 0);

    if (!add(ev, limit, endMs, t, PLAY, index, listened)) break;
    if (pauseAt >= 0 && (addAt < 0 || pauseAt <= addAt)) {
      if (!add(ev, limit, endMs, t + pauseAt, PAUSE, index, pauseAt)) break;
      if (addAt >= 0 && !add(ev, limit, endMs, addTime, ADD_TO_PLAYLIST, index, addAt)) break;
    } else {
      if (addAt >= 0 && !add(ev, limit, endMs, addTime, ADD_TO_PLAYLIST, index, addAt)) break;
      if (pauseAt >= 0 && !add(ev, limit, endMs, t + pauseAt, PAUSE, index, pauseAt)) break;
    }
    if (skipped && !add(ev, limit, endMs, t + listened + pauseLength, SKIP, index, listened)) break;
    // Next track: a short gap, sometimes a longer one spent browsing.
    let gap = 300 + Math.floor(rng.exponential(2 * SECOND));
    if (rng.chance(0.06)) gap += Math.floor(rng.exponential(90 * SECOND));
    t += listened + pauseLength + gap;
  }
  return ev;
}

/** Appends one event (time, type, song, duration_ms) unless the session is full or the window has ended. */
function add(
  ev: number[],
  limit: number,
  endMs: number,
  t: number,
  type: number,
  song: number,
  duration: number,
): boolean {
  if (t >= endMs || ev.length >= limit) return false;
  ev.push(t, type, song, duration);
  return true;
}

/** Picks an invalid kind with probability proportional to how many of it are still to come. */
function pickKind(rng: Prng, left: number[], total: number): InvalidKind {
  let r = rng.int(total);
  for (let k = 0; k < left.length; k++) {
    r -= left[k]!;
    if (r < 0) {
      left[k]!--;
      return INVALID_KINDS[k]!;
    }
  }
  throw new Error('pickKind: no invalid kinds left');
}

/** The window cut at UTC hour boundaries. */
function hourSlices(startMs: number, endMs: number): [number, number][] {
  const slices: [number, number][] = [];
  for (let h = Math.floor(startMs / HOUR) * HOUR; h < endMs; h += HOUR) {
    slices.push([Math.max(h, startMs), Math.min(h + HOUR, endMs)]);
  }
  return slices;
}

function localHour(ms: number, offsetMinutes: number): number {
  const minuteOfDay = (((Math.floor(ms / MINUTE) + offsetMinutes) % 1440) + 1440) % 1440;
  return Math.floor(minuteOfDay / 60);
}

/** Splits `total` into integers proportional to `weights` (largest remainder), summing exactly to `total`. */
function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (sum > 0 ? (total * w) / sum : total / weights.length));
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => [x - Math.floor(x), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) shares[order[k]![1]]!++;
  return shares;
}

function count(setting: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(
      setting,
      `must be an integer >= ${min}, got ${value}`,
      `Pass a whole number of at least ${min}.`,
    );
  }
  return value;
}

function fraction(setting: string, value: number | undefined): number {
  const f = value ?? 0;
  if (!Number.isFinite(f) || f < 0 || f > 1) {
    throw new ConfigError(
      setting,
      `must be a fraction between 0 and 1, got ${f}`,
      'Pass a number such as 0.01.',
    );
  }
  return f;
}

function instant(setting: string, value: Date): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new ConfigError(setting, 'is not a valid date', 'Pass a Date.');
  // Event timestamps are ISO-8601 with a four-digit year.
  if (ms < EARLIEST_MS || ms > LATEST_MS) {
    throw new ConfigError(
      setting,
      `${value.toISOString()} is out of range`,
      'Pass a date between the years 1000 and 9999.',
    );
  }
  return ms;
}
