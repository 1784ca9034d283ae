import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MdsError } from '../../lambdas/core/errors.ts';
import { openDuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import { queryContract } from './query-contract.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-duckdb-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('DuckDB warehouse', () => {
  let n = 0;
  queryContract(() => openDuckDbWarehouse({ path: path.join(dir, `q${++n}`, 'warehouse.duckdb') }));

  it('shares one database between warehouses opened on the same file in this process', async () => {
    // Prepare
    const file = path.join(dir, 'shared.duckdb');
    const a = await openDuckDbWarehouse({ path: file });
    const b = await openDuckDbWarehouse({ path: file });
    try {
      // Act
      await a.connection.run('CREATE TABLE t AS SELECT 1 AS x');
      const rows = await b.query('SELECT x FROM t');

      // Assess
      expect(rows).toEqual([{ x: 1 }]);
    } finally {
      await a.close();
      await b.close();
    }
    const reopened = await openDuckDbWarehouse({ path: file, readOnly: true });
    expect(await reopened.query('SELECT count(*) AS n FROM t')).toEqual([{ n: 1 }]);
    await reopened.close();
  });

  it('opens with the memory limit and the allocator settings that give freed memory back', async () => {
    // Prepare
    const wh = await openDuckDbWarehouse({ path: path.join(dir, 'settings.duckdb') });
    try {
      // Act
      const rows = await wh.query(
        `SELECT name, value FROM duckdb_settings()
         WHERE name IN ('memory_limit', 'allocator_background_threads', 'allocator_flush_threshold')
         ORDER BY name`,
      );

      // Assess: DuckDB prints the sizes in MiB (256MB = 244.1 MiB, 32MB = 30.5 MiB)
      expect(rows).toEqual([
        { name: 'allocator_background_threads', value: 'true' },
        { name: 'allocator_flush_threshold', value: '30.5 MiB' },
        { name: 'memory_limit', value: '244.1 MiB' },
      ]);
    } finally {
      await wh.close();
    }
  });

  it('fails clearly when another process holds the file', async () => {
    // Prepare: a child process opens the file and keeps it
    const file = path.join(dir, 'locked.duckdb');
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { DuckDBInstance } from '@duckdb/node-api';
         const db = await DuckDBInstance.create(${JSON.stringify(file)});
         await (await db.connect()).run('CREATE TABLE IF NOT EXISTS t (x INT)');
         console.log('ready');
         setInterval(() => {}, 1000);`,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
      });

      // Act
      const opening = openDuckDbWarehouse({ path: file });

      // Assess
      await expect(opening).rejects.toThrow(MdsError);
      await expect(opening).rejects.toThrow(
        new RegExp(`is in use by another process \\(pid ${child.pid}\\?\\)`),
      );
    } finally {
      child.kill();
    }
  });
});
