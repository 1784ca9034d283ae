/**
 * Every Lambda asset of `cdk synth -c env=dev`, run as Lambda runs it: imported where only the Node.js
 * runtime's modules (the AWS SDK) resolve, plus the named `duckdb` layer for the warehouse functions, with the
 * environment its template sets, and invoked on a fixture event against the local servers (S3, SNS, the
 * Kafka broker, the DuckDB warehouse).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRONZE_PREFIX, RUNS_PREFIX } from '../../lambdas/core/bronze.ts';
import { createKafka } from '../../lambdas/core/kafka.ts';
import { headObjectMetadata, listAllObjects } from '../../lambdas/core/s3.ts';
import { startBrokerThread } from '../../localstack/broker/thread.ts';
import type { RunningBroker } from '../../localstack/broker/index.ts';
import { synthesizeAssembly, type CloudAssembly } from '../../localstack/lambda/assembly.ts';
import {
  localFunctionSetup,
  startLocalFunctions,
  type LocalEndpoints,
} from '../../localstack/lambda/local-functions.ts';
import {
  LambdaInitError,
  LambdaInvocationError,
  LocalLambdaRuntime,
} from '../../localstack/lambda/runtime.ts';
import { WarehouseLease } from '../../localstack/pipeline/warehouse-lease.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import { runDbt } from '../../localstack/dbt/index.ts';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { startLocalSpotifyApi } from '../../localstack/spotify-api/server.ts';
import { FileTokenStore, localSpotifyPaths } from '../../lambdas/poller/stores.ts';
import { startLocalSns, type LocalSns } from '../../localstack/sns-server.ts';

const BUCKET = 'assets-test';
/** The fixture's events fall in 2026-11-23 09:00 .. 12:00 UTC. */
const WINDOW = { start: '2026-11-23T11:00:00.000Z', end: '2026-11-23T12:00:00.000Z' };

let dir: string;
let assembly: CloudAssembly;
let s3: LocalS3;
let sns: LocalSns;
let broker: RunningBroker;
let lease: WarehouseLease;
let runtime: LocalLambdaRuntime;
let endpoints: LocalEndpoints;

async function fixture(name: string): Promise<unknown> {
  return JSON.parse(await readFile(path.join(import.meta.dirname, '..', 'fixtures', name), 'utf8'));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-assets-'));
  assembly = await synthesizeAssembly({ envName: 'dev' });
  s3 = await startLocalS3({ directory: path.join(dir, 's3'), buckets: [BUCKET] });
  sns = await startLocalSns({ file: path.join(dir, 'notifications.ndjson') });
  broker = await startBrokerThread({ dataDir: path.join(dir, 'broker'), port: 0 });
  lease = new WarehouseLease(path.join(dir, 'warehouse.duckdb'));
  endpoints = {
    region: 'us-east-1',
    bucket: BUCKET,
    s3Endpoint: s3.endpoint,
    snsEndpoint: sns.endpoint,
    kafkaBootstrap: broker.bootstrap,
    warehouse: lease.target,
    warehouseLock: (fn) => lease.exclusive(fn),
  };
  // The loader and reconcile expect the Bronze tables, as the one-time setup leaves them.
  await lease.use((wh) => wh.ensureBronze());
  runtime = await startLocalFunctions(assembly, endpoints, {
    logDir: path.join(dir, 'logs'),
    extraEnvironment: { 'Topic/AdminFunction': { KAFKA_AUTH: 'plaintext' } },
  });
}, 180_000);

afterAll(async () => {
  await runtime?.close();
  await broker?.close();
  await sns?.close();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the synthesized Lambda assets, in the local Lambda runtime', () => {
  it('has every function of the app, each from its own asset, and starts them all', () => {
    const ids = assembly.functions.map((f) => f.id);
    for (const id of [
      'Producer',
      'SpotifyPoller/Poller',
      'HistoryImport/Importer',
      'Consumer',
      'Planner',
      'Loader',
      'Reconcile',
      'Publisher',
    ])
      expect(ids).toContain(id);
    const report = runtime.report();
    expect(report).toHaveLength(assembly.functions.length);
    expect(report.every((f) => f.coldStarts === 1 && /^[0-9a-f]{64}$/.test(f.assetHash))).toBe(true);
    expect(report.find((f) => f.id === 'Loader')?.layers).toEqual(['duckdb']);
    expect(report.find((f) => f.id === 'Consumer')?.layers).toEqual([]);
  });

  it('every asset starts with nothing but the modules of the Lambda runtime (no local layer)', async () => {
    const bare = new LocalLambdaRuntime({ logDir: path.join(dir, 'logs-bare') });
    try {
      for (const spec of assembly.functions) {
        bare.register(spec, { ...localFunctionSetup(assembly, spec, endpoints), layers: [] });
      }
      await expect(bare.preflight()).resolves.toBeUndefined();
    } finally {
      await bare.close();
    }
  });

  it('Consumer: an MSK event lands in Bronze with the records metadata', async () => {
    const summary = (await runtime.invoke('Consumer', await fixture('msk-event.json'))) as {
      landed: number;
      objectsWritten: number;
    };
    expect(summary.landed).toBe(8);
    const objects = await listAllObjects(s3.client(), BUCKET, BRONZE_PREFIX);
    expect(objects).toHaveLength(summary.objectsWritten);
    let records = 0;
    for (const o of objects)
      records += Number((await headObjectMetadata(s3.client(), BUCKET, o.key)).records);
    expect(records).toBe(8);
  });

  it('Consumer: its metrics go where the Observability stack alarms on them', async () => {
    // The EMF line the deployed consumer printed for the invocation above, from its log.
    const log = path.join(dir, 'logs', 'Consumer.log');
    let emf: { _aws: { CloudWatchMetrics: { Namespace: string }[] }; service?: string } | undefined;
    for (let i = 0; i < 50 && !emf; i++) {
      const line = (await readFile(log, 'utf8')).split('\n').find((l) => l.includes('"CloudWatchMetrics"'));
      if (line) emf = JSON.parse(line) as typeof emf;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(emf).toBeDefined();
    // The Observability dashboard's quarantine graph names the same namespace, metric and service.
    const observability = assembly.templates.get('Mds-dev-Observability')!;
    const dashboard = Object.values(observability.Resources).find(
      (r) => r.Type === 'AWS::CloudWatch::Dashboard',
    );
    const body = (dashboard?.Properties?.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
      .filter((p): p is string => typeof p === 'string')
      .join('');
    const metric = [emf!._aws.CloudWatchMetrics[0]!.Namespace, 'RecordsQuarantined', 'service', emf!.service];
    expect(body).toContain(JSON.stringify(metric).slice(1, -1));
  });

  it('Planner: plans with the lookback its template sets', async () => {
    const plan = (await runtime.invoke('Planner', {
      input: { window: WINDOW },
      executionName: 'assets',
    })) as { runId: string; lookbackHours: number; window: typeof WINDOW };
    const template = assembly.functions.find((f) => f.id === 'Planner')!.environment;
    expect(plan.lookbackHours).toBe(Number(template.LOOKBACK_HOURS));
    expect(plan.window).toEqual(WINDOW);
  });

  it('Planner: a bad window is a ValidationError, named as Lambda reports it', async () => {
    const err = await runtime
      .invoke('Planner', { input: { window: { start: WINDOW.start, end: WINDOW.start } } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LambdaInvocationError);
    expect((err as LambdaInvocationError).name).toBe('ValidationError');
    expect((err as LambdaInvocationError).errorMessage).toMatch(/must be after window.start/);
  });

  it('Loader then Reconcile: the landed objects are loaded into DuckDB through the duckdb layer', async () => {
    const load = (await runtime.invoke('Loader', {
      runId: 'assets',
      windowStart: WINDOW.start,
      windowEnd: WINDOW.end,
      lookbackHours: 24,
    })) as { objectsLoaded: number; rowsLoaded: number };
    expect(load.rowsLoaded).toBe(8);
    const rows = await lease.query<{ n: number }>('select count(*) as n from bronze.listening_events');
    expect(Number(rows[0]?.n)).toBe(8);
    // dbt builds Silver and Gold (the RunDbt step), then Reconcile checks every stage of the window.
    const dbt = await lease.dbt((connection) =>
      runDbt({ projectDir: path.join(PROJECT_ROOT, 'dbt'), connection, command: 'build' }),
    );
    expect(dbt.success).toBe(true);
    const reconcile = (await runtime.invoke('Reconcile', {
      runId: 'assets',
      window: { start: '2026-11-23T09:00:00.000Z', end: WINDOW.end },
      load,
      runStartedAt: new Date(Date.now() + 2_000).toISOString(),
    })) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(reconcile.ok).toBe(true);
    expect(reconcile.checks.length).toBeGreaterThan(0);
  });

  it('Loader with the Snowflake settings of its template loads the Snowflake driver and asks for the key', async () => {
    const loader = assembly.functions.find((f) => f.id === 'Loader')!;
    const setup = localFunctionSetup(assembly, loader, endpoints);
    const environment = { ...setup.environment, AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9' };
    delete (environment as Record<string, string>).DUCKDB_PATH;
    const rt = new LocalLambdaRuntime({ logDir: path.join(dir, 'logs') });
    rt.register(loader, {
      environment: { ...environment, WAREHOUSE: 'snowflake' },
      overrides: [],
      layers: [],
    });
    const err = await rt
      .invoke('Loader', { windowStart: WINDOW.start, windowEnd: WINDOW.end, lookbackHours: 1 })
      .catch((e: unknown) => e as Error);
    await rt.close();
    // It got as far as Secrets Manager (unreachable here): the driver's module code ran in the bundle.
    expect(`${(err as Error).name}: ${(err as Error).message}`).not.toMatch(
      /__dirname|__filename|require is not defined/,
    );
    expect((err as Error).message).toMatch(/secret|127\.0\.0\.1:9|ECONNREFUSED/i);
  });

  it('Publisher: a failed run writes its summary to S3 and notifies the SNS topic', async () => {
    const result = (await runtime.invoke('Publisher', {
      status: 'FAILED',
      executionName: 'assets-failed',
      startedAt: new Date().toISOString(),
      run: {
        plan: { runId: 'assets-failed', window: WINDOW },
        failure: { Error: 'States.TaskFailed', Cause: 'dbt exited 1' },
      },
    })) as { summaryUri: string };
    expect(result.summaryUri).toBe(`s3://${BUCKET}/${RUNS_PREFIX}assets-failed/summary.json`);
    const sent = (await readFile(sns.file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { message: string; topicArn: string });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.message).toContain('dbt exited 1');
    expect(sent[0]!.topicArn).toMatch(/^arn:aws:sns:/);
  });

  it('TopicAdmin and Producer: the topic is created, then simulated events reach the local broker', async () => {
    const topic = 'spotify-events';
    await runtime.invoke('Topic/AdminFunction', {
      RequestType: 'Create',
      ResourceProperties: { BootstrapBrokers: broker.bootstrap, Topic: topic, Partitions: '3' },
    });
    const sent = (await runtime.invoke('Producer', {})) as { sent: number };
    const template = assembly.functions.find((f) => f.id === 'Producer')!.environment;
    expect(sent.sent).toBe(Number(template.EVENTS_PER_INVOCATION));
    const admin = createKafka({ brokers: [broker.bootstrap] }).admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets.reduce((s, o) => s + Number(o.high), 0)).toBe(sent.sent);
  });

  it("SpotifyPoller/Poller: with the local state store as its override, a user's plays reach the broker", async () => {
    const api = await startLocalSpotifyApi();
    const data = path.join(dir, 'poller');
    const poller = await startLocalFunctions(assembly, endpoints, {
      logDir: path.join(dir, 'logs-poller'),
      only: ['SpotifyPoller/Poller'],
      extraEnvironment: {
        'SpotifyPoller/Poller': {
          SPOTIFY_STATE_STORE: 'file',
          SPOTIFY_DATA_DIR: data,
          SPOTIFY_API_BASE_URL: api.url,
          SPOTIFY_ACCOUNTS_BASE_URL: api.url,
        },
      },
    });
    try {
      const tokens = new FileTokenStore(localSpotifyPaths(data).tokens);
      await tokens.saveClient({ clientId: 'local-client' });
      await tokens.saveRefreshToken('ulla', api.addUser('ulla', { country: 'FI' }));
      api.play('ulla', [
        {
          played_at: '2026-11-23T11:10:00.000Z',
          track: { id: 't1', name: 'One', duration_ms: 1000, artists: ['A'], album: 'L' },
        },
        {
          played_at: '2026-11-23T11:14:00.000Z',
          track: { id: 't2', name: 'Two', duration_ms: 1000, artists: ['A'], album: 'L' },
        },
      ]);
      const admin = createKafka({ brokers: [broker.bootstrap] }).admin();
      await admin.connect();
      const high = async () =>
        (await admin.fetchTopicOffsets('spotify-events')).reduce((n, o) => n + Number(o.high), 0);
      const before = await high();
      const summary = (await poller.invoke('SpotifyPoller/Poller', {})) as { polled: number; plays: number };
      expect(summary).toMatchObject({ polled: 1, plays: 2 });
      expect((await high()) - before).toBe(2);
      await admin.disconnect();
      expect(poller.report()[0]!.overrides).toEqual(
        expect.arrayContaining(['KAFKA_AUTH', 'SPOTIFY_STATE_STORE', 'SPOTIFY_DATA_DIR']),
      );
    } finally {
      await poller.close();
      await api.close();
    }
  });
});

describe('the local Lambda runtime, on bundles that misbehave', () => {
  async function fakeAsset(name: string, code: string, timeoutSeconds = 3) {
    const codeDir = path.join(dir, 'fake-assets', name);
    await mkdir(codeDir, { recursive: true });
    await writeFile(path.join(codeDir, 'index.mjs'), code);
    return {
      id: name,
      stack: 'Test',
      logicalId: name,
      handler: 'index.handler',
      runtime: 'nodejs24.x',
      timeoutSeconds,
      memoryMiB: 256,
      assetHash: `${name}-${Date.now().toString(16)}`.padEnd(64, '0'),
      codeDir,
      environment: {},
    };
  }

  it('refuses an environment reference the local runtime cannot resolve, naming the function and variable', () => {
    const planner = assembly.functions.find((f) => f.id === 'Planner')!;
    const broken = {
      ...planner,
      environment: { ...planner.environment, LOOKBACK_HOURS: { 'Fn::Sub': '${Hours}' } },
    };
    expect(() => localFunctionSetup(assembly, broken, endpoints)).toThrow(
      /^Planner: its environment variable LOOKBACK_HOURS is \{"Fn::Sub":"\$\{Hours\}"\}, which the local runtime cannot resolve/,
    );
  });

  it('stops a bundle that imports a module the Lambda runtime does not provide, naming it and the fix', async () => {
    const rt = new LocalLambdaRuntime({ logDir: path.join(dir, 'logs') });
    rt.register(
      await fakeAsset('needs-kafkajs', "import 'kafkajs';\nexport const handler = async () => 1;\n"),
      {
        environment: {},
        overrides: [],
        layers: [],
      },
    );
    const err = await rt.preflight().catch((e: unknown) => e);
    await rt.close();
    expect(err).toBeInstanceOf(LambdaInitError);
    expect((err as Error).message).toMatch(/needs-kafkajs .*cannot start: Runtime\.ImportModuleError/);
    expect((err as Error).message).toMatch(/'kafkajs'/);
    expect((err as Error).message).toMatch(/externalModules/);
  });

  it('the Loader bundle without the duckdb layer cannot open the local warehouse', async () => {
    const loader = assembly.functions.find((f) => f.id === 'Loader')!;
    const rt = new LocalLambdaRuntime({ logDir: path.join(dir, 'logs') });
    rt.register(loader, { ...localFunctionSetup(assembly, loader, endpoints), layers: [] });
    const err = await rt
      .invoke('Loader', { windowStart: WINDOW.start, windowEnd: WINDOW.end, lookbackHours: 1 })
      .catch((e: unknown) => e);
    await rt.close();
    expect((err as Error).message).toMatch(/@duckdb\/node-api/);
  });

  it('a log file on a full disk does not crash the process: invocations go on and the report says why', async (ctx) => {
    const mount = path.join(dir, 'full-disk');
    await mkdir(path.join(mount), { recursive: true });
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]).status === 0;
    if (!mounted) {
      ctx.skip('needs a tmpfs mount (root) to fill a disk');
      return;
    }
    try {
      await mkdir(path.join(mount, 'logs'));
      // Fill the disk: the last write fails with ENOSPC.
      await writeFile(path.join(mount, 'filler'), Buffer.alloc(256 * 1024)).catch(() => undefined);
      const rt = new LocalLambdaRuntime({ logDir: path.join(mount, 'logs') });
      rt.register(await fakeAsset('chatty', 'export const handler = async (e) => ({ echo: e.n });\n', 5), {
        environment: {},
        overrides: [],
        layers: [],
        concurrency: 1,
      });
      try {
        for (let n = 0; n < 50; n++) expect(await rt.invoke('chatty', { n })).toEqual({ echo: n });
        // Let the stream report its failed writes.
        await new Promise((r) => setImmediate(r));
        expect(rt.report()[0]?.logError).toMatch(/ENOSPC/);
      } finally {
        await rt.close();
      }
    } finally {
      spawnSync('umount', [mount]);
    }
  });

  it('enforces the timeout, reports Sandbox.Timedout, and starts a fresh environment afterwards', async () => {
    const rt = new LocalLambdaRuntime({ logDir: path.join(dir, 'logs') });
    rt.register(
      await fakeAsset(
        'slow',
        'let calls = 0;\nexport const handler = async (event, context) => { calls++; if (event.sleep) await new Promise((r) => setTimeout(r, 5000)); return { calls, left: context.getRemainingTimeInMillis() }; };\n',
        1,
      ),
      { environment: {}, overrides: [], layers: [], concurrency: 1 },
    );
    const err = await rt.invoke('slow', { sleep: true }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('Sandbox.Timedout');
    expect((err as Error).message).toMatch(/Task timed out after 1\.00 seconds/);
    const after = (await rt.invoke('slow', {})) as { calls: number; left: number };
    expect(after.calls).toBe(1); // a new environment: the module was initialised again
    expect(after.left).toBeGreaterThan(0);
    expect(after.left).toBeLessThanOrEqual(1000);
    expect(rt.report()[0]?.coldStarts).toBe(2);
    await rt.close();
  });

  it('an environment that dies mid-invocation fails that invocation as Runtime.ExitError and is replaced', async () => {
    const rt = new LocalLambdaRuntime({ logDir: path.join(dir, 'logs') });
    rt.register(
      await fakeAsset(
        'crashing',
        'export const handler = async (event) => { if (event.crash) process.exit(3); return "fine"; };\n',
      ),
      { environment: {}, overrides: [], layers: [], concurrency: 1 },
    );
    const err = await rt.invoke('crashing', { crash: true }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('Runtime.ExitError');
    expect((err as Error).message).toMatch(/exit status 3/);
    expect(await rt.invoke('crashing', {})).toBe('fine');
    expect(rt.report()[0]?.coldStarts).toBe(2);
    await rt.close();
  });
});
