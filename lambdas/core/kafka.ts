/**
 * The one place that builds kafkajs clients: plaintext against the local broker, TLS plus
 * SASL/OAUTHBEARER with an MSK IAM token (aws-msk-iam-sasl-signer-js) against Amazon MSK.
 * kafkajs logs every reconnect at INFO; its log lines go to our logger at WARN and above.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { envEnum } from './env.ts';
import { ConfigError } from './errors.ts';
import kafkajs, {
  Kafka,
  Partitioners,
  logLevel,
  type ICustomPartitioner,
  type Producer,
  type logCreator,
} from 'kafkajs';

/**
 * gzip level of produced batches, as Kafka's own `compression.gzip.level` (KIP-390). kafkajs compresses at
 * zlib's default, 6; level 1 costs a third of the CPU for batches about 15% larger, and the producer is
 * CPU-bound (`npm run bench -- broker`). Consumers read any level.
 */
/** KAFKA_AUTH, for the functions that talk to Kafka: `iam` (TLS and MSK IAM, the default), `plaintext` (the local broker). */
export const KAFKA_AUTH = envEnum('iam (MSK) or plaintext (the local broker)', ['iam', 'plaintext'], 'iam');

export const GZIP_LEVEL = 1;

/**
 * The brokers and the MSK IAM signing region (null for plaintext) of a producing function's KAFKA_BROKERS,
 * KAFKA_AUTH and AWS_REGION; an empty broker list, or IAM without a region, is a ConfigError naming the variable.
 */
export function kafkaSettings(c: {
  readonly KAFKA_BROKERS: string;
  readonly KAFKA_AUTH: 'iam' | 'plaintext';
  readonly AWS_REGION: string;
}): { brokers: string[]; iamRegion: string | null } {
  const brokers = c.KAFKA_BROKERS.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) {
    throw new ConfigError(
      'KAFKA_BROKERS',
      'is empty',
      'Set it to the comma-separated host:port list of the brokers.',
    );
  }
  if (c.KAFKA_AUTH === 'iam' && !c.AWS_REGION) {
    throw new ConfigError(
      'AWS_REGION',
      'is not set',
      'MSK IAM tokens are signed for a region; set AWS_REGION.',
    );
  }
  return { brokers, iamRegion: c.KAFKA_AUTH === 'iam' ? c.AWS_REGION : null };
}

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);
// kafkajs keeps its codecs in a process-wide table; the GZIP entry is replaced once, for every client.
kafkajs.CompressionCodecs[kafkajs.CompressionTypes.GZIP] = () => ({
  compress: async (encoder: { buffer: Buffer }) => gzip(encoder.buffer, { level: GZIP_LEVEL }),
  decompress: async (buffer: Buffer) => gunzip(buffer),
});

/** The part of a logger kafkajs output needs; a Powertools Logger fits. */
export interface KafkaLogger {
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** Authenticate with MSK IAM (SASL OAUTHBEARER); implies TLS. */
  readonly iamAuth?: { readonly region: string };
  readonly tls?: boolean;
  /** Where kafkajs warnings and errors go. @default a Powertools logger with service name `kafka` */
  readonly logger?: KafkaLogger;
  /** Connection attempts before a request fails (kafkajs retries with exponential backoff). @default 5 */
  readonly retries?: number;
}

export function createKafka(settings: KafkaSettings): Kafka {
  const logger: KafkaLogger = settings.logger ?? new Logger({ serviceName: 'kafka', logLevel: 'WARN' });
  const toLogger: logCreator =
    () =>
    ({ level, namespace, log }) => {
      // kafkajs adds its own timestamp and logger name; our logger has both already.
      const { message, timestamp: _timestamp, logger: _logger, ...extra } = log;
      // Error responses (REBALANCE_IN_PROGRESS on a heartbeat, say) also reach the caller, which retries them
      // or fails with them; logging each one as well would bury the messages that matter.
      if (namespace === 'Connection' && String(message).startsWith('Response ')) return;
      const line = `kafkajs ${namespace}: ${message}`;
      if (level === logLevel.ERROR) logger.error(line, { ...extra });
      else if (level === logLevel.WARN) logger.warn(line, { ...extra });
    };
  const iam = settings.iamAuth;
  return new Kafka({
    clientId: settings.clientId ?? 'mds',
    brokers: [...settings.brokers],
    ssl: settings.tls ?? iam !== undefined,
    sasl: iam
      ? {
          mechanism: 'oauthbearer',
          oauthBearerProvider: async () => {
            const { token } = await generateAuthToken({ region: iam.region });
            return { value: token };
          },
        }
      : undefined,
    logLevel: logLevel.WARN,
    logCreator: toLogger,
    retry: { retries: settings.retries ?? 5, initialRetryTime: 300, maxRetryTime: 5_000 },
  });
}

/**
 * murmur2 as Kafka's Java client computes it for keyed records (`Utils.murmur2`), in 32-bit integer arithmetic.
 * kafkajs's DefaultPartitioner computes the same with an emulated 64-bit Long, at several times the CPU.
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  const whole = length & ~3;
  let h = 0x9747b28c ^ length;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The one to three trailing bytes, as the Java switch with its fall-throughs.
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2]! << 16;
    if (tail >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}

/** The partition Kafka's default partitioner gives a key: positive murmur2 of its UTF-8 bytes, modulo the count. */
export function partitionForKey(key: string | Buffer, partitions: number): number {
  // kafkajs writes a key that is not a Buffer as String(key); hash the same bytes.
  const bytes = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  return (murmur2(bytes) & 0x7fffffff) % partitions;
}

/**
 * Kafka's default partitioning: an explicit partition wins, a key is hashed as the Java client does (so a
 * user's events land where any Kafka client would put them), and records without a key go round-robin
 * (kafkajs's DefaultPartitioner, which this equals and replaces).
 */
export const keyPartitioner: ICustomPartitioner = () => {
  const unkeyed = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    if (message.key !== undefined && message.key !== null) {
      return partitionForKey(message.key, partitionMetadata.length);
    }
    return unkeyed(args);
  };
};

/** The producer every sender uses: keyed records partitioned as Kafka's default partitioner does. */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({ createPartitioner: keyPartitioner });
}
