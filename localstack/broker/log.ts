/**
 * Topic and partition storage. Each partition is one append-only file of record batches (magic v2) exactly
 * as producers sent them, except baseOffset, which the broker assigns; baseOffset sits outside the CRC, so
 * the batches stay valid. An in-memory index (batch base offset -> file position) is rebuilt by scanning
 * the file at start; a torn tail (a crash mid-write) is cut off there.
 */
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
} from 'node:fs';
import { open, rename, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { MdsError } from '../../lambdas/core/errors.ts';
import {
  BATCH_HEADER,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  validateBatches,
  type ValidationOptions,
} from './batch.ts';
import { ErrorCode } from './protocol.ts';

/** Kafka's legal topic names; they are also safe directory names. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export class StorageError extends MdsError {
  constructor(
    readonly code: number,
    message = `storage error ${code}`,
  ) {
    super(message);
  }
}

/**
 * A failed write or sync of a log file (a full disk, a read-only or vanished data directory) as the error a
 * Kafka broker answers for it: KAFKA_STORAGE_ERROR, with the system error as the message.
 */
export function storageFailure(file: string, err: unknown): StorageError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = err instanceof Error ? err.message : String(err);
  return new StorageError(
    ErrorCode.KAFKA_STORAGE_ERROR,
    `cannot write ${file}${code ? ` (${code})` : ''}: ${why}`,
  );
}

export class PartitionLog {
  /** Base offset and file position of every stored batch, in order. */
  private readonly bases: number[];
  private readonly positions: number[];
  /** Largest record timestamp up to and including each batch (non-decreasing, like Kafka's time index). */
  private readonly timeIndex: number[];
  /** Bytes and offsets visible to readers (written to the file). */
  private size: number;
  private next: number;
  private writes: Promise<void> = Promise.resolve();
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly file: string,
    private readonly fh: FileHandle,
    scanned: Scanned,
  ) {
    this.bases = scanned.bases;
    this.positions = scanned.positions;
    this.timeIndex = scanned.timeIndex;
    this.size = scanned.size;
    this.next = scanned.next;
  }

  static async open(file: string, log: (line: string) => void): Promise<PartitionLog> {
    const scanned = scanLog(file, log);
    return new PartitionLog(file, await open(file, 'r+'), scanned);
  }

  /** The high watermark: the offset the next record will get (all stored records are committed: one replica). */
  get highWatermark(): number {
    return this.next;
  }

  /**
   * Validates the batches of one produce request (batch.ts: a refused request throws RecordsError and
   * stores nothing), assigns their offsets and appends them with one write. Resolves with the first
   * assigned offset once the bytes are in the file. A failed write (ENOSPC, say) rejects with a
   * KAFKA_STORAGE_ERROR StorageError and leaves the log as it was, so later appends go on where it ends.
   */
  append(records: Buffer, options: ValidationOptions = { allowZstd: true }): Promise<number> {
    const batches = validateBatches(records, options);
    // Writes to one partition run one after another; offsets and the file position are taken when a write
    // starts, so a write that fails leaves no gap in offsets or in the file.
    const done = this.writes.then(async () => {
      const base = this.next;
      const pos = this.size;
      const entries: { base: number; pos: number; maxTimestamp: number }[] = [];
      let offset = base;
      let at = 0;
      for (const { length, lastOffsetDelta } of batches) {
        records.writeBigInt64BE(BigInt(offset), at);
        entries.push({
          base: offset,
          pos: pos + at,
          maxTimestamp: Number(records.readBigInt64BE(at + MAX_TIMESTAMP_OFFSET)),
        });
        offset += lastOffsetDelta + 1;
        at += length;
      }
      try {
        // A short write (the disk filling up mid-batch) goes on until the system reports why it stopped.
        for (let written = 0; written < records.length;) {
          const { bytesWritten } = await this.fh.write(
            records,
            written,
            records.length - written,
            pos + written,
          );
          if (bytesWritten === 0) throw new Error(`wrote ${written} of ${records.length} bytes`);
          written += bytesWritten;
        }
      } catch (err) {
        // Cut what part of the batch reached the file, so the next append (and a restart) finds a clean end.
        await this.fh.truncate(pos).catch(() => undefined);
        throw storageFailure(this.file, err);
      }
      for (const e of entries) {
        this.bases.push(e.base);
        this.positions.push(e.pos);
        this.timeIndex.push(Math.max(e.maxTimestamp, this.timeIndex.at(-1) ?? -1));
      }
      this.size = pos + records.length;
      this.next = offset;
      const woken = [...this.waiters];
      this.waiters.clear();
      for (const w of woken) w();
      return base;
    });
    this.writes = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  /**
   * Whole batches from the one holding `offset`, up to `maxBytes`; the first batch is returned even when it
   * is larger, when `atLeastOne` (so a consumer can always make progress, as in KIP-74).
   */
  async read(offset: number, maxBytes: number, atLeastOne: boolean): Promise<Buffer | null> {
    if (offset < 0 || offset > this.next) throw new StorageError(ErrorCode.OFFSET_OUT_OF_RANGE);
    if (offset === this.next || maxBytes <= 0) return null;
    const count = this.bases.length;
    const first = lastAtOrBelow(this.bases, offset, count);
    const start = this.positions[first]!;
    // The last batch boundary that keeps the read within maxBytes.
    let lo = first + 1;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.positions[mid]! - start <= maxBytes) lo = mid;
      else hi = mid - 1;
    }
    let endIndex = lo;
    const boundary = (i: number): number => (i >= count ? this.size : this.positions[i]!);
    if (boundary(endIndex) - start > maxBytes) {
      if (!atLeastOne) return null;
      endIndex = first + 1;
    }
    const length = boundary(endIndex) - start;
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.fh.read(buf, 0, length, start);
    return bytesRead === length ? buf : buf.subarray(0, bytesRead);
  }

  /**
   * The first offset of the first batch holding a record at or after `timestamp` (ListOffsets by time), or
   * null when there is none. Batch granularity: a consumer may see a few earlier records of that batch.
   */
  offsetForTime(timestamp: number): number | null {
    const count = this.timeIndex.length;
    if (count === 0 || this.timeIndex[count - 1]! < timestamp) return null;
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.timeIndex[mid]! >= timestamp) hi = mid;
      else lo = mid + 1;
    }
    return this.bases[lo]!;
  }

  /** Resolves on the next append, or never (the caller races it against its timer). */
  waitForData(): { promise: Promise<void>; cancel: () => void } {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => (wake = resolve));
    this.waiters.add(wake);
    return { promise, cancel: () => this.waiters.delete(wake) };
  }

  async close(): Promise<void> {
    await this.writes;
    await this.fh.sync();
    await this.fh.close();
  }
}

function lastAtOrBelow(sorted: readonly number[], value: number, count: number): number {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (sorted[mid]! <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Rebuilds the index of a log file and truncates a torn or corrupt tail. Runs once per partition at start. */
interface Scanned {
  bases: number[];
  positions: number[];
  timeIndex: number[];
  size: number;
  next: number;
}

function scanLog(file: string, log: (line: string) => void): Scanned {
  const fd = openSync(file, 'a+');
  try {
    const fileSize = fstatSync(fd).size;
    const bases: number[] = [];
    const positions: number[] = [];
    const timeIndex: number[] = [];
    const header = Buffer.alloc(BATCH_HEADER);
    let pos = 0;
    let next = 0;
    while (pos < fileSize) {
      if (readSync(fd, header, 0, BATCH_HEADER, pos) < BATCH_HEADER) break;
      const length = LOG_OVERHEAD + header.readInt32BE(LENGTH_OFFSET);
      const valid =
        length >= BATCH_HEADER &&
        pos + length <= fileSize &&
        header.readInt8(MAGIC_OFFSET) === 2 &&
        Number(header.readBigInt64BE(0)) === next;
      if (!valid) break;
      bases.push(next);
      positions.push(pos);
      timeIndex.push(Math.max(Number(header.readBigInt64BE(MAX_TIMESTAMP_OFFSET)), timeIndex.at(-1) ?? -1));
      next += header.readInt32BE(LAST_OFFSET_DELTA_OFFSET) + 1;
      pos += length;
    }
    if (pos < fileSize) {
      log(`broker: ${file}: cut a torn tail of ${fileSize - pos} bytes at offset ${next}`);
      ftruncateSync(fd, pos);
    }
    return { bases, positions, timeIndex, size: pos, next };
  } finally {
    closeSync(fd);
  }
}

export interface Topic {
  readonly name: string;
  readonly partitions: readonly PartitionLog[];
}

/** All topics under `<dataDir>/topics/<name>/`: meta.json (partition count) and `<partition>.log`. */
export class TopicStore {
  private readonly topics = new Map<string, Topic>();
  private readonly creating = new Map<string, Promise<Topic>>();

  private constructor(
    private readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

  static async open(dataDir: string, log: (line: string) => void): Promise<TopicStore> {
    const dir = path.join(dataDir, 'topics');
    mkdirSync(dir, { recursive: true });
    const store = new TopicStore(dir, log);
    for (const name of readdirSync(dir)) {
      if (!TOPIC_NAME.test(name)) continue;
      const metaFile = path.join(dir, name, 'meta.json');
      let partitions: number;
      try {
        partitions = (JSON.parse(readFileSync(metaFile, 'utf8')) as { partitions: number }).partitions;
      } catch {
        // A topic whose creation was interrupted before its meta file was renamed into place.
        continue;
      }
      store.topics.set(name, await store.openTopic(name, partitions));
    }
    return store;
  }

  static validName(name: string): boolean {
    return TOPIC_NAME.test(name) && name !== '.' && name !== '..';
  }

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  names(): string[] {
    return [...this.topics.keys()];
  }

  /** Creates a topic (meta file written last, atomically); an existing topic is returned unchanged. */
  async create(name: string, partitions: number): Promise<Topic> {
    const existing = this.topics.get(name) ?? this.creating.get(name);
    if (existing) return existing;
    const pending = (async () => {
      const topicDir = path.join(this.dir, name);
      mkdirSync(topicDir, { recursive: true });
      const topic = await this.openTopic(name, partitions);
      const meta = path.join(topicDir, 'meta.json');
      await writeFile(`${meta}.tmp`, JSON.stringify({ partitions }));
      await rename(`${meta}.tmp`, meta);
      this.topics.set(name, topic);
      this.log(`broker: created topic ${name} with ${partitions} partition(s)`);
      return topic;
    })();
    this.creating.set(name, pending);
    try {
      return await pending;
    } finally {
      this.creating.delete(name);
    }
  }

  /** Adds partitions to a topic (existing ones keep their data, as in Kafka); the meta file is replaced atomically. */
  async grow(name: string, partitions: number): Promise<Topic> {
    const topic = this.topics.get(name);
    if (!topic) throw new StorageError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    if (partitions <= topic.partitions.length) throw new StorageError(ErrorCode.INVALID_PARTITIONS);
    const added: PartitionLog[] = [];
    for (let p = topic.partitions.length; p < partitions; p++) {
      added.push(await PartitionLog.open(path.join(this.dir, name, `${p}.log`), this.log));
    }
    const meta = path.join(this.dir, name, 'meta.json');
    await writeFile(`${meta}.tmp`, JSON.stringify({ partitions }));
    await rename(`${meta}.tmp`, meta);
    const grown = { name, partitions: [...topic.partitions, ...added] };
    this.topics.set(name, grown);
    this.log(`broker: topic ${name} now has ${partitions} partition(s)`);
    return grown;
  }

  private async openTopic(name: string, partitions: number): Promise<Topic> {
    const logs: PartitionLog[] = [];
    for (let p = 0; p < partitions; p++) {
      logs.push(await PartitionLog.open(path.join(this.dir, name, `${p}.log`), this.log));
    }
    return { name, partitions: logs };
  }

  async close(): Promise<void> {
    await Promise.all([...this.topics.values()].flatMap((t) => t.partitions.map((p) => p.close())));
  }
}
