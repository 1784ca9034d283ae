/**
 * kafkajs decodes only gzip batches out of the box; the other codecs throw KafkaJSNotImplemented and crash
 * the consumer. AWS documents no codec restriction for Lambda's MSK and self-managed Kafka event source
 * mappings, and its events carry the records' plain keys and values (base64), so whichever codec a producer
 * picks among those an MSK broker accepts (gzip, snappy, lz4, zstd) must decode here too. This module
 * registers snappy, lz4 and zstd with kafkajs for the local mapping (the broker's own decompression, in
 * plain JavaScript). It is imported by the local mapping only: the Lambda bundles never load it.
 *
 * It also turns on the patched kafkajs fetch decoder's marker for a batch that still cannot be decoded
 * (corrupt compressed data, records that do not parse): instead of failing the whole fetch, and with it
 * every partition, again and again, the batch comes to the mapping as one `undecodableBatch` entry, which
 * the mapping sends to its on-failure destination before it moves on (see index.ts).
 */
import kafkajs from 'kafkajs';
import { createRequire } from 'node:module';
import { Codec, compress, decompress } from '../broker/codecs.ts';

type KafkaCodec = () => {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
};

const codec =
  (id: number): KafkaCodec =>
  () => ({
    compress: async (encoder) => compress(id, encoder.buffer),
    decompress: async (buffer) => decompress(id, buffer),
  });

const codecs = kafkajs.CompressionCodecs as Record<number, KafkaCodec>;
// gzip stays as lambdas/core/kafka.ts registers it (the producer's level); the rest are added here.
codecs[kafkajs.CompressionTypes.Snappy] = codec(Codec.SNAPPY);
codecs[kafkajs.CompressionTypes.LZ4] = codec(Codec.LZ4);
codecs[kafkajs.CompressionTypes.ZSTD] = codec(Codec.ZSTD);

const require = createRequire(import.meta.url);
const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as {
  markUndecodableBatches: boolean;
};
decodeMessages.markUndecodableBatches = true;

/** What the patched fetch decoder puts in place of the records of a batch it cannot decode. */
export interface UndecodableBatch {
  readonly firstOffset: string;
  readonly lastOffset: string;
  readonly error: unknown;
}

export function undecodableBatchOf(message: object): UndecodableBatch | undefined {
  return (message as { undecodableBatch?: UndecodableBatch }).undecodableBatch;
}
