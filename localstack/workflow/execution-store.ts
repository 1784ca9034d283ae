/**
 * The local executions, kept as Step Functions keeps them: one record per execution (status, input, output,
 * error and cause, redrive count) with its console history, saved as executions/<name>.json in the local data
 * directory so `mds runs list|show` and the dashboard's runs page read them after the run's process ended.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConsoleEvent } from './console-history.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  status: ExecutionStatus;
  readonly startDate: string;
  stopDate?: string;
  /** The execution's input, as JSON text (as DescribeExecution returns it). */
  readonly input: string;
  output?: string;
  error?: string;
  cause?: string;
  redriveCount: number;
  redriveDate?: string;
  events: ConsoleEvent[];
  /** Seconds spent in each state, over all attempts (the console's graph timings). */
  stateSeconds: Record<string, number>;
  /** The run id the Publisher used for the run's summary and report, when it published one. */
  runId?: string;
}

export class ExecutionStore {
  private readonly records = new Map<string, ExecutionRecord>();

  /** `dir` undefined keeps the records in memory only. */
  /** The records this process saved: their copy in memory is the newest. */
  private readonly own = new Set<string>();

  constructor(private readonly dir?: string) {
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    this.refresh();
  }

  /** Reads the records other processes saved (an `mds runs start` while the dashboard serves, say). */
  private refresh(): void {
    if (!this.dir) return;
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith('.json')) continue;
      try {
        const record = JSON.parse(readFileSync(path.join(this.dir, file), 'utf8')) as ExecutionRecord;
        if (!this.own.has(record.executionArn)) this.records.set(record.executionArn, record);
      } catch {
        // A record being written by another process is read the next time.
      }
    }
  }

  get(executionArn: string): ExecutionRecord | undefined {
    if (!this.records.has(executionArn)) this.refresh();
    return this.records.get(executionArn);
  }

  /** Newest first, as ListExecutions returns them. */
  list(): ExecutionRecord[] {
    this.refresh();
    return [...this.records.values()].sort(
      (a, b) => b.startDate.localeCompare(a.startDate) || b.name.localeCompare(a.name),
    );
  }

  save(record: ExecutionRecord): void {
    this.records.set(record.executionArn, record);
    this.own.add(record.executionArn);
    if (!this.dir) return;
    const file = path.join(this.dir, `${record.name}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(record));
    renameSync(tmp, file);
  }
}

/** Where a data directory keeps its executions. */
export function executionsDir(dataRoot: string): string {
  return path.join(dataRoot, 'executions');
}
