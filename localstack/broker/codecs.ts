/**
 * Decompression of the record-batch codecs Kafka defines (attributes bits 0-2): 1 gzip, 2 snappy, 3 lz4,
 * 4 zstd. The broker decompresses every produced batch to check its records, as a Kafka broker does; the
 * local event source mapping registers the same functions with kafkajs (see ../esm/codecs.ts). All of them
 * are plain JavaScript: node:zlib for gzip, snappyjs, lz4js (LZ4 frame format) and fzstd.
 */
import { decompress as zstdDecompress } from 'fzstd';
import lz4 from 'lz4js';
import snappy from 'snappyjs';
import { MdsError } from '../../lambdas/core/errors.ts';
import zlib from 'node:zlib';

export const Codec = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;

export const CODEC_NAMES: Readonly<Record<number, string>> = {
  0: 'none',
  1: 'gzip',
  2: 'snappy',
  3: 'lz4',
  4: 'zstd',
};

/**
 * Largest decompressed batch accepted: a batch that claims more is refused rather than allocated. Kafka's
 * default max.message.bytes is about 1 MiB compressed; records compress at most some tens of times.
 */
export const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

/** Thrown when compressed bytes do not decode; the message says why. */
export class DecompressionError extends MdsError {}

/** The header the Java client (xerial snappy-java) writes before its snappy blocks. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = 16;

function snappyDecompress(data: Buffer): Buffer {
  if (data.length < XERIAL_HEADER || !data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    // librdkafka writes raw snappy; the Java client reads both.
    return Buffer.from(snappy.uncompress(data, MAX_DECOMPRESSED_BYTES));
  }
  // xerial framing: magic, version, compatible version, then blocks of (int32 length, raw snappy).
  const parts: Buffer[] = [];
  let total = 0;
  let at = XERIAL_HEADER;
  while (at < data.length) {
    if (at + 4 > data.length) throw new DecompressionError('snappy block length is cut short');
    const length = data.readInt32BE(at);
    at += 4;
    if (length < 0 || at + length > data.length) {
      throw new DecompressionError(`snappy block of ${length} bytes runs past the data`);
    }
    const block = Buffer.from(snappy.uncompress(data.subarray(at, at + length), MAX_DECOMPRESSED_BYTES));
    total += block.length;
    if (total > MAX_DECOMPRESSED_BYTES) throw new DecompressionError('snappy data decompresses too large');
    parts.push(block);
    at += length;
  }
  return Buffer.concat(parts, total);
}

const LZ4_MAGIC = 0x184d2204;

function lz4Decompress(data: Buffer): Buffer {
  // Kafka writes one LZ4 frame per batch (KIP-57 fixed the header checksum for magic 1 and later).
  if (data.length < 7 || data.readUInt32LE(0) !== LZ4_MAGIC) {
    throw new DecompressionError('lz4 data does not start with an LZ4 frame');
  }
  const bound = lz4.decompressBound(data);
  if (!(bound >= 0 && bound <= MAX_DECOMPRESSED_BYTES)) {
    throw new DecompressionError(`lz4 frame claims ${bound} decompressed bytes`);
  }
  return Buffer.from(lz4.decompress(data, bound));
}

function gzipDecompress(data: Buffer): Buffer {
  return zlib.gunzipSync(data, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
}

function zstdDecompressBuffer(data: Buffer): Buffer {
  const out = zstdDecompress(data);
  if (out.length > MAX_DECOMPRESSED_BYTES) throw new DecompressionError('zstd data decompresses too large');
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

/** Decompresses the records of a batch compressed with `codec` (1-4); throws DecompressionError. */
export function decompress(codec: number, data: Buffer): Buffer {
  try {
    switch (codec) {
      case Codec.GZIP:
        return gzipDecompress(data);
      case Codec.SNAPPY:
        return snappyDecompress(data);
      case Codec.LZ4:
        return lz4Decompress(data);
      case Codec.ZSTD:
        return zstdDecompressBuffer(data);
      default:
        throw new DecompressionError(`compression codec ${codec} is not one Kafka defines`);
    }
  } catch (err) {
    if (err instanceof DecompressionError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new DecompressionError(`${CODEC_NAMES[codec] ?? codec} data does not decompress: ${why}`);
  }
}

/** Compression for the codecs the JavaScript libraries can write (all but zstd, which fzstd only reads). */
export function compress(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case Codec.GZIP:
      return zlib.gzipSync(data);
    case Codec.SNAPPY:
      return Buffer.from(snappy.compress(data));
    case Codec.LZ4:
      return Buffer.from(lz4.compress(data));
    default:
      throw new DecompressionError(
        `compressing with ${CODEC_NAMES[codec] ?? codec} is not available locally: produce with gzip, snappy or lz4`,
      );
  }
}
