/**
 * Consumer groups with the classic protocol: members join (JoinGroup), the leader receives everyone's
 * subscription and hands out assignments (SyncGroup), members keep their session alive (Heartbeat) and
 * learn about a new rebalance through REBALANCE_IN_PROGRESS. Members that stop heartbeating are expired
 * after their session timeout; members that do not rejoin within the rebalance timeout are dropped.
 * Committed offsets live in one small JSON file per group, replaced atomically (write temp + rename).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from './protocol.ts';

type State = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable';

export interface JoinRequest {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly { name: string; metadata: Buffer }[];
}

export interface JoinResult {
  readonly errorCode: number;
  readonly generationId: number;
  readonly protocolName: string;
  readonly leader: string;
  readonly memberId: string;
  readonly members: readonly { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncResult {
  readonly errorCode: number;
  readonly assignment: Buffer;
}

interface Member {
  readonly id: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: readonly { name: string; metadata: Buffer }[];
  assignment: Buffer;
  awaitingJoin: ((r: JoinResult) => void) | null;
  awaitingSync: ((r: SyncResult) => void) | null;
  sessionTimer: NodeJS.Timeout | null;
}

export interface CommittedOffset {
  readonly offset: number;
  readonly metadata: string | null;
}

const EMPTY = Buffer.alloc(0);

function joinError(errorCode: number, memberId: string): JoinResult {
  return { errorCode, generationId: -1, protocolName: '', leader: '', memberId, members: [] };
}

class Group {
  private state: State = 'Empty';
  private generationId = 0;
  private protocolType: string | null = null;
  private protocolName = '';
  private leader = '';
  private readonly members = new Map<string, Member>();
  private rebalanceTimer: NodeJS.Timeout | null = null;
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();
  private nextWrite: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | null =
    null;
  private writing = false;

  constructor(
    readonly id: string,
    private readonly file: string,
    private readonly log: (line: string) => void,
  ) {}

  join(req: JoinRequest): Promise<JoinResult> {
    if (this.members.size > 0 && this.protocolType !== req.protocolType) {
      return Promise.resolve(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId));
    }
    let member: Member | undefined;
    if (req.memberId === '') {
      member = {
        id: `${req.clientId || 'member'}-${randomUUID()}`,
        groupInstanceId: req.groupInstanceId,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        protocols: req.protocols,
        assignment: EMPTY,
        awaitingJoin: null,
        awaitingSync: null,
        sessionTimer: null,
      };
      this.members.set(member.id, member);
    } else {
      member = this.members.get(req.memberId);
      if (!member) return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
      member.sessionTimeoutMs = req.sessionTimeoutMs;
      member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
      member.protocols = req.protocols;
    }
    this.protocolType = req.protocolType;
    const joining = member;
    return new Promise((resolve) => {
      joining.awaitingJoin?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, joining.id));
      joining.awaitingJoin = resolve;
      if (this.state !== 'PreparingRebalance') this.prepareRebalance(`member ${joining.id} joined`);
      this.tryCompleteJoin();
    });
  }

  sync(generationId: number, memberId: string, assignments: Map<string, Buffer>): Promise<SyncResult> {
    const member = this.members.get(memberId);
    if (!member) return Promise.resolve({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, assignment: EMPTY });
    if (generationId !== this.generationId) {
      return Promise.resolve({ errorCode: ErrorCode.ILLEGAL_GENERATION, assignment: EMPTY });
    }
    if (this.state === 'PreparingRebalance') {
      return Promise.resolve({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY });
    }
    this.touch(member);
    if (this.state === 'Stable')
      return Promise.resolve({ errorCode: ErrorCode.NONE, assignment: member.assignment });
    return new Promise((resolve) => {
      member.awaitingSync = resolve;
      if (memberId !== this.leader) return;
      for (const m of this.members.values()) m.assignment = assignments.get(m.id) ?? EMPTY;
      this.state = 'Stable';
      this.log(
        `broker: group ${this.id} generation ${this.generationId} stable with ${this.members.size} member(s)`,
      );
      for (const m of this.members.values()) {
        m.awaitingSync?.({ errorCode: ErrorCode.NONE, assignment: m.assignment });
        m.awaitingSync = null;
      }
    });
  }

  heartbeat(generationId: number, memberId: string): number {
    const member = this.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.touch(member);
    return this.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  leave(memberId: string): number {
    const member = this.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.remove(member, 'left');
    return ErrorCode.NONE;
  }

  /** Kafka's rules for a commit: simple (generation -1) commits only into an empty group; otherwise the current generation. */
  commitError(generationId: number, memberId: string): number {
    if (generationId < 0 && this.state === 'Empty') return ErrorCode.NONE;
    if (this.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    const member = this.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.touch(member);
    return ErrorCode.NONE;
  }

  commit(topic: string, partition: number, value: CommittedOffset): void {
    let byPartition = this.offsets.get(topic);
    if (!byPartition) this.offsets.set(topic, (byPartition = new Map()));
    byPartition.set(partition, value);
  }

  /** Resolves once a write that includes every commit made so far is on disk; concurrent commits share writes. */
  persist(): Promise<void> {
    if (!this.nextWrite) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      this.nextWrite = { promise, resolve, reject };
    }
    const { promise } = this.nextWrite;
    if (!this.writing) this.writeNext();
    return promise;
  }

  private writeNext(): void {
    const batch = this.nextWrite;
    if (!batch) return;
    this.nextWrite = null;
    this.writing = true;
    const snapshot: Record<string, Record<string, CommittedOffset>> = {};
    for (const [topic, parts] of this.offsets) snapshot[topic] = Object.fromEntries(parts);
    const tmp = `${this.file}.tmp`;
    writeFile(tmp, JSON.stringify({ group: this.id, offsets: snapshot }))
      .then(() => rename(tmp, this.file))
      .then(batch.resolve, batch.reject)
      .finally(() => {
        this.writing = false;
        this.writeNext();
      });
  }

  /** Resolves when the pending offset write (if any) has finished. */
  async flush(): Promise<void> {
    if (this.writing || this.nextWrite) await this.persist();
  }

  stop(): void {
    if (this.rebalanceTimer) clearTimeout(this.rebalanceTimer);
    for (const m of this.members.values()) if (m.sessionTimer) clearTimeout(m.sessionTimer);
  }

  private touch(member: Member): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(() => {
      // A member waiting in JoinGroup is covered by the rebalance timeout instead.
      if (member.awaitingJoin) return;
      this.remove(member, `session expired after ${member.sessionTimeoutMs} ms`);
    }, member.sessionTimeoutMs);
    member.sessionTimer.unref();
  }

  private remove(member: Member, why: string): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    this.members.delete(member.id);
    member.awaitingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, member.id));
    member.awaitingSync?.({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, assignment: EMPTY });
    this.log(`broker: group ${this.id}: member ${member.id} ${why}`);
    if (this.state === 'PreparingRebalance') this.tryCompleteJoin();
    else if (this.members.size === 0) this.state = 'Empty';
    else this.prepareRebalance(`member ${member.id} ${why}`);
  }

  private prepareRebalance(why: string): void {
    for (const m of this.members.values()) {
      m.awaitingSync?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY });
      m.awaitingSync = null;
    }
    this.state = 'PreparingRebalance';
    this.log(`broker: group ${this.id} rebalancing: ${why}`);
    let timeout = 0;
    for (const m of this.members.values()) timeout = Math.max(timeout, m.rebalanceTimeoutMs);
    if (this.rebalanceTimer) clearTimeout(this.rebalanceTimer);
    this.rebalanceTimer = setTimeout(() => this.completeJoin(), timeout);
    this.rebalanceTimer.unref();
  }

  private tryCompleteJoin(): void {
    for (const m of this.members.values()) if (!m.awaitingJoin) return;
    this.completeJoin();
  }

  private completeJoin(): void {
    if (this.state !== 'PreparingRebalance') return;
    if (this.rebalanceTimer) clearTimeout(this.rebalanceTimer);
    this.rebalanceTimer = null;
    for (const m of [...this.members.values()]) {
      if (!m.awaitingJoin) {
        this.members.delete(m.id);
        if (m.sessionTimer) clearTimeout(m.sessionTimer);
        this.log(`broker: group ${this.id}: member ${m.id} did not rejoin within the rebalance timeout`);
      }
    }
    this.generationId++;
    if (this.members.size === 0) {
      this.state = 'Empty';
      return;
    }
    const all = [...this.members.values()];
    const protocol = all[0]!.protocols.find((p) =>
      all.every((m) => m.protocols.some((q) => q.name === p.name)),
    );
    if (!protocol) {
      for (const m of all) this.remove(m, 'has no assignment protocol in common with the group');
      return;
    }
    this.protocolName = protocol.name;
    if (!this.members.has(this.leader)) this.leader = all[0]!.id;
    this.state = 'CompletingRebalance';
    const members = all.map((m) => ({
      memberId: m.id,
      groupInstanceId: m.groupInstanceId,
      metadata: m.protocols.find((p) => p.name === protocol.name)!.metadata,
    }));
    for (const m of all) {
      const resolve = m.awaitingJoin!;
      m.awaitingJoin = null;
      this.touch(m);
      resolve({
        errorCode: ErrorCode.NONE,
        generationId: this.generationId,
        protocolName: this.protocolName,
        leader: this.leader,
        memberId: m.id,
        members: m.id === this.leader ? members : [],
      });
    }
  }
}

/** All groups; offsets are loaded from `<dataDir>/groups/*.json` at start. */
export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly dir: string;

  constructor(
    dataDir: string,
    private readonly log: (line: string) => void,
  ) {
    this.dir = path.join(dataDir, 'groups');
    mkdirSync(this.dir, { recursive: true });
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith('.json')) continue;
      const saved = JSON.parse(readFileSync(path.join(this.dir, f), 'utf8')) as {
        group: string;
        offsets: Record<string, Record<string, CommittedOffset>>;
      };
      const group = this.group(saved.group);
      for (const [topic, parts] of Object.entries(saved.offsets)) {
        for (const [p, v] of Object.entries(parts)) group.commit(topic, Number(p), v);
      }
    }
  }

  group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) {
      g = new Group(id, path.join(this.dir, `${encodeURIComponent(id)}.json`), this.log);
      this.groups.set(id, g);
    }
    return g;
  }

  existing(id: string): Group | undefined {
    return this.groups.get(id);
  }

  async close(): Promise<void> {
    for (const g of this.groups.values()) g.stop();
    await Promise.all([...this.groups.values()].map((g) => g.flush()));
  }
}
