/**
 * What the broker accepts: batches of every codec Kafka defines, from kcat (librdkafka), are stored and read
 * back; hand-built batches with a wrong CRC, corrupt gzip, a record count that does not match their records
 * or a codec Kafka does not define are refused with the error code a Kafka broker answers, and nothing of
 * them is stored, while the valid batches before and after them land at consecutive offsets.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../localstack/broker/index.ts';
import { kcat } from './kcat.ts';
import { createTopic, tempDir, testKafka } from './helpers.ts';
import { produceFrame, produceResult, RawClient, recordBatch, recordsOf } from './raw.ts';

const CORRUPT_MESSAGE = 2;
const INVALID_RECORD = 87;
const UNSUPPORTED_COMPRESSION_TYPE = 76;

describe('broker batch validation', () => {
  const data = tempDir('broker-validation');
  const logs: string[] = [];
  let broker: RunningBroker;

  beforeAll(async () => {
    broker = await startBroker({ dataDir: data.dir, port: 0, log: (l) => logs.push(l) });
  });
  afterAll(async () => {
    await broker.close();
    data.remove();
  });

  /** The codec (attributes bits 0-2) of every batch stored in a partition's log file. */
  function storedCodecs(topic: string, partition: number): number[] {
    const file = readFileSync(path.join(data.dir, 'topics', topic, `${partition}.log`));
    const codecs: number[] = [];
    for (let at = 0; at < file.length; at += 12 + file.readInt32BE(at + 8)) {
      codecs.push(file.readInt16BE(at + 21) & 7);
    }
    return codecs;
  }

  it.each([
    ['gzip', 1],
    ['snappy', 2],
    ['lz4', 3],
    ['zstd', 4],
  ])('stores %s batches from kcat and serves them back with valid CRCs', async (codec, id) => {
    // Prepare: values that compress, so librdkafka keeps the codec on every batch.
    const topic = `codec-${codec}`;
    const lines = Array.from(
      { length: 400 },
      (_, i) => `k${i}:{"event":"play","n":${i},"pad":"${'x'.repeat(40)}"}`,
    );

    // Act
    await kcat(
      ['-b', broker.bootstrap, '-P', '-t', topic, '-K', ':', '-z', codec, '-X', 'linger.ms=50'],
      `${lines.join('\n')}\n`,
    );
    const out = await kcat([
      '-b',
      broker.bootstrap,
      '-C',
      '-t',
      topic,
      '-X',
      'check.crcs=true',
      '-o',
      'beginning',
      '-e',
      '-f',
      '%k:%s\n',
    ]);

    // Assess
    expect(out.trim().split('\n').sort()).toEqual([...lines].sort());
    const codecs = [0, 1, 2].flatMap((p) => storedCodecs(topic, p));
    expect(codecs.length).toBeGreaterThan(0);
    expect(new Set(codecs)).toEqual(new Set([id]));
    expect(logs.filter((l) => l.includes('refused'))).toEqual([]);
  });

  it('refuses bad batches with Kafka error codes, stores nothing of them, and keeps the valid ones around them', async () => {
    // Prepare
    const { kafka } = testKafka(broker.bootstrap);
    await createTopic(kafka, 'checked', 1);
    const gzipped = zlib.gzipSync(recordsOf(['g0', 'g1']));
    const corruptGzip = Buffer.from(gzipped);
    for (let i = 12; i < corruptGzip.length - 8; i += 3) corruptGzip[i] = corruptGzip[i]! ^ 0x5a;
    const tooLong = recordBatch({ values: ['t0'] });
    tooLong.writeInt32BE(tooLong.readInt32BE(8) + 100, 8);
    const cases: [string, number, Buffer, number][] = [
      ['wrong CRC', 3, recordBatch({ values: ['c0', 'c1'], badCrc: true }), CORRUPT_MESSAGE],
      [
        'corrupt gzip',
        3,
        recordBatch({ values: ['g0', 'g1'], codec: 1, body: corruptGzip }),
        CORRUPT_MESSAGE,
      ],
      ['count above the records', 3, recordBatch({ values: ['n0', 'n1'], count: 3 }), INVALID_RECORD],
      ['count below the records', 3, recordBatch({ values: ['n0', 'n1', 'n2'], count: 2 }), INVALID_RECORD],
      [
        'gzip with a count above its records',
        3,
        recordBatch({ values: ['g0', 'g1'], codec: 1, body: gzipped, count: 5 }),
        INVALID_RECORD,
      ],
      [
        'lastOffsetDelta against count',
        3,
        recordBatch({ values: ['d0', 'd1'], lastOffsetDelta: 5 }),
        INVALID_RECORD,
      ],
      ['codec 5', 3, recordBatch({ values: ['u0'], codec: 5 }), UNSUPPORTED_COMPRESSION_TYPE],
      ['zstd in Produce v3', 3, recordBatch({ values: ['z0'], codec: 4 }), UNSUPPORTED_COMPRESSION_TYPE],
      ['zstd that does not decompress', 7, recordBatch({ values: ['z0'], codec: 4 }), CORRUPT_MESSAGE],
      ['batchLength past the bytes', 3, tooLong, CORRUPT_MESSAGE],
      ['magic 2 in Produce v2', 2, recordBatch({ values: ['m0'] }), INVALID_RECORD],
      [
        'two batches for one partition',
        3,
        Buffer.concat([recordBatch({ values: ['t0'] }), recordBatch({ values: ['t1'] })]),
        INVALID_RECORD,
      ],
    ];
    const c = new RawClient(broker.port);
    const logFile = path.join(data.dir, 'topics', 'checked', '0.log');

    // Act
    await c.send(produceFrame(3, 1, 'checked', 0, recordBatch({ values: ['a0', 'a1', 'a2'] })));
    const before = produceResult((await c.response())!.body, 'checked');
    const sizeAfterFirst = statSync(logFile).size;
    const refused: Record<string, number> = {};
    let id = 2;
    for (const [name, version, batch] of cases) {
      await c.send(produceFrame(version, id++, 'checked', 0, batch));
      refused[name] = produceResult((await c.response())!.body, 'checked').error;
    }
    const sizeAfterRefused = statSync(logFile).size;
    await c.send(
      produceFrame(
        7,
        id++,
        'checked',
        0,
        recordBatch({ values: ['b0', 'b1'], codec: 1, body: zlib.gzipSync(recordsOf(['b0', 'b1'])) }),
      ),
    );
    const after = produceResult((await c.response())!.body, 'checked');
    c.end();
    const out = await kcat([
      '-b',
      broker.bootstrap,
      '-C',
      '-t',
      'checked',
      '-X',
      'check.crcs=true',
      '-o',
      'beginning',
      '-e',
      '-f',
      '%o=%s\n',
    ]);

    // Assess: every bad batch got its code; the valid ones hold offsets 0-2 and 3-4 and nothing else is stored.
    expect(before).toEqual({ error: 0, baseOffset: 0 });
    expect(refused).toEqual(Object.fromEntries(cases.map(([name, , , code]) => [name, code])));
    expect(sizeAfterRefused).toBe(sizeAfterFirst);
    expect(after).toEqual({ error: 0, baseOffset: 3 });
    expect(out.trim().split('\n')).toEqual(['0=a0', '1=a1', '2=a2', '3=b0', '4=b1']);
    const reasons = logs.filter((l) => l.includes('refused a batch for checked-0'));
    expect(reasons).toHaveLength(cases.length);
    expect(reasons[0]).toMatch(/CORRUPT_MESSAGE: CRC-32C 0x[0-9a-f]{8} in the batch, 0x[0-9a-f]{8} computed/);
    expect(reasons[1]).toMatch(/CORRUPT_MESSAGE: gzip data does not decompress/);
    expect(reasons[2]).toMatch(/INVALID_RECORD: the batch declares 3 records but holds 2/);
  });
});
