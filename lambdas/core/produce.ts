/**
 * Sends listening events to Kafka: keyed by user so one user's events stay in one partition and in order,
 * batched, gzip-compressed, acknowledged by all in-sync replicas. The Kafka record timestamp is the event's
 * send time. Used by the scheduled producer Lambda, the Spotify poller and import, `mds produce` and `mds local up`.
 */
import { CompressionTypes, type Message, type Producer } from 'kafkajs';
import { TransientError, errorMessage } from './errors.ts';

/** Size of the buffers the values are written into (a few per batch of 2,000 events of about 330 bytes). */
const ARENA_BYTES = 256 * 1024;

export interface ProduceResult {
  readonly sent: number;
  readonly seconds: number;
}

export interface ProduceOptions {
  /** Records per send request. @default 1000 */
  readonly batchSize?: number;
  /** Called after each acknowledged batch with the running total. */
  readonly onProgress?: (sent: number) => void;
}

export async function produceRecords(
  producer: Producer,
  topic: string,
  records: Iterable<{ key: string | null; value: string; sendTime: Date }>,
  options: ProduceOptions = {},
): Promise<ProduceResult> {
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be a positive integer`);
  const started = performance.now();
  let sent = 0;
  let batch: Message[] = [];
  // Each value is written as UTF-8 into a shared buffer as it arrives, and kafkajs gets a slice of it (the
  // same bytes kafkajs would encode from the string). The string then dies young instead of being held, and
  // promoted to the old generation, until its batch is acknowledged. A buffer is never written again once
  // full: the batches holding slices of it keep it.
  let arena = Buffer.allocUnsafe(0);
  let used = 0;
  const bytesOf = (value: string): Buffer => {
    // At most 3 UTF-8 bytes per UTF-16 code unit, so the write below is never cut short.
    if (arena.length - used < value.length * 3) {
      arena = Buffer.allocUnsafe(Math.max(ARENA_BYTES, value.length * 3));
      used = 0;
    }
    const start = used;
    used += arena.write(value, start);
    return arena.subarray(start, used);
  };
  let inFlight: Promise<void> | null = null;
  // One request in flight at a time, so a retried request can never overtake a later one and per-key order
  // holds; the next batch is built while the previous one travels. (One lane per partition was measured
  // too: it costs kafkajs more CPU per event and was slower unless the machine was saturated.)
  const flush = async (): Promise<void> => {
    const messages = batch;
    batch = [];
    if (inFlight) await inFlight;
    inFlight = producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages }).then(() => {
      sent += messages.length;
      options.onProgress?.(sent);
    });
    // Handled when awaited; this keeps a failure during the next batch's build from being "unhandled".
    inFlight.catch(() => undefined);
  };
  for (const r of records) {
    batch.push({ key: r.key, value: bytesOf(r.value), timestamp: String(r.sendTime.getTime()) });
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length) await flush();
  if (inFlight) await inFlight;
  return { sent, seconds: (performance.now() - started) / 1000 };
}

/**
 * Turns a kafkajs failure (after its retries with backoff) into an error that names the brokers and
 * says what to check.
 */
export function kafkaFailure(err: unknown, brokers: readonly string[], topic: string): TransientError {
  const where = brokers.join(',');
  const cause = errorMessage(err);
  const type =
    (err as { type?: unknown; cause?: { type?: unknown } }).type ??
    (err as { cause?: { type?: unknown } }).cause?.type;
  if (type === 'UNKNOWN_TOPIC_OR_PARTITION' || /does not host this topic-partition/i.test(cause)) {
    return new TransientError(
      `Kafka at ${where}: topic "${topic}" is missing (${cause}). Create it (the local broker creates topics on first use; ` +
        `on MSK it is created by the deployment) or check the topic name.`,
      { cause: err },
    );
  }
  return new TransientError(
    `Kafka at ${where} did not accept the records after retries (${cause}). Check that the broker is running ` +
      `(locally: mds broker start) and reachable at that address, and for MSK the TLS/IAM settings.`,
    { cause: err },
  );
}
