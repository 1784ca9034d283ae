/**
 * `mds local up --once` against external services, each a separate process as the compose services are: the
 * broker (`mds broker start`, creating no topic by itself), the S3-API server (with no bucket) and a real
 * Postgres (password login over TCP). The pipeline creates the topic and the bucket, reconciles exactly, loads
 * each Bronze object once into Postgres, and Gold on Postgres equals Gold on DuckDB for the same events (the
 * same simulation run on the embedded default).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import { openPostgresWarehouse } from '../../lambdas/core/warehouse/postgres.ts';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { goldRows } from '../helpers/gold-rows.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import {
  runMds,
  startBrokerProcess,
  startS3Process,
  type ServiceProcess,
} from '../helpers/service-processes.ts';

const PASSWORD = 'compose-like-secret';
const simulation = [
  '--events',
  '4000',
  '--start',
  '2026-11-20T00:00:00Z',
  '--end',
  '2026-11-20T02:00:00Z',
  '--seed',
  '16',
  '--duplicate-fraction',
  '0.02',
  '--invalid-fraction',
  '0.01',
  '--late-fraction',
  '0.02',
];

interface Report {
  readonly reconciliation: { ok: boolean; checks: { name: string; ok: boolean; skipped?: string }[] };
  readonly events: { produced: number; landed: number; quarantined: number };
  readonly bronze: { records: number; objects: number };
  readonly warehouse: { bronze_rows: number };
  readonly silver: { rows: number };
  readonly gold: Record<string, number>;
  readonly data: { warehouse: string };
}

describe('mds local up --once on an external broker, S3 server and Postgres', () => {
  let dir: string;
  let pgServer: TestPostgres;
  let broker: ServiceProcess;
  let s3: ServiceProcess;
  let url: string;
  let external: { status: number | null; stdout: string; stderr: string };
  let embedded: { status: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mds-byo-'));
    pgServer = await startPostgres({ password: PASSWORD });
    await pgServer.createDatabase('mds_byo');
    url = `postgres://postgres@127.0.0.1:${pgServer.port}/mds_byo`;
    broker = await startBrokerProcess(path.join(dir, 'broker'), { autoCreate: false });
    s3 = await startS3Process(path.join(dir, 's3'));
    external = await runMds(
      [
        'local',
        'up',
        '--once',
        '--json',
        ...simulation,
        '--data',
        path.join(dir, 'data-external'),
        '--brokers',
        `127.0.0.1:${broker.port}`,
        '--s3-endpoint',
        `http://127.0.0.1:${s3.port}`,
        '--bucket',
        'byo-bucket',
        '--warehouse',
        url,
      ],
      {
        PGPASSWORD: PASSWORD,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_PROFILE: undefined,
      },
    );
    embedded = await runMds([
      'local',
      'up',
      '--once',
      '--json',
      ...simulation,
      '--data',
      path.join(dir, 'data-embedded'),
      '--broker-port',
      '0',
      '--s3-port',
      '0',
    ]);
  }, 900_000);

  afterAll(async () => {
    await broker?.stop();
    await s3?.stop();
    await pgServer?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs every hour, reconciles exactly and loads each Bronze object once into Postgres', async () => {
    expect(external.stderr.slice(-2000)).not.toMatch(/^mds: /m);
    expect(external.status).toBe(0);
    const report = JSON.parse(external.stdout) as Report;
    const failed = report.reconciliation.checks.filter((c) => !c.ok || c.skipped);
    expect(failed).toEqual([]);
    expect(report.reconciliation.ok).toBe(true);
    expect(report.events.produced).toBe(report.events.landed + report.events.quarantined);
    expect(report.data.warehouse).toBe(url);
    const wh = await openPostgresWarehouse({
      host: '127.0.0.1',
      port: pgServer.port,
      user: 'postgres',
      password: PASSWORD,
      database: 'mds_byo',
    });
    try {
      const [manifest] = await wh.query<{ objects: number; rows: number }>(
        "select count(*) as objects, sum(rows_loaded) as rows from bronze.load_manifest where status = 'loaded'",
      );
      expect(manifest).toEqual({ objects: report.bronze.objects, rows: report.bronze.records });
      const [bronze] = await wh.query<{ n: number }>('select count(*) as n from bronze.listening_events');
      expect(bronze?.n).toBe(report.bronze.records);
    } finally {
      await wh.close();
    }
  });

  it('holds in every Gold table on Postgres the rows DuckDB holds for the same events', async () => {
    expect(embedded.status).toBe(0);
    const a = JSON.parse(external.stdout) as Report;
    const b = JSON.parse(embedded.stdout) as Report;
    expect(a.events).toEqual(b.events);
    expect(a.silver).toEqual(b.silver);
    expect(a.gold).toEqual(b.gold);
    const pgw = await openPostgresWarehouse({
      host: '127.0.0.1',
      port: pgServer.port,
      user: 'postgres',
      password: PASSWORD,
      database: 'mds_byo',
    });
    const duck = await openDuckDbWarehouse({ path: b.data.warehouse, readOnly: true });
    try {
      const [onPg, onDuck] = [await goldRows(pgw), await goldRows(duck)];
      for (const table of Object.keys(onDuck)) {
        expect(onDuck[table]?.length, table).toBeGreaterThan(0);
        expect(onPg[table], table).toEqual(onDuck[table]);
      }
    } finally {
      await pgw.close();
      await duck.close();
    }
  });

  it('mds dashboard --warehouse postgres://... serves Gold from Postgres', async () => {
    const report = JSON.parse(external.stdout) as Report;
    const child = spawn(
      process.execPath,
      [
        path.join(PROJECT_ROOT, 'bin/mds.mjs'),
        'dashboard',
        '--port',
        '0',
        '--data',
        path.join(dir, 'data-external'),
        '--warehouse',
        url,
      ],
      { env: { ...process.env, PGPASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 60_000;
      let m: RegExpExecArray | null = null;
      while (
        !(m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)) &&
        Date.now() < deadline &&
        child.exitCode === null
      )
        await new Promise((r) => setTimeout(r, 100));
      expect(m, out).not.toBeNull();
      const status = (await (await fetch(`${m![0]}api/status`)).json()) as {
        empty: boolean;
        totalPlays: number;
      };
      expect(status.empty).toBe(false);
      expect(status.totalPlays).toBeGreaterThan(0);
      expect(report.gold.plays_per_hour).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 120_000);
});
