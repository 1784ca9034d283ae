/**
 * `mds local up --source spotify-api`: the whole pipeline on the Spotify Web API instead of the simulator.
 * One poll of every locally connected user (the poller's bundle in the local Lambda runtime, given as `poll`)
 * produces their new plays to the local broker; the event source mapping lands them in Bronze; the window
 * follows the polled plays, read back from this run's Bronze lines (by their offsets): the workflow runs over
 * the hours that hold them, in windows of at most workflow.maxWindowDays (the history source's windowing).
 * An hour that has not ended yet is not run (PlanWindow refuses a window ending in the future): its plays are
 * in Bronze and reported as pending, for the run of that hour once it has ended. The reconciliation is the
 * history source's: this run's offsets against what landed and was quarantined, the Reconcile function over
 * each window run, and the simulated-events check skipped with its reason.
 */
import { gunzipSync } from 'node:zlib';
import { BRONZE_PREFIX, QUARANTINE_PREFIX } from '../../lambdas/core/bronze.ts';
import { getObjectBytes, listObjects } from '../../lambdas/core/s3.ts';
import { floorHour, HOUR_MS } from '../../lambdas/core/window.ts';
import { check, goldGlimpse } from '../../lambdas/reconcile/reconcile.ts';
import type { PollSummary } from '../../lambdas/poller/poll.ts';
import { loadConfig, type EnvironmentName } from '../../lib/config/environments.ts';
import type { FunctionReport } from '../lambda/runtime.ts';
import { historyWindows } from './history.ts';
import type { LocalServices } from './services.ts';
import {
  bronzeLineOffset,
  countRecords,
  offsetDetail,
  quarantineLineOffset,
  reconcileWindows,
  recordsOfOffsets,
  runWindowsLocally,
  stageTimer,
  offsetRanges,
  simulatedSilverSkipped,
  servicesOfReport,
  eventsOfSource,
  warehouseCounts,
  topicOffsets,
  type LocalCheck,
  type Offsets,
  type PipelineCallbacks,
  type PipelineReport,
} from './up.ts';

/** The value of `--source` that selects this source. */
export const SPOTIFY_API_SOURCE_NAME = 'spotify-api';

/** One poll into the services' broker, by the poller function; `report` is the runtime's report of it. */
export interface ApiPoll {
  readonly summary: PollSummary;
  readonly report?: FunctionReport;
}

export interface SpotifyApiSource {
  /** The Web API base URL the poll used (for the report). */
  readonly apiBaseUrl: string;
  readonly poll: () => Promise<ApiPoll>;
}

interface SourceOfReport {
  readonly kind: 'spotify-api';
  readonly apiBaseUrl: string;
  readonly poll: PollSummary;
  /** This run's plays in hours that have not ended yet: landed, not run. */
  readonly pending: { readonly hours: readonly string[]; readonly plays: number };
}

/** What `local up` reports of a poll, beside the pipeline's report. */
export interface SpotifyApiReport extends PipelineReport {
  readonly source: SourceOfReport;
}

/** A poll that brought no new play: nothing landed, nothing run. */
export interface NoNewPlays {
  readonly source: Omit<SourceOfReport, 'pending'>;
  readonly plays: 0;
}

/** The event times of this run's Bronze lines (by their offsets), as event hours with their play counts. */
export async function playHours(services: LocalServices, offsets: Offsets): Promise<Map<string, number>> {
  const { s3, bucket, topic } = services;
  const ranges = new Map(offsets.map((o) => [o.partition, o]));
  const hours = new Map<string, number>();
  for await (const o of listObjects(s3, bucket, BRONZE_PREFIX)) {
    const m = /\/([^/]+)-(\d+)-(\d+)-(\d+)\.ndjson\.gz$/.exec(o.key);
    if (!m || m[1] !== topic) continue;
    const range = ranges.get(Number(m[2]));
    if (!range || Number(m[4]) < range.first || Number(m[3]) >= range.end) continue;
    const text = gunzipSync(await getObjectBytes(s3, bucket, o.key)).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const record = JSON.parse(line) as Record<string, unknown>;
      const { offset } = bronzeLineOffset(record);
      if (offset < range.first || offset >= range.end) continue;
      const hour = floorHour(new Date(String(record.timestamp))).toISOString();
      hours.set(hour, (hours.get(hour) ?? 0) + 1);
    }
  }
  return new Map([...hours].sort(([a], [b]) => a.localeCompare(b)));
}

export async function runLocalSpotifyApiPipeline(
  services: LocalServices,
  source: SpotifyApiSource,
  callbacks: PipelineCallbacks = {},
  stages: Record<string, number> = {},
  now: () => Date = () => new Date(),
): Promise<SpotifyApiReport | NoNewPlays> {
  const stage = stageTimer(callbacks, stages);
  const firstOffsets = await topicOffsets(services);
  const polled = await stage('poll', () => source.poll());
  const poll = polled.summary;
  callbacks.produced?.(poll.plays, poll.plays);
  if (poll.plays === 0) {
    return { source: { kind: 'spotify-api', apiBaseUrl: source.apiBaseUrl, poll }, plays: 0 };
  }

  await stage('land', () => services.mapping.drained(10 * 60_000));
  // Landed: the Consumer's environments end, as Lambda reclaims idle ones, and what their heaps hold is not
  // held through the workflow (a record produced later gets a fresh one).
  await services.lambda.retireIdle('Consumer');
  const endOffsets = await topicOffsets(services);
  const offsets = offsetRanges(firstOffsets, endOffsets);
  const produced = offsets.reduce((n, o) => n + o.end - o.first, 0);

  // The window follows the plays: from the first to the last event hour of what this run landed.
  const hours = await playHours(services, offsets);
  const all = [...hours.keys()];
  const cutoff = now().getTime();
  const ended = all.filter((h) => Date.parse(h) + HOUR_MS <= cutoff);
  const pendingHours = all.filter((h) => Date.parse(h) + HOUR_MS > cutoff);
  const pending = {
    hours: pendingHours,
    plays: pendingHours.reduce((n, h) => n + (hours.get(h) ?? 0), 0),
  };
  const window =
    all.length > 0
      ? { start: all[0]!, end: new Date(Date.parse(all.at(-1)!) + HOUR_MS).toISOString() }
      : { start: floorHour(now()).toISOString(), end: floorHour(now()).toISOString() };
  const envName = services.assembly.envName as EnvironmentName;
  const runWindows = historyWindows(ended, loadConfig(envName).workflow.maxWindowDays);

  const runs = await stage('workflow', () =>
    runWindowsLocally(services, runWindows, 'local-up-api', callbacks),
  );

  return stage('reconcile', async () => {
    const landed = await recordsOfOffsets(services, BRONZE_PREFIX, offsets, bronzeLineOffset);
    const quarantined = await recordsOfOffsets(services, QUARANTINE_PREFIX, offsets, quarantineLineOffset);
    const bronze = await countRecords(services.s3, services.bucket, BRONZE_PREFIX);
    const quarantine = await countRecords(services.s3, services.bucket, QUARANTINE_PREFIX);
    // The Reconcile function over each window the workflow ran.
    const reconciled = await reconcileWindows(services, runWindows);
    return services.warehouse.use(async (wh) => {
      const { bronzeRows, silverRows, silverInWindow, gold } = await warehouseCounts(wh, window);
      const checks: LocalCheck[] = [
        check('plays polled = produced', poll.plays, produced),
        check(
          'produced = landed + quarantined',
          produced,
          landed.total + quarantined.total,
          offsetDetail(offsets, landed, quarantined),
        ),
        check('polled plays quarantined', 0, quarantined.total),
        ...reconciled,
        simulatedSilverSkipped(
          silverInWindow,
          'the events come from the Spotify Web API (recently-played), not the simulator',
        ),
      ];
      const glimpse = await goldGlimpse(wh, window, 5);
      return {
        window,
        seed: 0,
        events: eventsOfSource(produced, landed.total, quarantined.total),
        bronze,
        quarantine,
        warehouse: { bronze_rows: bronzeRows },
        silver: { rows: silverRows },
        gold,
        runs,
        reconciliation: { ok: checks.every((c) => c.ok), checks },
        offsets,
        top: { tracks: glimpse.topTracks, artists: glimpse.topArtists },
        stages,
        functions: [...services.lambda.report(), ...(polled.report ? [polled.report] : [])],
        ...servicesOfReport(services),
        source: { kind: 'spotify-api', apiBaseUrl: source.apiBaseUrl, poll, pending },
      };
    });
  });
}
