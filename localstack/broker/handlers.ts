/**
 * One function per Kafka API: parse the request body of the given version, act, encode the response body.
 * Field lists follow the Kafka protocol guide's request/response schemas; `v >= n` marks fields added in
 * version n. Only non-flexible versions are implemented and advertised (see SUPPORTED_VERSIONS).
 */
import type { GroupCoordinator } from './groups.ts';
import { RecordsError } from './batch.ts';
import { StorageError, TopicStore, type PartitionLog } from './log.ts';
import { ApiKey, ErrorCode, errorName, Reader, Writer } from './protocol.ts';

/** [min, max] version per API key: what ApiVersions advertises and what the broker accepts. */
export const SUPPORTED_VERSIONS: ReadonlyMap<number, readonly [number, number]> = new Map([
  // Produce from v0, as Kafka brokers before 4.0 advertise it: librdkafka compresses with gzip, snappy or
  // lz4 only for a broker that lists Produce v0, and otherwise sends those batches uncompressed. Requests
  // v0-v2 parse, but their batches are refused (see produce).
  [ApiKey.Produce, [0, 7]],
  [ApiKey.Fetch, [4, 11]],
  [ApiKey.ListOffsets, [1, 5]],
  [ApiKey.Metadata, [1, 8]],
  [ApiKey.OffsetCommit, [2, 7]],
  [ApiKey.OffsetFetch, [1, 5]],
  [ApiKey.FindCoordinator, [0, 2]],
  [ApiKey.JoinGroup, [0, 5]],
  [ApiKey.Heartbeat, [0, 3]],
  [ApiKey.LeaveGroup, [0, 3]],
  [ApiKey.SyncGroup, [0, 3]],
  [ApiKey.ApiVersions, [0, 2]],
  [ApiKey.CreateTopics, [0, 4]],
  [ApiKey.CreatePartitions, [0, 1]],
]);

export const NODE_ID = 0;
const CLUSTER_ID = 'mds-local-broker';
const NO_AUTHORIZED_OPERATIONS = -2147483648;
const LATEST = -1;
const EARLIEST = -2;

export interface BrokerContext {
  readonly host: string;
  readonly port: number;
  readonly topics: TopicStore;
  readonly groups: GroupCoordinator;
  readonly defaultPartitions: number;
  readonly autoCreateTopics: boolean;
  /** Aborted when the broker shuts down, so long polls end at once. */
  readonly closing: AbortSignal;
  readonly log: (line: string) => void;
}

/** A handler returns the response body, or null when the request gets no response (Produce with acks=0). */
export type Handler = (
  r: Reader,
  v: number,
  ctx: BrokerContext,
  clientId: string,
) => Promise<Writer | null> | Writer | null;

function partitionOf(ctx: BrokerContext, topic: string, partition: number): PartitionLog | undefined {
  return ctx.topics.get(topic)?.partitions[partition];
}

/** ApiVersions body; also used for the KIP-511 answer to versions above ours (v0 layout, error 35). */
export function apiVersionsBody(v: number, errorCode: number): Writer {
  const w = new Writer().int16(errorCode);
  w.array([...SUPPORTED_VERSIONS], (w, [key, [min, max]]) => w.int16(key).int16(min).int16(max));
  if (v >= 1) w.int32(0);
  return w;
}

async function produce(r: Reader, v: number, ctx: BrokerContext): Promise<Writer | null> {
  if (v >= 3) r.nullableString(); // transactional_id: transactions are not supported, plain batches are accepted
  const acks = r.int16();
  r.int32(); // timeout_ms: writes finish (or fail) well within any client timeout
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => ({ index: r.int32(), records: r.nullableBytes() })),
  }));
  const results = await Promise.all(
    topics.map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(
        t.partitions.map(async (p) => {
          if (acks !== 0 && acks !== 1 && acks !== -1) {
            return { index: p.index, error: ErrorCode.INVALID_REQUIRED_ACKS, base: -1 };
          }
          const log = partitionOf(ctx, t.name, p.index);
          if (!log) return { index: p.index, error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, base: -1 };
          if (!p.records) return { index: p.index, error: ErrorCode.CORRUPT_MESSAGE, base: -1 };
          if (v < 3) {
            // Produce v0-v2 carry message sets of magic 0 or 1, which this broker does not store; Kafka refuses
            // magic 2 batches in them (INVALID_RECORD).
            const magic = p.records.length > 16 ? p.records.readInt8(16) : -1;
            const error = magic === 2 ? ErrorCode.INVALID_RECORD : ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT;
            ctx.log(
              `broker: refused a batch for ${t.name}-${p.index}: ${errorName(error)}: Produce v${v} with magic ` +
                `${magic}; only record batches of magic 2 in Produce v3 or later are stored`,
            );
            return { index: p.index, error, base: -1 };
          }
          try {
            const base = await log.append(p.records, { allowZstd: v >= 7 });
            return { index: p.index, error: ErrorCode.NONE, base };
          } catch (err) {
            // Produce v3-v7 responses have no error message: the reason goes to the broker log.
            if (err instanceof RecordsError) {
              ctx.log(
                `broker: refused a batch for ${t.name}-${p.index}: ${errorName(err.code)}: ${err.reason}`,
              );
              return { index: p.index, error: err.code, base: -1 };
            }
            if (err instanceof StorageError) {
              ctx.log(
                `broker: produce to ${t.name}-${p.index} failed: ${errorName(err.code)}: ${err.message}`,
              );
              return { index: p.index, error: err.code, base: -1 };
            }
            throw err;
          }
        }),
      ),
    })),
  );
  if (acks === 0) return null;
  const w = new Writer();
  w.array(results, (w, t) =>
    w.string(t.name).array(t.partitions, (w, p) => {
      w.int32(p.index).int16(p.error).int64(p.base);
      if (v >= 2) w.int64(-1); // log_append_time: CreateTime topics
      if (v >= 5) w.int64(0);
    }),
  );
  return v >= 1 ? w.int32(0) : w;
}

interface FetchPartition {
  readonly index: number;
  readonly offset: number;
  readonly maxBytes: number;
}

async function fetch(r: Reader, v: number, ctx: BrokerContext): Promise<Writer> {
  r.int32(); // replica_id
  const maxWaitMs = r.int32();
  const minBytes = r.int32();
  const maxBytes = r.int32();
  r.int8(); // isolation_level: no transactions, so read-committed and read-uncommitted see the same data
  if (v >= 7) {
    r.int32(); // session_id: fetch sessions (KIP-227) are not kept; every fetch is a full fetch
    r.int32(); // session_epoch
  }
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r): FetchPartition => {
      const index = r.int32();
      if (v >= 9) r.int32(); // current_leader_epoch
      const offset = r.int64();
      if (v >= 5) r.int64(); // log_start_offset (of a follower)
      return { index, offset, maxBytes: r.int32() };
    }),
  }));
  // forgotten_topics_data (v7+) and rack_id (v11+) only matter to fetch sessions and replicas.

  const deadline = Date.now() + Math.max(0, maxWaitMs);
  for (;;) {
    const logs: PartitionLog[] = [];
    let total = 0;
    const results = [];
    for (const t of topics) {
      const parts = [];
      for (const p of t.partitions) {
        const log = partitionOf(ctx, t.name, p.index);
        if (!log) {
          parts.push({ index: p.index, error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, hw: -1, records: null });
          continue;
        }
        logs.push(log);
        try {
          const records = await log.read(p.offset, Math.min(p.maxBytes, maxBytes - total), total === 0);
          total += records?.length ?? 0;
          parts.push({ index: p.index, error: ErrorCode.NONE, hw: log.highWatermark, records });
        } catch (err) {
          if (!(err instanceof StorageError)) throw err;
          parts.push({ index: p.index, error: err.code, hw: log.highWatermark, records: null });
        }
      }
      results.push({ name: t.name, parts });
    }
    const wait = deadline - Date.now();
    if (total >= minBytes || wait <= 0 || logs.length === 0 || ctx.closing.aborted) {
      return encodeFetch(v, results);
    }
    await waitForAny(logs, wait, ctx.closing);
  }
}

/** Resolves when any of the logs gets data, the time is up, or the broker closes. */
function waitForAny(logs: readonly PartitionLog[], ms: number, closing: AbortSignal): Promise<void> {
  const waits = logs.map((l) => l.waitForData());
  let timer: NodeJS.Timeout | undefined;
  let onClose: (() => void) | undefined;
  const done = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    onClose = resolve;
    closing.addEventListener('abort', onClose, { once: true });
  });
  return Promise.race([done, ...waits.map((w) => w.promise)]).finally(() => {
    clearTimeout(timer);
    if (onClose) closing.removeEventListener('abort', onClose);
    for (const w of waits) w.cancel();
  });
}

function encodeFetch(
  v: number,
  results: { name: string; parts: { index: number; error: number; hw: number; records: Buffer | null }[] }[],
): Writer {
  const w = new Writer().int32(0);
  if (v >= 7) w.int16(ErrorCode.NONE).int32(0);
  w.array(results, (w, t) =>
    w.string(t.name).array(t.parts, (w, p) => {
      w.int32(p.index).int16(p.error).int64(p.hw).int64(p.hw); // last_stable_offset = hw: no transactions
      if (v >= 5) w.int64(p.hw < 0 ? -1 : 0);
      w.int32(-1); // aborted_transactions: none
      if (v >= 11) w.int32(-1); // preferred_read_replica: this broker
      if (p.records) w.bytesList([p.records], p.records.length);
      else w.int32(0);
    }),
  );
  return w;
}

function listOffsets(r: Reader, v: number, ctx: BrokerContext): Writer {
  r.int32(); // replica_id
  if (v >= 2) r.int8(); // isolation_level
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => {
      const index = r.int32();
      if (v >= 4) r.int32(); // current_leader_epoch
      return { index, timestamp: r.int64() };
    }),
  }));
  const w = new Writer();
  if (v >= 2) w.int32(0);
  w.array(topics, (w, t) =>
    w.string(t.name).array(t.partitions, (w, p) => {
      const log = partitionOf(ctx, t.name, p.index);
      let error: number = ErrorCode.NONE;
      let offset = -1;
      let timestamp = -1;
      if (!log) error = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (p.timestamp === LATEST) offset = log.highWatermark;
      else if (p.timestamp === EARLIEST) offset = 0;
      else {
        // No record at or after the time: offset -1, as Kafka answers.
        offset = log.offsetForTime(p.timestamp) ?? -1;
        if (offset >= 0) timestamp = p.timestamp;
      }
      w.int32(p.index).int16(error).int64(timestamp).int64(offset);
      if (v >= 4) w.int32(-1);
    }),
  );
  return w;
}

async function metadata(r: Reader, v: number, ctx: BrokerContext): Promise<Writer> {
  const requested = r.nullableArray((r) => r.string());
  const allowAutoCreate = v >= 4 ? r.bool() : true;
  const names = requested ?? ctx.topics.names();
  const topics = await Promise.all(
    names.map(async (name) => {
      let topic = ctx.topics.get(name);
      if (!topic && !TopicStore.validName(name))
        return { name, error: ErrorCode.INVALID_TOPIC_EXCEPTION, count: 0 };
      if (!topic && ctx.autoCreateTopics && allowAutoCreate) {
        topic = await ctx.topics.create(name, ctx.defaultPartitions);
      }
      if (!topic) return { name, error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, count: 0 };
      return { name, error: ErrorCode.NONE, count: topic.partitions.length };
    }),
  );
  const w = new Writer();
  if (v >= 3) w.int32(0);
  w.array([NODE_ID], (w, id) => w.int32(id).string(ctx.host).int32(ctx.port).nullableString(null));
  if (v >= 2) w.nullableString(CLUSTER_ID);
  w.int32(NODE_ID);
  w.array(topics, (w, t) => {
    w.int16(t.error).string(t.name).bool(false);
    w.array(
      Array.from({ length: t.count }, (_, i) => i),
      (w, p) => {
        w.int16(ErrorCode.NONE).int32(p).int32(NODE_ID);
        if (v >= 7) w.int32(-1); // leader_epoch unknown: clients skip leader-epoch validation
        w.array([NODE_ID], (w, id) => w.int32(id));
        w.array([NODE_ID], (w, id) => w.int32(id));
        if (v >= 5) w.int32(0);
      },
    );
    if (v >= 8) w.int32(NO_AUTHORIZED_OPERATIONS);
  });
  if (v >= 8) w.int32(NO_AUTHORIZED_OPERATIONS);
  return w;
}

function createTopicError(ctx: BrokerContext, name: string, partitions: number, replication: number): number {
  if (!TopicStore.validName(name)) return ErrorCode.INVALID_TOPIC_EXCEPTION;
  if (ctx.topics.get(name)) return ErrorCode.TOPIC_ALREADY_EXISTS;
  if (partitions === 0 || partitions < -1) return ErrorCode.INVALID_PARTITIONS;
  if (replication !== 1 && replication !== -1) return ErrorCode.INVALID_REPLICATION_FACTOR;
  return ErrorCode.NONE;
}

async function createTopics(r: Reader, v: number, ctx: BrokerContext): Promise<Writer> {
  const topics = r.array((r) => {
    const t = { name: r.string(), partitions: r.int32(), replication: r.int16() };
    r.array((r) => [r.int32(), r.array((r) => r.int32())]); // manual assignments: there is one broker
    r.array((r) => [r.string(), r.nullableString()]); // configs: retention and friends do not apply here
    return t;
  });
  r.int32(); // timeout_ms
  const validateOnly = v >= 1 ? r.bool() : false;
  const results = await Promise.all(
    topics.map(async (t) => {
      const error = createTopicError(ctx, t.name, t.partitions, t.replication);
      if (error === ErrorCode.NONE && !validateOnly) {
        await ctx.topics.create(t.name, t.partitions === -1 ? ctx.defaultPartitions : t.partitions);
      }
      return { name: t.name, error };
    }),
  );
  const w = new Writer();
  if (v >= 2) w.int32(0);
  w.array(results, (w, t) => {
    w.string(t.name).int16(t.error);
    if (v >= 1) w.nullableString(null);
  });
  return w;
}

async function createPartitions(r: Reader, _v: number, ctx: BrokerContext): Promise<Writer> {
  const topics = r.array((r) => {
    const t = { name: r.string(), count: r.int32() };
    r.nullableArray((r) => r.array((r) => r.int32())); // manual assignments: there is one broker
    return t;
  });
  r.int32(); // timeout_ms
  const validateOnly = r.bool();
  const results = await Promise.all(
    topics.map(async (t) => {
      const current = ctx.topics.get(t.name)?.partitions.length;
      if (current === undefined) return { name: t.name, error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      if (t.count <= current) return { name: t.name, error: ErrorCode.INVALID_PARTITIONS };
      if (!validateOnly) await ctx.topics.grow(t.name, t.count);
      return { name: t.name, error: ErrorCode.NONE };
    }),
  );
  return new Writer().int32(0).array(results, (w, t) => w.string(t.name).int16(t.error).nullableString(null));
}

function findCoordinator(r: Reader, v: number, ctx: BrokerContext): Writer {
  r.string(); // key: this broker coordinates every group
  if (v >= 1) r.int8(); // key_type
  const w = new Writer();
  if (v >= 1) w.int32(0);
  w.int16(ErrorCode.NONE);
  if (v >= 1) w.nullableString(null);
  return w.int32(NODE_ID).string(ctx.host).int32(ctx.port);
}

async function joinGroup(r: Reader, v: number, ctx: BrokerContext, clientId: string): Promise<Writer> {
  const groupId = r.string();
  const sessionTimeoutMs = r.int32();
  const rebalanceTimeoutMs = v >= 1 ? r.int32() : sessionTimeoutMs;
  const memberId = r.string();
  const groupInstanceId = v >= 5 ? r.nullableString() : null;
  const protocolType = r.string();
  const protocols = r.array((r) => ({ name: r.string(), metadata: Buffer.from(r.bytes()) }));
  const result =
    groupId === ''
      ? {
          errorCode: ErrorCode.INVALID_GROUP_ID,
          generationId: -1,
          protocolName: '',
          leader: '',
          memberId,
          members: [],
        }
      : sessionTimeoutMs <= 0
        ? {
            errorCode: ErrorCode.INVALID_SESSION_TIMEOUT,
            generationId: -1,
            protocolName: '',
            leader: '',
            memberId,
            members: [],
          }
        : await ctx.groups.group(groupId).join({
            memberId,
            groupInstanceId,
            clientId,
            sessionTimeoutMs,
            rebalanceTimeoutMs,
            protocolType,
            protocols,
          });
  const w = new Writer();
  if (v >= 2) w.int32(0);
  w.int16(result.errorCode).int32(result.generationId).string(result.protocolName).string(result.leader);
  w.string(result.memberId);
  w.array(result.members, (w, m) => {
    w.string(m.memberId);
    if (v >= 5) w.nullableString(m.groupInstanceId);
    w.bytes(m.metadata);
  });
  return w;
}

async function syncGroup(r: Reader, v: number, ctx: BrokerContext): Promise<Writer> {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (v >= 3) r.nullableString(); // group_instance_id
  const assignments = new Map(r.array((r) => [r.string(), Buffer.from(r.bytes())] as const));
  const group = ctx.groups.existing(groupId);
  const result = group
    ? await group.sync(generationId, memberId, assignments)
    : { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, assignment: Buffer.alloc(0) };
  const w = new Writer();
  if (v >= 1) w.int32(0);
  return w.int16(result.errorCode).bytes(result.assignment);
}

function heartbeat(r: Reader, v: number, ctx: BrokerContext): Writer {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  const error =
    ctx.groups.existing(groupId)?.heartbeat(generationId, memberId) ?? ErrorCode.UNKNOWN_MEMBER_ID;
  const w = new Writer();
  if (v >= 1) w.int32(0);
  return w.int16(error);
}

function leaveGroup(r: Reader, v: number, ctx: BrokerContext): Writer {
  const groupId = r.string();
  const group = ctx.groups.existing(groupId);
  const leave = (memberId: string): number => group?.leave(memberId) ?? ErrorCode.UNKNOWN_MEMBER_ID;
  const w = new Writer();
  if (v >= 1) w.int32(0);
  if (v < 3) return w.int16(leave(r.string()));
  const members = r.array((r) => ({ memberId: r.string(), groupInstanceId: r.nullableString() }));
  w.int16(ErrorCode.NONE);
  return w.array(members, (w, m) =>
    w.string(m.memberId).nullableString(m.groupInstanceId).int16(leave(m.memberId)),
  );
}

async function offsetCommit(r: Reader, v: number, ctx: BrokerContext): Promise<Writer> {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (v >= 7) r.nullableString(); // group_instance_id
  if (v >= 2 && v <= 4) r.int64(); // retention_time_ms: offsets are kept until the data directory goes
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => {
      const index = r.int32();
      const offset = r.int64();
      if (v >= 6) r.int32(); // committed_leader_epoch
      return { index, offset, metadata: r.nullableString() };
    }),
  }));
  const group = ctx.groups.group(groupId);
  const groupError = groupId === '' ? ErrorCode.INVALID_GROUP_ID : group.commitError(generationId, memberId);
  const results = topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p): { index: number; error: number } => {
      let error: number = groupError;
      if (error === ErrorCode.NONE && !partitionOf(ctx, t.name, p.index))
        error = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      if (error === ErrorCode.NONE) group.commit(t.name, p.index, { offset: p.offset, metadata: p.metadata });
      return { index: p.index, error };
    }),
  }));
  // The answer waits for the offsets file: an acknowledged commit survives a broker crash. A failed write (a
  // full disk) is answered NOT_COORDINATOR, as Kafka's group coordinator maps a storage error on its offsets
  // log; the client retries the commit.
  if (groupError === ErrorCode.NONE) {
    try {
      await group.persist();
    } catch (err) {
      ctx.log(
        `broker: cannot write the offsets of group ${groupId} (NOT_COORDINATOR): ` +
          `${err instanceof Error ? err.message : String(err)}`,
      );
      for (const t of results) {
        for (const p of t.partitions) if (p.error === ErrorCode.NONE) p.error = ErrorCode.NOT_COORDINATOR;
      }
    }
  }
  const w = new Writer();
  if (v >= 3) w.int32(0);
  return w.array(results, (w, t) =>
    w.string(t.name).array(t.partitions, (w, p) => w.int32(p.index).int16(p.error)),
  );
}

function offsetFetch(r: Reader, v: number, ctx: BrokerContext): Writer {
  const groupId = r.string();
  const requested = r.nullableArray((r) => ({ name: r.string(), partitions: r.array((r) => r.int32()) }));
  const offsets = ctx.groups.existing(groupId)?.offsets;
  const topics =
    requested ??
    [...(offsets ?? new Map())].map(([name, parts]) => ({ name, partitions: [...parts.keys()] }));
  const w = new Writer();
  if (v >= 3) w.int32(0);
  w.array(topics, (w, t) =>
    w.string(t.name).array(t.partitions, (w, p) => {
      const c = offsets?.get(t.name)?.get(p);
      w.int32(p).int64(c?.offset ?? -1);
      if (v >= 5) w.int32(-1);
      w.nullableString(c?.metadata ?? '').int16(ErrorCode.NONE);
    }),
  );
  if (v >= 2) w.int16(ErrorCode.NONE);
  return w;
}

export const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [ApiKey.Produce, produce],
  [ApiKey.Fetch, fetch],
  [ApiKey.ListOffsets, listOffsets],
  [ApiKey.Metadata, metadata],
  [ApiKey.OffsetCommit, offsetCommit],
  [ApiKey.OffsetFetch, offsetFetch],
  [ApiKey.FindCoordinator, findCoordinator],
  [ApiKey.JoinGroup, joinGroup],
  [ApiKey.Heartbeat, heartbeat],
  [ApiKey.LeaveGroup, leaveGroup],
  [ApiKey.SyncGroup, syncGroup],
  [ApiKey.ApiVersions, (_r, v) => apiVersionsBody(v, ErrorCode.NONE)],
  [ApiKey.CreateTopics, createTopics],
  [ApiKey.CreatePartitions, createPartitions],
]);
