/**
 * The import function's bundle, as `cdk synth -c env=dev` emits it, in the local Lambda runtime: an S3
 * notification of an export zip in the local S3 server sends the zip's track entries to the local broker
 * (read by ranged GETs, nothing downloaded whole), writes the summary object, and a second delivery of the same
 * notification sends the same event ids again (which Silver keeps once). A truncated zip sends nothing and
 * its summary names it.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../lambdas/core/kafka.ts';
import { mapEntry } from '../../lambdas/core/spotify/history.ts';
import { startBrokerThread } from '../../localstack/broker/thread.ts';
import type { RunningBroker } from '../../localstack/broker/index.ts';
import { synthesizeAssembly } from '../../localstack/lambda/assembly.ts';
import { startLocalFunctions } from '../../localstack/lambda/local-functions.ts';
import type { LocalLambdaRuntime } from '../../localstack/lambda/runtime.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import { entry, zipOf } from './history-fixtures.ts';

const BUCKET = 'import-lambda-test';
const FUNCTION = 'HistoryImport/Importer';
const TOPIC = 'spotify-events';

let dir: string;
let s3: LocalS3;
let broker: RunningBroker;
let runtime: LocalLambdaRuntime;

const notification = (key: string) => ({
  Records: [
    {
      s3: {
        bucket: { name: BUCKET },
        object: { key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+') },
      },
    },
  ],
});

async function topicValues(): Promise<Record<string, unknown>[]> {
  const kafka = createKafka({ brokers: [broker.bootstrap] });
  const admin = kafka.admin();
  await admin.connect();
  const high = (await admin.fetchTopicOffsets(TOPIC)).reduce((n, o) => n + Number(o.high), 0);
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `check-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const values: Record<string, unknown>[] = [];
  await new Promise<void>((resolve) => {
    if (high === 0) resolve();
    void consumer.run({
      eachMessage: async ({ message }) => {
        values.push(JSON.parse(String(message.value)) as Record<string, unknown>);
        if (values.length >= high) resolve();
      },
    });
  });
  await consumer.disconnect();
  return values;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-import-lambda-'));
  const assembly = await synthesizeAssembly({ envName: 'dev' });
  s3 = await startLocalS3({ directory: path.join(dir, 's3'), buckets: [BUCKET] });
  broker = await startBrokerThread({ dataDir: path.join(dir, 'broker'), port: 0 });
  runtime = await startLocalFunctions(
    assembly,
    {
      region: 'us-east-1',
      bucket: BUCKET,
      s3Endpoint: s3.endpoint,
      kafkaBootstrap: broker.bootstrap,
      warehouse: { kind: 'duckdb', path: path.join(dir, 'unused.duckdb') },
      warehouseLock: (fn) => fn(),
    },
    { logDir: path.join(dir, 'logs'), only: [FUNCTION] },
  );
}, 180_000);

afterAll(async () => {
  await runtime?.close();
  await broker?.close();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the import function bundle', () => {
  it('streams a zip under imports/<user>/ into Kafka, writes its summary, and a repeated notification sends the same ids', async () => {
    // Entries without username (as exports since 2023): the user comes from the folder.
    const entries = Array.from({ length: 30 }, (_, i) =>
      entry({ i, user: null, kind: i % 6 === 5 ? 'episode' : 'track' }),
    );
    const zip = zipOf([
      {
        name: 'Spotify Extended Streaming History/Streaming_History_Audio_2024.json',
        data: JSON.stringify(entries),
      },
      { name: 'Spotify Extended Streaming History/ReadMe.pdf', data: '%PDF' },
    ]);
    const key = 'imports/alice/my spotify data.zip';
    await s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: zip }));
    const expected = entries
      .map((e) => mapEntry(e, 'alice'))
      .flatMap((o) => (o.kind === 'event' ? [o.event.event_id] : []));

    const first = (await runtime.invoke(FUNCTION, notification(key))) as {
      summary: { sent: number; totals: { entries: number; imported: number; leftOut: number } };
    }[];
    expect(first).toHaveLength(1);
    expect(first[0]!.summary.sent).toBe(expected.length);
    expect(first[0]!.summary.totals).toMatchObject({ entries: 30, imported: 25, leftOut: 5 });
    const summaryObject = await s3.client().send(
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: 'import-summaries/alice/my spotify data.zip.summary.json',
      }),
    );
    const written = JSON.parse(await summaryObject.Body!.transformToString()) as {
      totals: { imported: number };
      skippedFiles: string[];
    };
    expect(written.totals.imported).toBe(25);
    expect(written.skippedFiles).toHaveLength(1);

    await runtime.invoke(FUNCTION, notification(key));
    const values = await topicValues();
    expect(values).toHaveLength(2 * expected.length);
    expect(new Set(values.map((v) => v.event_id))).toEqual(new Set(expected));
    expect(
      values.every((v) => v.user_id === 'alice' && v.source === 'spotify_history' && v.schema_version === 2),
    ).toBe(true);
  });

  it('refuses a truncated zip before sending anything, naming it in the summary', async () => {
    const zip = zipOf([{ name: 'Streaming_History_Audio_0.json', data: JSON.stringify([entry({ i: 99 })]) }]);
    const key = 'imports/cut.zip';
    await s3
      .client()
      .send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: zip.subarray(0, zip.length - 12) }));
    const before = (await topicValues()).length;
    const out = (await runtime.invoke(FUNCTION, notification(key))) as {
      summary: { sent: number; refused: { message: string }[] };
    }[];
    expect(out[0]!.summary.sent).toBe(0);
    expect(out[0]!.summary.refused[0]!.message).toMatch(
      /s3:\/\/import-lambda-test\/imports\/cut\.zip: not a readable zip/,
    );
    expect((await topicValues()).length).toBe(before);
  });
});
