/**
 * The import handler in-process against the local S3 server and broker: a broker that cannot be reached fails
 * the invocation naming it (so Lambda retries it), and the retry connects afresh and imports the object.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createImporterHandler } from '../../lambdas/importer/handler.ts';
import { startBrokerThread } from '../../localstack/broker/thread.ts';
import type { RunningBroker } from '../../localstack/broker/index.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import { entry } from './history-fixtures.ts';

const BUCKET = 'import-handler-test';
let dir: string;
let s3: LocalS3;
let broker: RunningBroker;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-import-handler-'));
  s3 = await startLocalS3({ directory: path.join(dir, 's3'), buckets: [BUCKET] });
  broker = await startBrokerThread({ dataDir: path.join(dir, 'broker'), port: 0 });
}, 60_000);

afterAll(async () => {
  await broker?.close();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

it('fails naming the brokers when Kafka is unreachable, and the retry connects afresh', async () => {
  const key = 'imports/bob/Streaming_History_Audio_2024_0.json';
  await s3.client().send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      Body: JSON.stringify([entry({ i: 1, user: null }), entry({ i: 2, user: null })]),
    }),
  );
  const env: NodeJS.ProcessEnv = {
    BUCKET_NAME: BUCKET,
    KAFKA_BROKERS: '127.0.0.1:1',
    KAFKA_AUTH: 'plaintext',
  };
  const handler = createImporterHandler({
    s3: s3.client(),
    env,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'test', serviceName: 'Importer' }),
  });
  const event = { Records: [{ s3: { bucket: { name: BUCKET }, object: { key } } }] };
  await expect(handler(event)).rejects.toThrow(/Kafka at 127\.0\.0\.1:1/);
  env.KAFKA_BROKERS = broker.bootstrap;
  const [result] = await handler(event);
  expect(result!.summary.sent).toBe(2);
  expect(result!.summaryKey).toBe('import-summaries/bob/Streaming_History_Audio_2024_0.json.summary.json');
}, 120_000);
