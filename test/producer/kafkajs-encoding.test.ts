/**
 * The producer's CPU savings, checked against kafkajs's own code:
 * - keyPartitioner puts every key where kafkajs's DefaultPartitioner (the Java client's murmur2) does;
 * - the patched kafkajs record encoding (patches/kafkajs+2.2.4.patch: all records of a batch written
 *   straight into one buffer) gives byte for byte what kafkajs's stock per-record encoder gives.
 * What the broker and independent clients make of the bytes is tested in test/broker (kcat, kafkajs).
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyPartitioner, partitionForKey } from '../../lambdas/core/kafka.ts';

const require = createRequire(import.meta.url);
interface EncoderLike {
  buffer: Buffer;
}
type Message = {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  timestamp?: string;
  headers?: Record<string, string | Buffer | (string | Buffer)[]>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => EncoderLike;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (options: object) => Promise<EncoderLike>;
};
const { Types } = require('kafkajs/src/protocol/message/compression') as {
  Types: { None: number; GZIP: number };
};

function patchedEncodeRecords(): (messages: Message[], first: number, now: number) => EncoderLike {
  try {
    return require('kafkajs/src/protocol/recordBatch/record/v0/encodeRecords');
  } catch (err) {
    throw new Error(
      `the kafkajs patch is not applied (run npm ci, which runs patch-package): ${String(err)}`,
    );
  }
}

/** kafkajs's stock encoding of one partition's records (produce v3 request, before the patch). */
function stockRecords(messages: Message[], firstTimestamp: number, dateNow: number): EncoderLike[] {
  return messages.map((message, i) =>
    Record({
      ...message,
      offsetDelta: i,
      timestampDelta: (Number(message.timestamp) || dateNow) - firstTimestamp,
    }),
  );
}

const bytes = (s: fc.Arbitrary<string>) => s.map((v) => Buffer.from(v));
const text = fc.string({ unit: 'binary', maxLength: 400 });
const keyArb = fc.oneof(fc.constant(null), text, bytes(text), fc.constant(''));
const message: fc.Arbitrary<Message> = fc.record(
  {
    key: keyArb,
    value: fc.oneof(fc.constant(null), text, bytes(text)),
    // Deltas from 0 past 2^31 ms, so the encoder's 32-bit fast path and its 64-bit fallback both run.
    timestamp: fc.integer({ min: 0, max: 2 ** 33 }).map((d) => String(1_700_000_000_000 + d)),
    headers: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.oneof(text, bytes(text), fc.array(text, { maxLength: 3 })),
      { maxKeys: 3 },
    ),
  },
  { requiredKeys: ['value'] },
);

describe('keyPartitioner', () => {
  const metadata = (n: number) => Array.from({ length: n }, (_, p) => ({ partitionId: p, leader: 0 }));

  it('puts every key in the partition kafkajs DefaultPartitioner (the Java client) picks', () => {
    const stock = Partitioners.DefaultPartitioner();
    const ours = keyPartitioner();
    fc.assert(
      fc.property(
        // Numbers too: kafkajs sends a key that is not a Buffer as String(key).
        fc.oneof(text, bytes(text), fc.integer()).filter((k) => typeof k === 'number' || k.length > 0),
        fc.integer({ min: 1, max: 64 }),
        (key, n) => {
          const args = { topic: 't', partitionMetadata: metadata(n), message: { key, value: 'v' } };
          const expected = stock(args as PartitionerArgs);
          expect(ours(args as PartitionerArgs)).toBe(expected);
          expect(partitionForKey(key as string | Buffer, n)).toBe(expected);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('keeps an explicit partition, and spreads records without a key over the partitions', () => {
    const ours = keyPartitioner();
    const args = (message: object) =>
      ({ topic: 't', partitionMetadata: metadata(3), message }) as PartitionerArgs;
    expect(ours(args({ key: 'user-1', partition: 2, value: 'v' }))).toBe(2);
    const seen = new Set(Array.from({ length: 9 }, () => ours(args({ value: 'v' }))));
    expect(seen).toEqual(new Set([0, 1, 2]));
  });
});

describe('patched kafkajs record encoding', () => {
  it('writes the same bytes as kafkajs encoding each record on its own', () => {
    const encodeRecords = patchedEncodeRecords();
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        fc.nat(),
        (messages, timed, firstAt) => {
          const batch: Message[] = timed ? messages : messages.map(({ timestamp: _t, ...m }) => m);
          const dateNow = 1_700_000_000_000;
          // kafkajs takes the first timestamp after sorting them as strings, so deltas can be negative too:
          // any timestamp of the batch may be the first.
          const first = timed ? Number(batch[firstAt % batch.length]!.timestamp) : dateNow;
          const expected = Buffer.concat(stockRecords(batch, first, dateNow).map((r) => r.buffer));
          expect(encodeRecords(batch, first, dateNow).buffer.equals(expected)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives the same record batch, plain and gzip, as kafkajs with one encoder per record', async () => {
    const encodeRecords = patchedEncodeRecords();
    const messages = fc.sample(message, { seed: 7, numRuns: 300 }).map((m, i) => ({
      ...m,
      timestamp: String(1_700_000_000_000 + i * 13),
    }));
    const first = 1_700_000_000_000;
    for (const compression of [Types.None, Types.GZIP]) {
      const common = { compression, firstTimestamp: first, maxTimestamp: first + 299 * 13 };
      const stock = await RecordBatch({
        ...common,
        records: stockRecords(messages, first, first),
        lastOffsetDelta: messages.length - 1,
      });
      const patched = await RecordBatch({
        ...common,
        records: [encodeRecords(messages, first, first)],
        recordCount: messages.length,
        lastOffsetDelta: messages.length - 1,
      });
      expect(patched.buffer.equals(stock.buffer), `compression ${compression}`).toBe(true);
    }
  });
});
