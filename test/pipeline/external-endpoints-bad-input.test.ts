/**
 * Bad external endpoints for `mds local up`: a closed port for the broker, the S3 server or Postgres, wrong
 * S3 credentials, a wrong Postgres password, a password in the URL. Each is one line naming the endpoint, its
 * setting and what to check, a non-zero exit, and nothing produced: the topic and the bucket are not created
 * on the services that did answer, and the database is left without a Bronze schema. (A missing bucket that
 * the credentials may not create cannot be shown here: the local S3 server grants every valid key every
 * action; the check's AccessDenied branch is the same one-line path.)
 */
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../lambdas/core/kafka.ts';
import { localS3ClientConfig } from '../../lambdas/core/s3.ts';
import { openPostgresWarehouse } from '../../lambdas/core/warehouse/postgres.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import {
  runMds,
  startBrokerProcess,
  startS3Process,
  type ServiceProcess,
} from '../helpers/service-processes.ts';

const PASSWORD = 'right-password';
const BUCKET = 'never-created';
const TOPIC = 'spotify-events';

let dir: string;
let pgServer: TestPostgres;
let broker: ServiceProcess;
let s3: ServiceProcess;
let closedPort: number;
let runs = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mds-byo-bad-'));
  pgServer = await startPostgres({ password: PASSWORD });
  await pgServer.createDatabase('mds_bad');
  broker = await startBrokerProcess(path.join(dir, 'broker'), { autoCreate: false });
  s3 = await startS3Process(path.join(dir, 's3'));
  // A port nothing listens on: bound, then released.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
}, 120_000);

afterAll(async () => {
  await broker?.stop();
  await s3?.stop();
  await pgServer?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Endpoints {
  brokers?: string;
  s3?: string;
  warehouse?: string;
}

function up(over: Endpoints, env: Record<string, string | undefined> = {}, flags = true) {
  const e = {
    brokers: `127.0.0.1:${broker.port}`,
    s3: `http://127.0.0.1:${s3.port}`,
    warehouse: `postgres://postgres@127.0.0.1:${pgServer.port}/mds_bad`,
    ...over,
  };
  runs += 1;
  const endpointArgs = flags
    ? ['--brokers', e.brokers, '--s3-endpoint', e.s3, '--bucket', BUCKET, '--warehouse', e.warehouse]
    : [];
  return runMds(
    [
      'local',
      'up',
      '--once',
      '--events',
      '100',
      '--start',
      '2026-11-20T00:00:00Z',
      '--end',
      '2026-11-20T01:00:00Z',
      '--data',
      path.join(dir, `data-${runs}`),
      ...endpointArgs,
    ],
    {
      PGPASSWORD: PASSWORD,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_PROFILE: undefined,
      ...env,
    },
    120_000,
  );
}

/** Nothing produced: no topic on the broker, no bucket on the S3 server, no Bronze schema in the database. */
async function expectNothingProduced(): Promise<void> {
  const admin = createKafka({ brokers: [`127.0.0.1:${broker.port}`], retries: 1 }).admin();
  await admin.connect();
  try {
    expect(await admin.listTopics()).not.toContain(TOPIC);
  } finally {
    await admin.disconnect();
  }
  const client = new S3Client(localS3ClientConfig(`http://127.0.0.1:${s3.port}`));
  try {
    const status = await client
      .send(new HeadBucketCommand({ Bucket: BUCKET }))
      .then(() => 200)
      .catch((err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode);
    expect(status).toBe(404);
  } finally {
    client.destroy();
  }
  const wh = await openPostgresWarehouse({
    host: '127.0.0.1',
    port: pgServer.port,
    user: 'postgres',
    password: PASSWORD,
    database: 'mds_bad',
  });
  try {
    const schemas = await wh.query(
      "select schema_name from information_schema.schemata where schema_name = 'bronze'",
    );
    expect(schemas).toEqual([]);
  } finally {
    await wh.close();
  }
}

function oneLine(res: { status: number | null; stderr: string }, pattern: RegExp): void {
  expect(res.status, res.stderr).not.toBe(0);
  expect(res.status).not.toBeNull();
  const lines = res.stderr.trim().split('\n');
  expect(lines, res.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('mds local up with a bad external endpoint', () => {
  it('a closed broker port: names the brokers and --brokers', async () => {
    const res = await up({ brokers: `127.0.0.1:${closedPort}` });
    oneLine(
      res,
      new RegExp(
        `^mds: Kafka at 127\\.0\\.0\\.1:${closedPort} \\(--brokers\\) is unreachable: .*; check the address`,
      ),
    );
    await expectNothingProduced();
  }, 180_000);

  it('the same from the environment: names MDS_BROKERS', async () => {
    const res = await up(
      {},
      {
        MDS_BROKERS: `127.0.0.1:${closedPort}`,
        MDS_S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
        MDS_BUCKET: BUCKET,
        MDS_WAREHOUSE: `postgres://postgres@127.0.0.1:${pgServer.port}/mds_bad`,
      },
      false,
    );
    oneLine(res, /^mds: Kafka at \S+ \(MDS_BROKERS\) is unreachable/);
    await expectNothingProduced();
  }, 180_000);

  it('a closed S3 port: names the URL and --s3-endpoint', async () => {
    const res = await up({ s3: `http://127.0.0.1:${closedPort}` });
    oneLine(
      res,
      new RegExp(
        `^mds: S3 at http://127\\.0\\.0\\.1:${closedPort} \\(--s3-endpoint\\) is unreachable: ECONNREFUSED; check the URL`,
      ),
    );
    await expectNothingProduced();
  }, 180_000);

  it('S3 credentials the server does not know: names the credential variables', async () => {
    const res = await up({}, { AWS_ACCESS_KEY_ID: 'WRONG', AWS_SECRET_ACCESS_KEY: 'WRONG' });
    oneLine(
      res,
      /^mds: S3 at \S+ \(--s3-endpoint\) refused these credentials .*; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
    await expectNothingProduced();
  }, 180_000);

  it('no S3 credentials at all: says so and names the variables', async () => {
    const res = await up(
      {},
      {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        HOME: dir,
        AWS_CONFIG_FILE: undefined,
      },
    );
    oneLine(
      res,
      /^mds: S3 at \S+ \(--s3-endpoint\): no AWS credentials found .*; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE/,
    );
    await expectNothingProduced();
  }, 180_000);

  it('a closed Postgres port: names the URL (no password) and --warehouse', async () => {
    const res = await up({ warehouse: `postgres://postgres@127.0.0.1:${closedPort}/mds_bad` });
    oneLine(
      res,
      new RegExp(
        `^mds: Postgres at postgres://postgres@127\\.0\\.0\\.1:${closedPort}/mds_bad \\(--warehouse\\) is unreachable: ECONNREFUSED`,
      ),
    );
    await expectNothingProduced();
  }, 180_000);

  it('a wrong Postgres password: the server refuses the login; names PGPASSWORD', async () => {
    const res = await up({}, { PGPASSWORD: 'wrong-password' });
    oneLine(
      res,
      /^mds: Postgres at \S+ \(--warehouse\) refused the login: password authentication failed for user "postgres"; check PGPASSWORD/,
    );
    expect(res.stderr).not.toContain('wrong-password');
    await expectNothingProduced();
  }, 180_000);

  it('a password in the URL is refused before anything connects (exit 2)', async () => {
    const res = await up({ warehouse: `postgres://postgres:${PASSWORD}@127.0.0.1:${pgServer.port}/mds_bad` });
    oneLine(res, /^mds: --warehouse: the URL holds a password; remove it and set PGPASSWORD/);
    expect(res.status).toBe(2);
    expect(res.stderr).not.toContain(PASSWORD);
    await expectNothingProduced();
  }, 180_000);
});
