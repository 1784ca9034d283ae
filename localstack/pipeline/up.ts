/**
 * `mds local up`: the whole pipeline on the embedded default. Starts the local services, produces simulated
 * events through the broker, waits until the event source mapping has landed them in Bronze, runs the hourly
 * workflow for every hour of the window, and reconciles: the Reconcile function over the whole window (object
 * by object, event by event), this run's records on the topic against what landed and was quarantined (by
 * their offsets, so an earlier run's records do not count), and the simulated events against Silver.
 */
import { Worker } from 'node:worker_threads';
import { MdsError } from '../../lambdas/core/errors.ts';
import type { ProduceWorkerInput, ProduceWorkerMessage } from './produce-worker.ts';
import {
  simulate,
  type SimulationSummary,
  type SimulatorOptions,
} from '../../lambdas/core/simulator/index.ts';
import { gunzipSync } from 'node:zlib';
import { BRONZE_PREFIX, QUARANTINE_PREFIX } from '../../lambdas/core/bronze.ts';
import { createKafka } from '../../lambdas/core/kafka.ts';
import { getObjectBytes, listObjects, type ObjectSummary } from '../../lambdas/core/s3.ts';
import { check, goldGlimpse, recordCounts, type ReconcileResult } from '../../lambdas/reconcile/reconcile.ts';
import { LambdaInvocationError, type FunctionReport } from '../lambda/runtime.ts';
import type { ReconcileCheck, RunSummary, RunWindow } from '../../lambdas/core/run-summary.ts';
import { bronzePrefixes, HOUR_MS, sqlTimestamp } from '../../lambdas/core/window.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Warehouse } from '../../lambdas/core/warehouse/types.ts';
import { GOLD_TABLES } from '../../dashboard/gold.ts';
import type { HistoryEvent } from '../workflow/executor.ts';
import type { LocalServices } from './services.ts';
import { runWorkflowLocally } from './workflow.ts';
import { LOCAL_DEFAULTS } from '../paths.ts';

export interface PipelineReport {
  readonly window: { readonly start: string; readonly end: string };
  readonly seed: number;
  readonly events: {
    readonly produced: number;
    readonly valid: number;
    readonly distinct: number;
    readonly duplicates: number;
    readonly late: number;
    readonly invalid: number;
    readonly landed: number;
    readonly quarantined: number;
  };
  readonly bronze: { readonly records: number; readonly objects: number };
  readonly quarantine: { readonly records: number; readonly objects: number };
  readonly warehouse: { readonly bronze_rows: number };
  readonly silver: { readonly rows: number };
  readonly gold: Readonly<Record<string, number>>;
  readonly runs: readonly {
    readonly runId: string;
    readonly window: RunSummary['window'];
    readonly status: string;
  }[];
  /**
   * The Reconcile function's checks over the whole window, the landing checks of this run (by the topic's
   * offsets) and the one check only the laptop can make: the simulated events are Silver's.
   */
  readonly reconciliation: { readonly ok: boolean; readonly checks: readonly LocalCheck[] };
  /** This run's records on the topic: per partition, the offsets [first, end) it produced. */
  readonly offsets: readonly { readonly partition: number; readonly first: number; readonly end: number }[];
  readonly top: {
    readonly tracks: NonNullable<RunSummary['gold']>['topTracks'];
    readonly artists: NonNullable<RunSummary['gold']>['topArtists'];
  };
  readonly stages: Readonly<Record<string, number>>;
  /** The functions that ran, each from the asset of the cloud assembly (its hash is the asset's). */
  readonly functions: readonly FunctionReport[];
  /** The consumer's event source mapping: the template's settings and the local speed-ups over them. */
  readonly mapping: LocalServices['mappingSettings'];
  readonly assembly: { readonly dir: string; readonly env: string };
  readonly data: { readonly dir: string; readonly warehouse: string; readonly runs: string };
}

/** A reconciliation check of `local up`; `skipped` (its reason) when it cannot apply to this data directory. */
export interface LocalCheck extends ReconcileCheck {
  readonly skipped?: string;
}

export interface PipelineCallbacks {
  /** A stage starts / ends (for progress output). */
  readonly stage?: (name: string, phase: 'start' | 'end', seconds?: number) => void;
  readonly produced?: (sent: number, total: number) => void;
  readonly transition?: (runLabel: string, event: HistoryEvent) => void;
  readonly dbtLog?: (line: string) => void;
}

export async function runLocalPipeline(
  services: LocalServices,
  simulation: SimulatorOptions,
  callbacks: PipelineCallbacks = {},
  stages: Record<string, number> = {},
): Promise<PipelineReport> {
  const stage = stageTimer(callbacks, stages);
  const run = simulate(simulation);
  const sim = run.summary();
  const window = { start: simulation.start.toISOString(), end: simulation.end.toISOString() };
  // Before anything is produced: where this run's records start on the topic, and what Bronze the window
  // held already (an earlier run's), which decides whether Silver can be compared with this simulation.
  const firstOffsets = await topicOffsets(services);
  const before = await windowObjects(services.s3, services.bucket, window);

  await stage('produce', () =>
    produceInWorker(services, simulation, (sent) => callbacks.produced?.(sent, sim.records)),
  );

  await stage('land', () => services.mapping.drained(10 * 60_000));
  // Landed: the Consumer's environments end, as Lambda reclaims idle ones, and what their heaps hold is not
  // held through the workflow (a record produced later gets a fresh one).
  await services.lambda.retireIdle('Consumer');
  const endOffsets = await topicOffsets(services);
  const offsets = offsetRanges(firstOffsets, endOffsets);
  const earlier = await earlierBronze(services, window, before, offsets);

  const runs: PipelineReport['runs'][number][] = [];
  await stage('workflow', async () => {
    const start = simulation.start.getTime();
    const end = simulation.end.getTime();
    for (let t = start; t < end; t += HOUR_MS) {
      const window = {
        start: new Date(t).toISOString(),
        end: new Date(Math.min(t + HOUR_MS, end)).toISOString(),
      };
      const label = window.start.slice(0, 13).replace('T', ' ') + 'h';
      const result = await runWorkflowLocally(services, {
        window,
        executionName: `local-up-${window.start.replace(/[-:]/g, '').slice(0, 13)}-${Date.now().toString(36)}`,
        onEvent: (e) => callbacks.transition?.(label, e),
        dbtLog: callbacks.dbtLog,
      });
      runs.push({
        runId: result.summary?.runId ?? result.execution.executionName,
        window,
        status: result.execution.status,
      });
      if (result.execution.status !== 'SUCCEEDED') {
        throw new PipelineRunError(
          `the workflow run for ${window.start} failed: ${result.execution.error}: ${result.execution.cause}` +
            (result.runDir ? ` (summary: ${result.runDir})` : ''),
        );
      }
    }
  });

  return stage('reconcile', async () => {
    // This run's records, wherever they landed: counted by their offsets, so records of an earlier run
    // (one killed before its consumer committed, whose records this run's consumer landed again) are not.
    const landed = await recordsOfOffsets(services, BRONZE_PREFIX, offsets, bronzeLineOffset);
    const quarantined = await recordsOfOffsets(services, QUARANTINE_PREFIX, offsets, quarantineLineOffset);
    const bronze = await countRecords(services.s3, services.bucket, BRONZE_PREFIX);
    const quarantine = await countRecords(services.s3, services.bucket, QUARANTINE_PREFIX);
    // The Reconcile function, over the whole window: its bundle, in the local Lambda runtime, as the workflow
    // invokes it (it takes the warehouse lease itself, so it runs before this stage takes it).
    const reconciled = await reconcileFunction(services, window);
    return services.warehouse.use(async (wh) => {
      const { bronzeRows, silverRows, silverInWindow, gold } = await warehouseCounts(wh, window);
      const checks: LocalCheck[] = [
        check(
          'produced = landed + quarantined',
          sim.records,
          landed.total + quarantined.total,
          offsetDetail(offsets, landed, quarantined),
        ),
        check('invalid records produced = quarantined', sim.invalid, quarantined.total),
        ...reconciled,
        simulatedSilverCheck(sim.distinctEvents, silverInWindow, earlier),
      ];
      const glimpse = await goldGlimpse(wh, window, 5);
      const top = { tracks: glimpse.topTracks, artists: glimpse.topArtists };
      return {
        window,
        seed: simulation.seed,
        events: eventsOf(sim, landed.total, quarantined.total),
        bronze,
        quarantine,
        warehouse: { bronze_rows: bronzeRows },
        silver: { rows: silverRows },
        gold,
        runs,
        reconciliation: { ok: checks.every((c) => c.ok), checks },
        offsets,
        top,
        stages,
        functions: services.lambda.report(),
        ...servicesOfReport(services),
      };
    });
  });
}

/**
 * The events of a source that is not simulated (an export, the Web API): what it produced is all it knows,
 * with nothing invalid, duplicated or late by design.
 */
export function eventsOfSource(
  produced: number,
  landed: number,
  quarantined: number,
): PipelineReport['events'] {
  return {
    produced,
    valid: produced,
    distinct: produced,
    duplicates: 0,
    late: 0,
    invalid: 0,
    landed,
    quarantined,
  };
}

/** The run summary's account of the services: the mapping's settings, the assembly and the data directory. */
export function servicesOfReport(
  services: LocalServices,
): Pick<PipelineReport, 'mapping' | 'assembly' | 'data'> {
  return {
    mapping: services.mappingSettings,
    assembly: { dir: services.assembly.dir, env: services.assembly.envName },
    data: { dir: services.paths.root, warehouse: services.paths.warehouse, runs: services.paths.runs },
  };
}

/** Rows of Bronze, Silver (in all and in the window) and of each Gold table, for the run summary. */
export async function warehouseCounts(
  wh: Warehouse,
  window: RunWindow,
): Promise<{ bronzeRows: number; silverRows: number; silverInWindow: number; gold: Record<string, number> }> {
  const bronzeRows = await scalar(wh, 'select count(*) as n from bronze.listening_events');
  const silverRows = await scalar(wh, 'select count(*) as n from silver.stg_spotify__events');
  const silverInWindow = await scalar(
    wh,
    `select count(*) as n from silver.stg_spotify__events
      where event_timestamp >= cast($1 as timestamp) and event_timestamp < cast($2 as timestamp)`,
    [sqlTimestamp(window.start), sqlTimestamp(window.end)],
  );
  const gold: Record<string, number> = {};
  for (const table of GOLD_TABLES) gold[table] = await scalar(wh, `select count(*) as n from gold.${table}`);
  return { bronzeRows, silverRows, silverInWindow, gold };
}

/** The simulated-events check, printed and skipped with its reason, for a source other than the simulator. */
export function simulatedSilverSkipped(silverInWindow: number, reason: string): LocalCheck {
  return { name: SIMULATED_SILVER_CHECK, expected: 0, actual: silverInWindow, ok: true, skipped: reason };
}

/** The check a failed Reconcile invocation stands for: the function names what differs in its message. */
export const RECONCILE_FUNCTION_CHECK = 'the Reconcile function over the whole window';

/**
 * Invokes the Reconcile function over the window and returns its checks. When the function fails the
 * reconciliation (ReconciliationError, as it fails a run), its message, which names every check that
 * differs and what differs, is the one failed check; any other error stops `local up`.
 */
export async function reconcileFunction(
  services: LocalServices,
  window: RunWindow,
): Promise<ReconcileCheck[]> {
  try {
    const result = (await services.lambda.invoke('Reconcile', {
      runId: 'local-up',
      window,
      runStartedAt: new Date().toISOString(),
    })) as ReconcileResult;
    return [...result.checks];
  } catch (err) {
    if (!(err instanceof LambdaInvocationError) || err.name !== 'ReconciliationError') throw err;
    return [{ name: RECONCILE_FUNCTION_CHECK, expected: 0, actual: 1, ok: false, detail: err.errorMessage }];
  }
}

export const SIMULATED_SILVER_CHECK = 'distinct valid events simulated = silver rows in the window';

/**
 * The check only the laptop can make: Silver holds as many events in the window as were simulated. It
 * applies when no Bronze object of the window holds records produced before this run (see earlierBronze;
 * decided from what was there and from object names, never from the counts under test); otherwise Silver
 * may hold an earlier run's events too, and the check is reported as skipped, with that reason, not dropped.
 */
export function simulatedSilverCheck(
  simulatedDistinct: number,
  silverInWindow: number,
  earlier: { readonly objects: number; readonly records: number },
): LocalCheck {
  if (earlier.objects === 0) return check(SIMULATED_SILVER_CHECK, simulatedDistinct, silverInWindow);
  const reason =
    `the window holds ${earlier.objects.toLocaleString('en-US')} Bronze objects ` +
    `(${earlier.records.toLocaleString('en-US')} records) with records produced before this run ` +
    "(an earlier run's), so Silver may hold events this run did not simulate";
  return {
    name: SIMULATED_SILVER_CHECK,
    expected: simulatedDistinct,
    actual: silverInWindow,
    ok: true,
    skipped: reason,
  };
}

/** The next offset of every partition of the topic (its high watermark). */
export async function topicOffsets(services: LocalServices): Promise<Map<number, number>> {
  const admin = createKafka({ brokers: services.brokers, clientId: 'mds-local-up' }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(services.topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

export async function windowObjects(
  s3: S3Client,
  bucket: string,
  window: RunWindow,
): Promise<ObjectSummary[]> {
  const objects: ObjectSummary[] = [];
  for (const prefix of bronzePrefixes(window))
    for await (const o of listObjects(s3, bucket, prefix)) objects.push(o);
  return objects;
}

/**
 * The window's Bronze objects that hold records produced before this run, and their records: those that
 * were there before it produced anything, and those its consumer landed from records an earlier run left on
 * the topic (an object whose first offset is before this run's). Decided from object names and what was
 * there before, never from the counts the checks compare.
 */
export async function earlierBronze(
  services: LocalServices,
  window: RunWindow,
  before: readonly ObjectSummary[],
  offsets: Offsets,
): Promise<{ objects: number; records: number }> {
  const { s3, bucket, topic } = services;
  const firstOf = new Map(offsets.map((o) => [o.partition, o.first]));
  const keys = new Set(before.map((o) => o.key));
  const earlier = (await windowObjects(s3, bucket, window)).filter((o) => {
    if (keys.has(o.key)) return true;
    const m = OBJECT_NAME_RE.exec(o.key);
    return !m || m[1] !== topic || Number(m[3]) < (firstOf.get(Number(m[2])) ?? 0);
  });
  let records = 0;
  for (const n of (await recordCounts(s3, bucket, earlier)).values()) records += n;
  return { objects: earlier.length, records };
}

export type Offsets = PipelineReport['offsets'];
interface OffsetCount {
  readonly total: number;
  readonly byPartition: ReadonlyMap<number, number>;
}

const OBJECT_NAME_RE = /\/([^/]+)-(\d+)-(\d+)-(\d+)\.ndjson\.gz$/;

export const bronzeLineOffset = (line: Record<string, unknown>) => ({
  partition: Number(line._partition),
  offset: Number(line._offset),
});
export const quarantineLineOffset = (line: Record<string, unknown>) => ({
  partition: Number(line.partition),
  offset: Number(line.offset),
});

/**
 * How many of this run's records (by their offsets) the objects under a prefix hold. Object names carry
 * their partition and first and last offsets: an object wholly inside this run's offsets counts its
 * `records`, one wholly before them counts nothing, and only one that straddles the boundary (a batch of
 * an earlier run's records and this run's) is read line by line.
 */
export async function recordsOfOffsets(
  services: LocalServices,
  prefix: string,
  offsets: Offsets,
  lineOffset: (line: Record<string, unknown>) => { partition: number; offset: number },
): Promise<OffsetCount> {
  const { s3, bucket, topic } = services;
  const ranges = new Map(offsets.map((o) => [o.partition, o]));
  const whole: ObjectSummary[] = [];
  const straddling: ObjectSummary[] = [];
  const byPartition = new Map<number, number>();
  const add = (partition: number, n: number) =>
    byPartition.set(partition, (byPartition.get(partition) ?? 0) + n);
  const partitionOf = new Map<string, number>();
  for await (const o of listObjects(s3, bucket, prefix)) {
    const m = OBJECT_NAME_RE.exec(o.key);
    if (!m || m[1] !== topic) continue;
    const [partition, first, last] = [Number(m[2]), Number(m[3]), Number(m[4])];
    const range = ranges.get(partition);
    if (!range || last < range.first || first >= range.end) continue;
    partitionOf.set(o.key, partition);
    if (first >= range.first && last < range.end) whole.push(o);
    else straddling.push(o);
  }
  for (const [key, n] of await recordCounts(s3, bucket, whole)) add(partitionOf.get(key) ?? -1, n);
  for (const o of straddling) {
    const text = gunzipSync(await getObjectBytes(s3, bucket, o.key)).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const { partition, offset } = lineOffset(JSON.parse(line) as Record<string, unknown>);
      const range = ranges.get(partition);
      if (range && offset >= range.first && offset < range.end) add(partition, 1);
    }
  }
  let total = 0;
  for (const n of byPartition.values()) total += n;
  return { total, byPartition };
}

/** Per partition: this run's offsets and where its records went (shown when the landing check fails). */
export function offsetDetail(offsets: Offsets, landed: OffsetCount, quarantined: OffsetCount): string {
  return offsets
    .map((o) => {
      const l = landed.byPartition.get(o.partition) ?? 0;
      const q = quarantined.byPartition.get(o.partition) ?? 0;
      const flag = l + q === o.end - o.first ? '' : ' (differs)';
      return `partition ${o.partition}: offsets ${o.first}..${o.end - 1} (${o.end - o.first}), landed ${l} + quarantined ${q}${flag}`;
    })
    .join('; ');
}

/** Runs the producer in a worker thread (see produce-worker.ts) and resolves when every record is acknowledged. */
function produceInWorker(
  services: LocalServices,
  simulation: SimulatorOptions,
  onProgress: (sent: number) => void,
): Promise<void> {
  const input: ProduceWorkerInput = {
    bootstrap: services.broker.bootstrap,
    topic: services.topic,
    simulation: { ...simulation, start: simulation.start.toISOString(), end: simulation.end.toISOString() },
  };
  // The worker runs TypeScript like the rest of the CLI, through tsx (produce-worker.mjs registers it).
  const worker = new Worker(new URL('./produce-worker.mjs', import.meta.url), {
    workerData: input,
    resourceLimits: LOCAL_DEFAULTS.threadHeap,
  });
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    worker.on('message', (m: ProduceWorkerMessage) => {
      if (m.type === 'progress') onProgress(m.sent);
      else if (m.type === 'done') {
        settled = true;
        resolve();
      } else {
        settled = true;
        reject(new MdsError(`producing to the local broker failed: ${m.message}`));
      }
    });
    worker.on('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new MdsError(`the producer worker exited with code ${code} before it finished`));
    });
  });
}

export class PipelineRunError extends MdsError {}

/** Times each stage of a local run into `stages` (seconds) and reports its start and end. */
export function stageTimer(
  callbacks: PipelineCallbacks,
  stages: Record<string, number>,
): <T>(name: string, fn: () => Promise<T>) => Promise<T> {
  return async (name, fn) => {
    callbacks.stage?.(name, 'start');
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      stages[name] = round((performance.now() - t0) / 1000);
      callbacks.stage?.(name, 'end', stages[name]);
    }
  };
}

/** Each partition's offsets this run produced: from its end before the run to its end after. */
export function offsetRanges(first: Map<number, number>, end: Map<number, number>): Offsets {
  return [...end].map(([partition, e]) => ({ partition, first: first.get(partition) ?? 0, end: e }));
}

/**
 * Runs the workflow over each window in turn (the sources whose window follows their data); a run that does
 * not succeed stops the rest with its cause.
 */
export async function runWindowsLocally(
  services: LocalServices,
  windows: readonly RunWindow[],
  executionPrefix: string,
  callbacks: PipelineCallbacks,
): Promise<PipelineReport['runs'][number][]> {
  const runs: PipelineReport['runs'][number][] = [];
  for (const w of windows) {
    const label = `${w.start.slice(0, 13).replace('T', ' ')}h..${w.end.slice(0, 13).replace('T', ' ')}h`;
    const result = await runWorkflowLocally(services, {
      window: w,
      executionName: `${executionPrefix}-${w.start.replace(/[-:]/g, '').slice(0, 13)}-${Date.now().toString(36)}`,
      onEvent: (e) => callbacks.transition?.(label, e),
      dbtLog: callbacks.dbtLog,
    });
    runs.push({
      runId: result.summary?.runId ?? result.execution.executionName,
      window: w,
      status: result.execution.status,
    });
    if (result.execution.status !== 'SUCCEEDED') {
      throw new PipelineRunError(
        `the workflow run for ${w.start}/${w.end} failed: ${result.execution.error}: ${result.execution.cause}` +
          (result.runDir ? ` (summary: ${result.runDir})` : ''),
      );
    }
  }
  return runs;
}

/** The Reconcile function's checks over each window run, each named with its window. */
export async function reconcileWindows(
  services: LocalServices,
  windows: readonly RunWindow[],
): Promise<LocalCheck[]> {
  const checks: LocalCheck[] = [];
  for (const w of windows) {
    for (const c of await reconcileFunction(services, w))
      checks.push({ ...c, name: `${c.name} (${w.start}/${w.end})` });
  }
  return checks;
}

function eventsOf(sim: SimulationSummary, landed: number, quarantined: number): PipelineReport['events'] {
  return {
    produced: sim.records,
    valid: sim.valid,
    distinct: sim.distinctEvents,
    duplicates: sim.duplicates,
    late: sim.late,
    invalid: sim.invalid,
    landed,
    quarantined,
  };
}

/** Objects under a prefix and the records they hold (the `records` metadata every landed object carries). */
export async function countRecords(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ records: number; objects: number }> {
  const objects: ObjectSummary[] = [];
  for await (const o of listObjects(s3, bucket, prefix)) objects.push(o);
  let records = 0;
  for (const n of (await recordCounts(s3, bucket, objects)).values()) records += n;
  return { records, objects: objects.length };
}

export async function scalar(wh: Warehouse, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await wh.query<{ n: number }>(sql, params);
  return Number(row?.n ?? 0);
}

export function round(x: number): number {
  return Math.round(x * 100) / 100;
}
