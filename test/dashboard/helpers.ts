/**
 * Shared set-up for the dashboard tests: a temp directory with Gold fixtures, a dashboard server on a free
 * port whose warehouse file can be switched between tests, and a log that records what the server said.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDashboardServer, type DashboardServer } from '../../dashboard/server.ts';
import { openGoldReader, type GoldWarehouse } from '../../dashboard/warehouse.ts';
import { writeGoldFixture } from './gold-fixture.ts';

export interface LogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields?: Record<string, unknown>;
}

export interface Harness {
  readonly dir: string;
  readonly full: string;
  readonly empty: string;
  readonly noGold: string;
  readonly server: DashboardServer;
  readonly log: LogEntry[];
  /** The warehouse file the server opens on its next request. */
  target: string;
  /** Runs `fn` against a fixture file through a reader of its own, for expected values. */
  read<T>(file: string, fn: (wh: GoldWarehouse) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mds-dashboard-'));
  const full = path.join(dir, 'full.duckdb');
  const empty = path.join(dir, 'empty.duckdb');
  const noGold = path.join(dir, 'no-gold.duckdb');
  await writeGoldFixture(full, 'full');
  await writeGoldFixture(empty, 'empty');
  await writeGoldFixture(noGold, 'no-gold');
  const log: LogEntry[] = [];
  const record =
    (level: LogEntry['level']) =>
    (message: string, fields?: Record<string, unknown>): void => {
      log.push({ level, message, fields });
    };
  const harness: Partial<Harness> & { target: string } = { target: full };
  const server = await createDashboardServer({
    warehouse: () => openGoldReader(harness.target),
    release: async (wh) => wh.close?.(),
    log: { info: record('info'), warn: record('warn'), error: record('error') },
  });
  return Object.assign(harness, {
    dir,
    full,
    empty,
    noGold,
    server,
    log,
    async read<T>(file: string, fn: (wh: GoldWarehouse) => Promise<T>): Promise<T> {
      const wh = await openGoldReader(file);
      try {
        return await fn(wh);
      } finally {
        await wh.close?.();
      }
    },
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  });
}
