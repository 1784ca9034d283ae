/**
 * Fetch on a raw socket: a long poll is answered as soon as data arrives, and one response holds whole
 * batches across partitions up to the request's max_bytes (always at least one batch, so consumers progress).
 */
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createTopic, suiteBroker, testKafka } from './helpers.ts';
import { frame, i32, i64, i8, RawClient, str } from './raw.ts';

/** Fetch v4 of partitions 0..n-1 of `topic` from offset 0. */
function fetchRequest(topic: string, partitions: number, maxWaitMs: number, maxBytes: number): Buffer {
  const parts = Array.from({ length: partitions }, (_, p) => Buffer.concat([i32(p), i64(0), i32(1 << 20)]));
  return frame(1, 4, 1, [
    i32(-1),
    i32(maxWaitMs),
    i32(1),
    i32(maxBytes),
    i8(0),
    i32(1),
    str(topic),
    i32(partitions),
    ...parts,
  ]);
}

/** Per partition of a Fetch v4 response with one topic: [partition, error, high watermark, record bytes]. */
function parseFetch(body: Buffer): [number, number, number, number][] {
  let at = 4 + 4; // throttle, topic count
  at += 2 + body.readInt16BE(at);
  const count = body.readInt32BE(at);
  at += 4;
  const out: [number, number, number, number][] = [];
  for (let i = 0; i < count; i++) {
    const partition = body.readInt32BE(at);
    const error = body.readInt16BE(at + 4);
    const hw = Number(body.readBigInt64BE(at + 6));
    at += 4 + 2 + 8 + 8 + 4; // ..., last stable offset, aborted transactions (-1)
    const size = body.readInt32BE(at);
    at += 4 + Math.max(0, size);
    out.push([partition, error, hw, size]);
  }
  return out;
}

describe('fetch', () => {
  const broker = suiteBroker('broker-fetch');

  it('answers a long poll when data arrives, not at the end of its wait', async () => {
    // Prepare: the topic exists and is empty; the fetch may wait 50 s, the client gives up after 20 s, so
    // only a poll woken by the produce passes.
    const { kafka } = testKafka(broker.bootstrap);
    await createTopic(kafka, 'poll', 1);
    const c = new RawClient(broker.port);
    await c.send(fetchRequest('poll', 1, 50_000, 1 << 20));
    const pending = c.response(20_000);

    // Act
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: 'poll', acks: -1, messages: [{ value: 'wake up' }] });
    await producer.disconnect();
    const response = await pending;
    c.end();

    // Assess
    const [[partition, error, hw, bytes]] = parseFetch(response!.body) as [[number, number, number, number]];
    expect([partition, error, hw]).toEqual([0, 0, 1]);
    expect(bytes).toBeGreaterThan(61);
  });

  it('fills a response across partitions up to max_bytes, whole batches only', async () => {
    // Prepare: one batch in each of three partitions.
    const { kafka } = testKafka(broker.bootstrap);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (const partition of [0, 1, 2]) {
      await producer.send({
        topic: 'spread',
        acks: -1,
        messages: Array.from({ length: 50 }, (_, i) => ({ partition, value: `p${partition}-${i}` })),
      });
    }
    await producer.disconnect();
    const c = new RawClient(broker.port);

    // Act
    await c.send(fetchRequest('spread', 3, 0, 1));
    const tiny = parseFetch((await c.response())!.body);
    await c.send(fetchRequest('spread', 3, 0, 10 << 20));
    const roomy = parseFetch((await c.response())!.body);
    c.end();

    // Assess
    expect(tiny.map(([, , , bytes]) => bytes > 0)).toEqual([true, false, false]);
    expect(roomy.map(([, , , bytes]) => bytes > 0)).toEqual([true, true, true]);
    expect(roomy[0]![3]).toBe(tiny[0]![3]);
  });
});
