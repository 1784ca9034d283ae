/**
 * `mds local up`: the whole pipeline on the embedded default. Starts the local services, produces simulated
 * events through the broker, waits until the event source mapping has landed them in Bronze, runs the hourly
 * workflow for every hour of the window, and reconciles the counts of every stage.
 */
import { Worker } from 'node:worker_threads';
import { MdsError } from '../../lambdas/shared/errors.ts';
import type { ProduceWorkerInput, ProduceWorkerMessage } from './produce-worker.ts';
import {
  simulate,
  type SimulationSummary,
  type SimulatorOptions,
} from '../../lambdas/shared/simulator/index.ts';
import { BRONZE_PREFIX, QUARANTINE_PREFIX } from '../../lambdas/shared/bronze.ts';
import { listObjects, type ObjectSummary } from '../../lambdas/shared/s3.ts';
import { check, goldGlimpse, recordCounts } from '../../lambdas/reconcile/reconcile.ts';
import type { ReconcileCheck, RunSummary } from '../../lambdas/shared/run-summary.ts';
import { HOUR_MS, sqlTimestamp } from '../../lambdas/shared/window.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Warehouse } from '../../lambdas/shared/warehouse/types.ts';
import { GOLD_TABLES } from '../../dashboard/gold.ts';
import type { HistoryEvent } from '../workflow/executor.ts';
import type { LocalServices } from './services.ts';
import type { FunctionReport } from '../lambda/runtime.ts';
import { runWorkflowLocally } from './workflow.ts';

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
  readonly reconciliation: { readonly ok: boolean; readonly checks: readonly ReconcileCheck[] };
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
  const stage = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    callbacks.stage?.(name, 'start');
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      stages[name] = round((performance.now() - t0) / 1000);
      callbacks.stage?.(name, 'end', stages[name]);
    }
  };
  const run = simulate(simulation);
  const sim = run.summary();
  const before = services.landing();

  await stage('produce', () =>
    produceInWorker(services, simulation, (sent) => callbacks.produced?.(sent, sim.records)),
  );

  await stage('land', () => services.mapping.drained(10 * 60_000));
  const after = services.landing();

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

  return stage('reconcile', () =>
    services.warehouse.use(async (wh) => {
      const bronze = await countRecords(services.s3, services.bucket, BRONZE_PREFIX);
      const quarantine = await countRecords(services.s3, services.bucket, QUARANTINE_PREFIX);
      const window = { start: simulation.start.toISOString(), end: simulation.end.toISOString() };
      const bronzeRows = await scalar(wh, 'select count(*) as n from bronze.listening_events');
      const bronzeDistinct = await scalar(
        wh,
        'select count(distinct event_id) as n from bronze.listening_events',
      );
      const silverRows = await scalar(wh, 'select count(*) as n from silver.stg_spotify__events');
      const silverInWindow = await scalar(
        wh,
        `select count(*) as n from silver.stg_spotify__events
        where event_timestamp >= cast($1 as timestamp) and event_timestamp < cast($2 as timestamp)`,
        [sqlTimestamp(window.start), sqlTimestamp(window.end)],
      );
      const gold: Record<string, number> = {};
      for (const table of GOLD_TABLES)
        gold[table] = await scalar(wh, `select count(*) as n from gold.${table}`);
      const landed = after.landed - before.landed;
      const quarantined = after.quarantined - before.quarantined;
      const checks: ReconcileCheck[] = [
        check('produced = landed + quarantined', sim.records, landed + quarantined),
        check('invalid records produced = quarantined', sim.invalid, quarantined),
        check('records in Bronze objects = warehouse Bronze rows', bronze.records, bronzeRows),
        check('silver rows = distinct Bronze events', bronzeDistinct, silverRows),
        ...(before.recordsIn === 0 && isFresh(bronze.records, landed)
          ? [
              check(
                'distinct valid events simulated = silver rows in the window',
                sim.distinctEvents,
                silverInWindow,
              ),
            ]
          : []),
      ];
      const glimpse = await goldGlimpse(wh, window, 5);
      const top = { tracks: glimpse.topTracks, artists: glimpse.topArtists };
      return {
        window,
        seed: simulation.seed,
        events: eventsOf(sim, landed, quarantined),
        bronze,
        quarantine,
        warehouse: { bronze_rows: bronzeRows },
        silver: { rows: silverRows },
        gold,
        runs,
        reconciliation: { ok: checks.every((c) => c.ok), checks },
        top,
        stages,
        functions: services.lambda.report(),
        mapping: services.mappingSettings,
        assembly: { dir: services.assembly.dir, env: services.assembly.envName },
        data: { dir: services.paths.root, warehouse: services.paths.warehouse, runs: services.paths.runs },
      };
    }),
  );
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
  const worker = new Worker(new URL('./produce-worker.mjs', import.meta.url), { workerData: input });
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

export class PipelineRunError extends Error {
  override name = 'PipelineRunError';
}

/** The data directory held nothing before this run: every Bronze record is one this run produced. */
function isFresh(bronzeRecords: number, landedNow: number): boolean {
  return bronzeRecords === landedNow;
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

async function scalar(wh: Warehouse, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await wh.query<{ n: number }>(sql, params);
  return Number(row?.n ?? 0);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
