/**
 * The whole pipeline on the local stand-ins, end to end: simulated events with duplicates, late and invalid
 * records go through the real broker, the event source mapping emulator and the S3 server into Bronze; the
 * synthesized workflow runs hourly on DuckDB with the embedded dbt runner.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServices, type LocalServices } from '../../localstack/pipeline/services.ts';
import {
  countRecords,
  runLocalPipeline,
  RECONCILE_FUNCTION_CHECK,
  reconcileFunction,
  SIMULATED_SILVER_CHECK,
  simulatedSilverCheck,
  type PipelineReport,
} from '../../localstack/pipeline/up.ts';
import { RECONCILE_CHECKS } from '../../lambdas/reconcile/reconcile.ts';
import { runWorkflowLocally } from '../../localstack/pipeline/workflow.ts';
import { BRONZE_PREFIX } from '../../lambdas/core/bronze.ts';
import { GOLD_TABLES } from '../../dashboard/gold.ts';
import { createKafka, createProducer } from '../../lambdas/core/kafka.ts';
import { produceRecords } from '../../lambdas/core/produce.ts';
import { simulate } from '../../lambdas/core/simulator/index.ts';

const END = new Date('2026-11-20T04:00:00.000Z');
const START = new Date(END.getTime() - 4 * 3_600_000);
const hour = (h: number) => ({
  start: new Date(START.getTime() + h * 3_600_000).toISOString(),
  end: new Date(START.getTime() + (h + 1) * 3_600_000).toISOString(),
});

let dataDir: string;
let services: LocalServices;
let report: PipelineReport;

async function goldSnapshot(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of GOLD_TABLES)
    out[t] = await services.warehouse.query(`select * from gold.${t} order by all`);
  return out;
}

/** Every loaded object holds exactly its lines, once: no object is half-loaded or loaded twice. */
async function assertExactlyOnceLoaded(): Promise<void> {
  const perFile = await services.warehouse.query<{ source_file: string; n: number; rows: number }>(
    `select source_file, count(*) as n, count(distinct source_row) as rows from bronze.listening_events group by 1`,
  );
  const manifest = await services.warehouse.query<{ n: number }>(
    `select count(*) as n from bronze.load_manifest where status = 'loaded'`,
  );
  const bronze = await countRecords(services.s3, services.bucket, BRONZE_PREFIX);
  expect(perFile.every((f) => f.n === f.rows)).toBe(true);
  expect(Number(manifest[0]?.n)).toBe(perFile.length);
  expect(perFile.reduce((s, f) => s + Number(f.n), 0)).toBeLessThanOrEqual(bronze.records);
}

/** Produces more simulated events for one hour and waits until they are in Bronze. */
async function landMoreEvents(
  seed: number,
  events: number,
  window: { start: string; end: string },
): Promise<void> {
  const kafka = createKafka({ brokers: [services.broker.bootstrap] });
  const producer = createProducer(kafka);
  await producer.connect();
  const run = simulate({ seed, events, start: new Date(window.start), end: new Date(window.end) });
  await produceRecords(producer, services.topic, run.records());
  await producer.disconnect();
  await services.mapping.drained(60_000);
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'mds-e2e-'));
  services = await startLocalServices({ dataDir, brokerPort: 0, s3Port: 0 });
  report = await runLocalPipeline(services, {
    seed: 7,
    events: 50_000,
    start: START,
    end: END,
    duplicateFraction: 0.02,
    lateFraction: 0.03,
    invalidFraction: 0.01,
  });
}, 300_000);

afterAll(async () => {
  await services?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('mds local up, end to end', () => {
  it('reconciles every stage exactly: valid events = Silver rows, invalid = quarantined', () => {
    const sim = simulate({
      seed: 7,
      events: 50_000,
      start: START,
      end: END,
      duplicateFraction: 0.02,
      lateFraction: 0.03,
      invalidFraction: 0.01,
    }).summary();
    expect(report.reconciliation.ok).toBe(true);
    expect(report.events.produced).toBe(50_000);
    expect(report.events.quarantined).toBe(sim.invalid);
    expect(report.events.landed).toBe(sim.valid);
    expect(report.bronze.records).toBe(sim.valid);
    expect(report.warehouse.bronze_rows).toBe(sim.valid);
    expect(report.silver.rows).toBe(sim.distinctEvents);
    expect(report.runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    // Every function ran from its asset in the cloud assembly.
    const assets = new Map(services.assembly.functions.map((f) => [f.id, f.assetHash]));
    for (const f of report.functions) expect(f.assetHash).toBe(assets.get(f.id));
    expect(
      report.functions
        .filter((f) => f.invocations > 0)
        .map((f) => f.id)
        .sort(),
    ).toEqual(['Consumer', 'Loader', 'Planner', 'Publisher', 'Reconcile']);
    expect(sim.duplicates).toBeGreaterThan(0);
    expect(sim.late).toBeGreaterThan(0);
  });

  it('reconciles with the Reconcile function over the whole window, and compares the simulation with Silver', () => {
    const sim = simulate({
      seed: 7,
      events: 50_000,
      start: START,
      end: END,
      duplicateFraction: 0.02,
      lateFraction: 0.03,
      invalidFraction: 0.01,
    }).summary();
    expect(report.reconciliation.checks.map((c) => c.name)).toEqual([
      'produced = landed + quarantined',
      'invalid records produced = quarantined',
      ...RECONCILE_CHECKS.map((c) => c.name),
      SIMULATED_SILVER_CHECK,
    ]);
    expect(report.reconciliation.checks.every((c) => c.ok && c.skipped === undefined)).toBe(true);
    // The Reconcile function's bundle ran once per hourly run and once more over the whole window.
    expect(report.functions.find((f) => f.id === 'Reconcile')?.invocations).toBe(report.runs.length + 1);
    expect(report.reconciliation.checks.at(-1)).toMatchObject({
      expected: sim.distinctEvents,
      actual: sim.distinctEvents,
    });
    // This run's records on the topic: every one of them landed or was quarantined.
    expect(report.offsets.reduce((n, o) => n + o.end - o.first, 0)).toBe(50_000);
  });

  it('compares the simulation with Silver unless the window holds earlier records, and then says why', () => {
    const none = { objects: 0, records: 0 };
    expect(simulatedSilverCheck(19_600, 19_600, none)).toEqual({
      name: SIMULATED_SILVER_CHECK,
      expected: 19_600,
      actual: 19_600,
      ok: true,
    });
    // Whatever the other counts say, a Silver event short fails: the check depends on no count it compares.
    expect(simulatedSilverCheck(19_600, 19_599, none)).toMatchObject({ ok: false });
    const skipped = simulatedSilverCheck(19_600, 20_100, { objects: 3, records: 500 });
    expect(skipped).toMatchObject({
      ok: true,
      skipped: expect.stringContaining('3 Bronze objects (500 records)'),
    });
    expect(skipped.name).toBe(SIMULATED_SILVER_CHECK);
  });

  it('running the same hour again changes nothing in Gold', async () => {
    const before = await goldSnapshot();
    const rerun = await runWorkflowLocally(services, { window: hour(1), executionName: 'rerun-1' });
    expect(rerun.execution.status).toBe('SUCCEEDED');
    expect(rerun.summary?.loader?.objectsLoaded).toBe(0);
    expect(await goldSnapshot()).toEqual(before);
  });

  it('retries a dbt task that fails once, and the run succeeds', async () => {
    const run = await runWorkflowLocally(services, {
      window: hour(2),
      injectDbtFailures: 1,
      retryIntervalMs: 10,
    });
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(
      run.execution.history.filter((e) => e.type === 'TaskRetried' && e.details?.name === 'RunDbt'),
    ).toHaveLength(1);
  });

  it('ends in Fail with the cause when dbt keeps failing, and leaves nothing half-loaded', async () => {
    // Prepare: new events for an hour of the window, landed but not yet loaded.
    await landMoreEvents(8, 2_000, hour(3));
    const silverBefore = await services.warehouse.query<{ n: number }>(
      'select count(*) as n from silver.stg_spotify__events',
    );

    // Act
    const run = await runWorkflowLocally(services, {
      window: hour(3),
      injectDbtFailures: Infinity,
      retryIntervalMs: 10,
    });

    // Assess: the run failed in RunDbt with its cause, and says so in its summary.
    expect(run.execution.status).toBe('FAILED');
    expect(run.execution.error).toBe('States.TaskFailed');
    expect(run.execution.cause).toContain('failure injected');
    expect(run.summary?.status).toBe('FAILED');
    expect(run.summary?.failure?.state).toBe('RunDbt');
    expect(run.summary?.loader?.rowsLoaded).toBe(2_000);
    await assertExactlyOnceLoaded();
    const silverAfter = await services.warehouse.query<{ n: number }>(
      'select count(*) as n from silver.stg_spotify__events',
    );
    expect(silverAfter).toEqual(silverBefore);

    // A later run picks the hour up and reconciles.
    const retry = await runWorkflowLocally(services, { window: hour(3) });
    expect(retry.execution.status).toBe('SUCCEEDED');
    expect(retry.summary?.reconciliation?.ok).toBe(true);
  });

  it('does not double-load when two runs of the same window go at once', async () => {
    // Prepare: fresh objects for hour 0.
    await landMoreEvents(9, 3_000, hour(0));
    const rowsBefore =
      (await services.warehouse.query<{ n: number }>('select count(*) as n from bronze.listening_events'))[0]
        ?.n ?? 0;

    // Act
    const [a, b] = await Promise.all([
      runWorkflowLocally(services, { window: hour(0), executionName: 'concurrent-a', retryIntervalMs: 200 }),
      runWorkflowLocally(services, { window: hour(0), executionName: 'concurrent-b', retryIntervalMs: 200 }),
    ]);

    // Assess: the new rows are in the warehouse exactly once, whichever run loaded them.
    const loaded = (a.summary?.loader?.rowsLoaded ?? 0) + (b.summary?.loader?.rowsLoaded ?? 0);
    expect(loaded).toBe(3_000);
    const rowsAfter =
      (await services.warehouse.query<{ n: number }>('select count(*) as n from bronze.listening_events'))[0]
        ?.n ?? 0;
    expect(Number(rowsAfter) - Number(rowsBefore)).toBe(3_000);
    await assertExactlyOnceLoaded();
  });

  it('fails the run in Reconcile, naming both objects, when a row is moved between objects of one hour', async () => {
    // Prepare: the last row of one object of hour 1 now names another object of that hour; every total holds.
    const window = hour(1);
    const files = await services.warehouse.query<{ source_file: string; n: number }>(
      `select source_file, count(*) as n from bronze.listening_events
        where source_file like $1 group by source_file order by source_file`,
      [`bronze/date=${window.start.slice(0, 10)}/hour=${window.start.slice(11, 13)}/%`],
    );
    expect(files.length).toBeGreaterThanOrEqual(2);
    const [a, b] = [files[0]!, files[1]!];
    const [moved] = await services.warehouse.query<{ event_id: string; kafka_offset: number }>(
      `select event_id, kafka_offset from bronze.listening_events where source_file = $1
        order by source_row desc limit 1`,
      [a.source_file],
    );
    const move = (to: string) =>
      services.warehouse.query(
        'update bronze.listening_events set source_file = $1 where event_id = $2 and kafka_offset = $3',
        [to, moved!.event_id, moved!.kafka_offset],
      );
    await move(b.source_file);
    try {
      // Act
      const run = await runWorkflowLocally(services, { window, executionName: 'moved-row' });

      // Assess: the run failed in Reconcile with the function's error, its cause naming both objects.
      expect(run.execution.status).toBe('FAILED');
      expect(run.execution.error).toBe('ReconciliationError');
      expect(run.execution.cause).toContain('bronze rows = object records, per object');
      expect(run.execution.cause).toContain(`${a.source_file} (${a.n} records, ${Number(a.n) - 1} rows)`);
      expect(run.execution.cause).toContain(`${b.source_file} (${b.n} records, ${Number(b.n) + 1} rows)`);
      expect(run.summary?.status).toBe('FAILED');
      expect(run.summary?.failure).toMatchObject({ state: 'Reconcile', error: 'ReconciliationError' });
      // local up's final reconciliation is the same function over the whole window: it fails the same way.
      const final = await reconcileFunction(services, { start: START.toISOString(), end: END.toISOString() });
      expect(final).toEqual([expect.objectContaining({ name: RECONCILE_FUNCTION_CHECK, ok: false })]);
      expect(final[0]?.detail).toContain(`${a.source_file} (${a.n} records, ${Number(a.n) - 1} rows)`);
    } finally {
      await move(a.source_file);
    }
    const again = await runWorkflowLocally(services, { window, executionName: 'moved-back' });
    expect(again.execution.status).toBe('SUCCEEDED');
    const final = await reconcileFunction(services, { start: START.toISOString(), end: END.toISOString() });
    expect(final.map((c) => [c.name, c.ok])).toEqual(RECONCILE_CHECKS.map((c) => [c.name, true]));
  });
});
