/**
 * The local stand-in for a Lambda event source mapping on a Kafka topic: it consumes the topic as a
 * consumer group and invokes the consumer handler with the same event shape Lambda sends ("aws:kafka").
 *
 * Rules it shares with the AWS mapping:
 * - batching: an invocation carries up to `batchSize` records, or fewer once `batchingWindowMs` has passed;
 * - starting position TRIM_HORIZON or LATEST for a group without committed offsets;
 * - offsets are committed only after the handler succeeds (at-least-once);
 * - a failed invocation is retried with exponential backoff; after `maxAttempts` the batch goes to the
 *   on-failure destination and the mapping moves on.
 *
 * Every codec a Kafka broker accepts is decoded (codecs.ts). A batch that still cannot be decoded goes to
 * the on-failure destination as it is found, with its offsets and the error (condition UndecodableBatch),
 * and the partition goes on after it; the records before it are invoked first, so order is kept.
 *
 * Each invocation holds records of ONE partition, and batches of a partition are cut at `batchSize`
 * multiples from the last committed offset. So when the records are already in the topic, a restarted
 * mapping (after a crash or a stop) cuts the same batches as an uninterrupted one, and the consumer
 * writes the same Bronze objects. Partitions are handled concurrently, each strictly in order.
 */
import type { Admin, KafkaMessage } from 'kafkajs';
import { undecodableBatchOf, type UndecodableBatch } from './codecs.ts';
import type { FailedBatch } from './on-failure.ts';
import type { MskEvent, MskRecord, MskRecordHeader } from '../../lambdas/consumer/msk-event.ts';
import { MdsError, TransientError, UsageError, errorMessage } from '../../lambdas/core/errors.ts';
import { createKafka } from '../../lambdas/core/kafka.ts';

export type { MskEvent } from '../../lambdas/consumer/msk-event.ts';

export interface EventSourceMappingOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  /** Max records per invocation. @default 10000 */
  readonly batchSize?: number;
  /** Max time to gather records before invoking. @default 1000 */
  readonly batchingWindowMs?: number;
  /** Where a group without committed offsets starts. @default 'TRIM_HORIZON' */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Invocations of one batch before it goes to `onFailure`. @default 3 */
  readonly maxAttempts?: number;
  /** Backoff before retry n is retryBaseMs * 2^(n-1). @default 500 */
  readonly retryBaseMs?: number;
  /**
   * The on-failure destination (e.g. write to S3 esm-failures/), given the event, the error and the batch's
   * position and condition. The batch is committed after it returns.
   */
  readonly onFailure: (event: MskEvent, error: unknown, batch: FailedBatch) => Promise<void>;
  readonly handler: (event: MskEvent) => Promise<unknown>;
  /** Diagnostics (retries, failures). @default silent */
  readonly log?: (message: string) => void;
}

export interface MappingStats {
  /** Batches done: handled, or sent to the on-failure destination. */
  batches: number;
  /** Records in those batches. */
  records: number;
  /** Failed handler invocations (every attempt counts). */
  failures: number;
  /** Batches sent to the on-failure destination. */
  sentToOnFailure: number;
}

export interface RunningMapping {
  readonly stats: () => MappingStats;
  /** Resolves when every partition's committed offset has reached the end offset it had at the call. */
  drained(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export const ESM_DEFAULTS = {
  batchSize: 10_000,
  batchingWindowMs: 1_000,
  startingPosition: 'TRIM_HORIZON',
  maxAttempts: 3,
  retryBaseMs: 500,
} as const;

/** The ARN the emulator puts in events: the shape of an MSK cluster ARN, marked local. */
export const LOCAL_CLUSTER_ARN =
  'arn:aws:kafka:us-east-1:000000000000:cluster/local-emulator/00000000-0000-0000-0000-000000000000-1';

/** Thrown inside a partition's queue when the mapping stops: the batch is left uncommitted. */
class Stopped extends MdsError {}

interface PartitionState {
  pending: MskRecord[];
  timer: NodeJS.Timeout | undefined;
  /** A fetched batch of the partition is being handled: its window must not cut the records short. */
  busy: boolean;
  /** Fetches started when the partition last received records. */
  armedAtFetch: number;
  /** The partition's invocations, strictly one after the other. */
  queue: Promise<void>;
}

export async function startEventSourceMapping(options: EventSourceMappingOptions): Promise<RunningMapping> {
  const batchSize = options.batchSize ?? ESM_DEFAULTS.batchSize;
  const windowMs = options.batchingWindowMs ?? ESM_DEFAULTS.batchingWindowMs;
  const maxAttempts = options.maxAttempts ?? ESM_DEFAULTS.maxAttempts;
  const retryBaseMs = options.retryBaseMs ?? ESM_DEFAULTS.retryBaseMs;
  const startingPosition = options.startingPosition ?? ESM_DEFAULTS.startingPosition;
  const log = options.log ?? (() => {});
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new UsageError(`batch size ${batchSize} is out of range: use 1 to 10000 records`);
  }
  if (!(windowMs >= 0 && windowMs <= 300_000)) {
    throw new UsageError(`batching window ${windowMs} ms is out of range: use 0 to 300000 ms`);
  }
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new UsageError(`max attempts ${maxAttempts} is out of range: use 1 or more`);
  }
  if (options.brokers.length === 0) throw new UsageError('no Kafka brokers given');

  /** The consumer's last error or crash (restarted or not), named when drained() gives up. */
  let lastProblem: string | undefined;
  const kafka = createKafka({
    brokers: options.brokers,
    clientId: 'mds-event-source-mapping',
    logger: {
      warn: (m) => log(m),
      error: (m) => {
        lastProblem = m;
        log(m);
      },
    },
  });
  const admin = kafka.admin();
  // A short long-poll: stop() waits for the fetch in flight, and new records still arrive at once.
  const consumer = kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 500,
  });
  const stats: MappingStats = { batches: 0, records: 0, failures: 0, sentToOnFailure: 0 };
  const partitions = new Map<number, PartitionState>();
  let stopping = false;
  let crashed: unknown;
  let pinned = false;
  let fetchStarts = 0;

  const stateOf = (partition: number): PartitionState => {
    let s = partitions.get(partition);
    if (!s) {
      s = { pending: [], timer: undefined, busy: false, armedAtFetch: 0, queue: Promise.resolve() };
      partitions.set(partition, s);
    }
    return s;
  };

  const event = (records: readonly MskRecord[]): MskEvent => ({
    eventSource: 'aws:kafka',
    eventSourceArn: LOCAL_CLUSTER_ARN,
    bootstrapServers: options.brokers.join(','),
    records: records[0] ? { [`${options.topic}-${records[0].partition}`]: records } : {},
  });

  const sleep = async (ms: number): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (stopping) throw new Stopped('stopped');
  };

  /** Invokes the handler with retries, then commits; or sends the batch to the on-failure destination. */
  const invoke = async (records: readonly MskRecord[]): Promise<void> => {
    if (stopping) throw new Stopped('stopped');
    const e = event(records);
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const what = `${options.topic}-${first.partition} offsets ${first.offset}..${last.offset}`;
    let lastError: unknown;
    let handled = false;
    const failed: FailedBatch = {
      condition: 'RetryAttemptsExhausted',
      topicPartition: `${options.topic}-${first.partition}`,
      firstOffset: first.offset,
      lastOffset: last.offset,
      records: records.length,
    };
    for (let attempt = 1; attempt <= maxAttempts && !handled; attempt++) {
      try {
        await options.handler(e);
        handled = true;
      } catch (err) {
        lastError = err;
        stats.failures++;
        log(`batch ${what}: attempt ${attempt} of ${maxAttempts} failed: ${errorMessage(err)}`);
        if (attempt < maxAttempts) await sleep(retryBaseMs * 2 ** (attempt - 1));
      }
    }
    if (!handled) {
      await sendToOnFailure(e, lastError, failed, what);
      log(`batch ${what}: sent to the on-failure destination after ${maxAttempts} attempts`);
    }
    await consumer.commitOffsets([
      { topic: options.topic, partition: first.partition, offset: String(last.offset + 1) },
    ]);
    stats.batches++;
    stats.records += records.length;
  };

  /** Like the AWS mapping, do not skip a batch before the destination has it; keep trying the destination. */
  const sendToOnFailure = async (e: MskEvent, error: unknown, failed: FailedBatch, what: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await options.onFailure(e, error, failed);
        break;
      } catch (err) {
        log(`batch ${what}: on-failure destination failed (attempt ${attempt}): ${errorMessage(err)}`);
        await sleep(Math.min(retryBaseMs * 2 ** (attempt - 1), 30_000));
      }
    }
    stats.sentToOnFailure++;
  };

  /** A batch the consumer could not decode: no invocation can help it; it goes to the destination at once. */
  const sendUndecodable = async (partition: number, bad: UndecodableBatch): Promise<void> => {
    if (stopping) throw new Stopped('stopped');
    const firstOffset = Number(bad.firstOffset);
    const lastOffset = Number(bad.lastOffset);
    const topicPartition = `${options.topic}-${partition}`;
    const what = `${topicPartition} offsets ${firstOffset}..${lastOffset}`;
    const error = new MdsError(`the records of ${what} cannot be decoded: ${errorMessage(bad.error)}`, {
      cause: bad.error,
    });
    log(`batch ${what}: ${error.message}`);
    const failed: FailedBatch = {
      condition: 'UndecodableBatch',
      topicPartition,
      firstOffset,
      lastOffset,
      records: lastOffset - firstOffset + 1,
    };
    const e: MskEvent = { ...event([]), records: { [topicPartition]: [] } };
    await sendToOnFailure(e, error, failed, what);
    log(`batch ${what}: sent to the on-failure destination undecoded`);
    await consumer.commitOffsets([{ topic: options.topic, partition, offset: String(lastOffset + 1) }]);
    stats.batches++;
    stats.records += failed.records;
  };

  const enqueue = (partition: number, work: MskRecord[] | UndecodableBatch): Promise<void> => {
    const s = stateOf(partition);
    const run = s.queue.then(() => (Array.isArray(work) ? invoke(work) : sendUndecodable(partition, work)));
    // A failed link is either a stop (the batch stays uncommitted and comes again on the next start) or a
    // commit refused after the handler succeeded (the next batch's commit covers it). The queue goes on.
    s.queue = run.catch((err: unknown) => {
      if (!(err instanceof Stopped)) log(`partition ${partition}: ${errorMessage(err)}`);
    });
    return s.queue;
  };

  /**
   * Arms the batching window of a partition's remainder (fewer than batchSize records). The remainder goes
   * out when the window has passed AND a whole fetch that started after those records arrived has been
   * handled without bringing more for the partition (kafkajs fetches one request at a time per broker, so
   * a second fetch start proves it). So a slow handler or a busy machine cannot cut a batch short while
   * the records behind it are still on their way, and batches stay cut at batchSize multiples.
   */
  const armWindow = (partition: number, restart: boolean): void => {
    const s = stateOf(partition);
    s.armedAtFetch = fetchStarts;
    if (s.pending.length === 0 || (s.timer && !restart)) return;
    if (s.timer) clearTimeout(s.timer);
    const fire = (): void => {
      s.timer = undefined;
      if (stopping || s.pending.length === 0) return;
      if (s.busy || fetchStarts < s.armedAtFetch + 2) {
        s.timer = setTimeout(fire, Math.min(windowMs, 50));
        return;
      }
      while (s.pending.length > 0) void enqueue(partition, s.pending.splice(0, batchSize));
    };
    s.timer = setTimeout(fire, windowMs);
  };

  const clearPending = (): void => {
    for (const s of partitions.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      s.pending = [];
    }
  };

  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(options.topic);
    const pinLatest =
      startingPosition === 'LATEST' && !(await hasCommits(admin, options.groupId, options.topic));
    await consumer.connect();
    consumer.on(consumer.events.GROUP_JOIN, () => {
      // After a rebalance kafkajs fetches from the committed offsets again, so records held back for the
      // batching window would arrive twice: drop them.
      clearPending();
      if (pinLatest && !pinned) {
        // LATEST for a new group: start at the end offsets seen at start and commit them at once, so a
        // restart resumes there instead of skipping what was produced in between.
        pinned = true;
        for (const e of ends)
          consumer.seek({ topic: options.topic, partition: e.partition, offset: e.offset });
        consumer
          .commitOffsets(
            ends.map((e) => ({ topic: options.topic, partition: e.partition, offset: e.offset })),
          )
          .catch((err: unknown) => log(`cannot commit the LATEST starting offsets: ${errorMessage(err)}`));
      }
    });
    consumer.on(consumer.events.FETCH_START, () => {
      fetchStarts++;
    });
    consumer.on(consumer.events.CRASH, (e) => {
      lastProblem = `crashed: ${errorMessage(e.payload.error)}`;
      log(`consumer crashed${e.payload.restart ? ', restarting' : ''}: ${errorMessage(e.payload.error)}`);
      if (!e.payload.restart) crashed = e.payload.error;
    });
    await consumer.subscribe({ topics: [options.topic], fromBeginning: !pinLatest });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: Math.max(1, ends.length),
      eachBatch: async ({ batch, isRunning, isStale }) => {
        if (stopping || !isRunning() || isStale()) return;
        const s = stateOf(batch.partition);
        s.busy = true;
        try {
          let flushed = false;
          for (const m of batch.messages) {
            const bad = undecodableBatchOf(m);
            if (!bad) {
              s.pending.push(toMskRecord(batch.topic, batch.partition, m));
              continue;
            }
            // The records before the undecodable batch are invoked first, then it goes to the destination.
            while (s.pending.length > 0 && !stopping) {
              await enqueue(batch.partition, s.pending.splice(0, batchSize));
            }
            await enqueue(batch.partition, bad);
            flushed = true;
          }
          while (s.pending.length >= batchSize && !stopping) {
            // Awaited: the fetch loop waits for the handler, as a mapping's poller does.
            await enqueue(batch.partition, s.pending.splice(0, batchSize));
            flushed = true;
          }
          armWindow(batch.partition, flushed);
        } finally {
          s.busy = false;
        }
      },
    });
  } catch (err) {
    await Promise.allSettled([consumer.disconnect(), admin.disconnect()]);
    throw new TransientError(
      `cannot consume ${options.topic} from ${options.brokers.join(',')}: ${errorMessage(err)}`,
      { cause: err },
    );
  }

  return {
    stats: () => ({ ...stats }),
    async drained(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const targets = await admin.fetchTopicOffsets(options.topic);
      for (;;) {
        if (crashed)
          throw new TransientError(`the mapping stopped: ${errorMessage(crashed)}`, { cause: crashed });
        const [committed] = await admin.fetchOffsets({ groupId: options.groupId, topics: [options.topic] });
        const lagging = targets.filter((t) => {
          const c = Number(committed?.partitions.find((p) => p.partition === t.partition)?.offset ?? -1);
          return Number(t.high) > Number(t.low) && c < Number(t.high);
        });
        if (lagging.length === 0) return;
        if (Date.now() >= deadline) {
          const cause = lastProblem === undefined ? '' : `; the consumer last reported: ${lastProblem}`;
          throw new TransientError(
            `not drained after ${timeoutMs} ms: partitions ${lagging.map((t) => t.partition).join(', ')} of ` +
              `${options.topic} have uncommitted records${cause}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      clearPending();
      await Promise.all([...partitions.values()].map((s) => s.queue));
      await consumer.disconnect();
      await admin.disconnect();
    },
  };
}

async function hasCommits(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return committed?.partitions.some((p) => Number(p.offset) >= 0) ?? false;
}

function toMskRecord(topic: string, partition: number, m: KafkaMessage): MskRecord {
  // Built as one literal in the usual case (key and value, no headers): no spread of throw-away objects per
  // record, and every record of a batch has the same shape.
  const headers = m.headers ? headersOf(m.headers) : [];
  const offset = Number(m.offset);
  const timestamp = Number(m.timestamp);
  if (m.key && m.value) {
    return {
      topic,
      partition,
      offset,
      timestamp,
      timestampType: 'CREATE_TIME',
      key: m.key.toString('base64'),
      value: m.value.toString('base64'),
      headers,
    };
  }
  return {
    topic,
    partition,
    offset,
    timestamp,
    timestampType: 'CREATE_TIME',
    ...(m.key ? { key: m.key.toString('base64') } : {}),
    ...(m.value ? { value: m.value.toString('base64') } : {}),
    headers,
  };
}

function headersOf(all: NonNullable<KafkaMessage['headers']>): MskRecordHeader[] {
  const headers: MskRecordHeader[] = [];
  for (const name in all) {
    if (!Object.hasOwn(all, name)) continue;
    const value = all[name];
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined) headers.push({ [name]: [...(typeof v === 'string' ? Buffer.from(v) : v)] });
    }
  }
  return headers;
}
