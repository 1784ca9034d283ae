/**
 * `mds local up --source history:PATH`: the whole pipeline on a Spotify streaming-history export instead of
 * the simulator. The export is read once without sending (its hours and counts: the window follows the data,
 * from the first to the last event hour, and a window the workflow would refuse stops before anything is
 * produced), then imported through the local broker; the event source mapping lands it in Bronze; the
 * workflow runs over the hours that hold events, in windows of at most the environment's
 * workflow.maxWindowDays (an export spans years: one run per hour would be tens of thousands of runs); and the
 * reconciliation is that of the simulated run, by this run's offsets, plus the import's own counts. The check
 * that compares simulated events with Silver is skipped, with the reason.
 */
import { floorHour, HOUR_MS } from '../../lambdas/core/window.ts';
import { createKafka, createProducer } from '../../lambdas/core/kafka.ts';
import { kafkaFailure, produceRecords } from '../../lambdas/core/produce.ts';
import { BRONZE_PREFIX, QUARANTINE_PREFIX } from '../../lambdas/core/bronze.ts';
import { UsageError } from '../../lambdas/core/errors.ts';
import { check, goldGlimpse } from '../../lambdas/reconcile/reconcile.ts';
import type { RunWindow } from '../../lambdas/core/run-summary.ts';
import {
  describeImport,
  importHistory,
  type ImportSummary,
} from '../../lambdas/core/spotify/history-import.ts';
import { localItems } from '../../lambdas/core/spotify/history-source.ts';
import { loadConfig, type EnvironmentName } from '../../lib/config/environments.ts';
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
  type PipelineCallbacks,
  type PipelineReport,
} from './up.ts';

export interface HistorySourceOptions {
  readonly paths: readonly string[];
  /** The user id of entries without `username`. */
  readonly user?: string;
}

/** What `local up` reports of an import, beside the pipeline's report. */
export interface HistoryReport extends PipelineReport {
  readonly source: {
    readonly kind: 'history';
    readonly paths: readonly string[];
    readonly import: ImportSummary;
  };
}

/** A pre-read of the export: its hours and counts, nothing sent. */
export async function scanHistory(source: HistorySourceOptions): Promise<ImportSummary> {
  return importHistory(localItems(source.paths), { user: source.user, send: async () => undefined });
}

/**
 * The workflow windows over the hours that hold events: each starts at an hour with events and ends after
 * the last event hour it covers, at most `maxWindowDays` long; hours with no events between windows are
 * not run.
 */
export function historyWindows(hours: readonly string[], maxWindowDays: number): RunWindow[] {
  const max = maxWindowDays * 24 * HOUR_MS;
  const windows: RunWindow[] = [];
  let start: number | undefined;
  let last = 0;
  for (const h of hours) {
    const t = Date.parse(h);
    if (start !== undefined && t + HOUR_MS - start <= max) {
      last = t;
      continue;
    }
    if (start !== undefined) windows.push(windowOf(start, last));
    start = t;
    last = t;
  }
  if (start !== undefined) windows.push(windowOf(start, last));
  return windows;
}

const windowOf = (start: number, lastHour: number): RunWindow => ({
  start: new Date(start).toISOString(),
  end: new Date(lastHour + HOUR_MS).toISOString(),
});

export async function runLocalHistoryPipeline(
  services: LocalServices,
  source: HistorySourceOptions,
  scanned: ImportSummary,
  callbacks: PipelineCallbacks = {},
  stages: Record<string, number> = {},
): Promise<HistoryReport> {
  const stage = stageTimer(callbacks, stages);
  if (scanned.firstEventTime === null || scanned.lastEventTime === null) {
    throw new UsageError(
      `--source history: the export holds no track entries to import (${describeImport(scanned).join('; ')})`,
    );
  }
  const window = {
    start: floorHour(new Date(scanned.firstEventTime)).toISOString(),
    end: new Date(floorHour(new Date(scanned.lastEventTime)).getTime() + HOUR_MS).toISOString(),
  };
  const envName = services.assembly.envName as EnvironmentName;
  const runWindows = historyWindows(scanned.hours, loadConfig(envName).workflow.maxWindowDays);
  const firstOffsets = await topicOffsets(services);

  const imported = await stage('produce', async () => {
    const producer = createProducer(createKafka({ brokers: services.brokers, clientId: 'mds-local-up' }));
    await producer.connect();
    let sent = 0;
    try {
      return await importHistory(localItems(source.paths), {
        user: source.user,
        send: async (records) => {
          await produceRecords(producer, services.topic, records);
          sent += records.length;
          callbacks.produced?.(sent, scanned.sent);
        },
      });
    } catch (err) {
      throw kafkaFailure(err, services.brokers, services.topic);
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
  });

  await stage('land', () => services.mapping.drained(10 * 60_000));
  // Landed: the Consumer's environments end, as Lambda reclaims idle ones, and what their heaps hold is not
  // held through the workflow (a record produced later gets a fresh one).
  await services.lambda.retireIdle('Consumer');
  const endOffsets = await topicOffsets(services);
  const offsets = offsetRanges(firstOffsets, endOffsets);

  const runs = await stage('workflow', () =>
    runWindowsLocally(services, runWindows, 'local-up-history', callbacks),
  );

  return stage('reconcile', async () => {
    const landed = await recordsOfOffsets(services, BRONZE_PREFIX, offsets, bronzeLineOffset);
    const quarantined = await recordsOfOffsets(services, QUARANTINE_PREFIX, offsets, quarantineLineOffset);
    const bronze = await countRecords(services.s3, services.bucket, BRONZE_PREFIX);
    const quarantine = await countRecords(services.s3, services.bucket, QUARANTINE_PREFIX);
    // The Reconcile function over each window the workflow ran.
    const reconciled = await reconcileWindows(services, runWindows);
    const t = imported.totals;
    return services.warehouse.use(async (wh) => {
      const { bronzeRows, silverRows, silverInWindow, gold } = await warehouseCounts(wh, window);
      const checks: LocalCheck[] = [
        check(
          'export entries = imported + left out + rejected',
          t.entries,
          t.imported + t.leftOut + t.rejected,
        ),
        check('imported = produced', t.imported, imported.sent),
        check(
          'produced = landed + quarantined',
          imported.sent,
          landed.total + quarantined.total,
          offsetDetail(offsets, landed, quarantined),
        ),
        check('imported events quarantined', 0, quarantined.total),
        ...reconciled,
        simulatedSilverSkipped(
          silverInWindow,
          'the events come from a streaming-history export, not the simulator',
        ),
      ];
      const glimpse = await goldGlimpse(wh, window, 5);
      return {
        window,
        seed: 0,
        events: eventsOfSource(imported.sent, landed.total, quarantined.total),
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
        functions: services.lambda.report(),
        ...servicesOfReport(services),
        source: { kind: 'history', paths: source.paths, import: imported },
      };
    });
  });
}
