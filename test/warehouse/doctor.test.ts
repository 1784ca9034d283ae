import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../bin/commands/doctor.ts';

const run = promisify(execFile);

describe('mds doctor', () => {
  it('--target snowflake without settings fails naming each missing setting', async () => {
    // Prepare: an environment without any Snowflake setting
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SNOWFLAKE_')));

    // Act
    const result = await run(process.execPath, ['bin/mds.mjs', 'doctor', '--target', 'snowflake'], {
      env,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'mds: SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_ROLE, SNOWFLAKE_WAREHOUSE, SNOWFLAKE_DATABASE, ' +
        'SNOWFLAKE_STAGE, SNOWFLAKE_SECRET_ARN: are not set, so the Snowflake warehouse is not configured. ' +
        'Set them as described in docs/warehouse.md, section "Configuration" (one-time account setup: docs/snowflake-setup.sql)',
    );
  });

  it('--target duckdb checks the local warehouse and reports its manifest', async () => {
    // Prepare
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mds-doctor-'));
    const lines: string[] = [];

    // Act
    const failed = await runDoctor('duckdb', {}, path.join(dir, 'warehouse.duckdb'), (l) => lines.push(l));

    // Assess
    await rm(dir, { recursive: true, force: true });
    expect(failed).toBe(0);
    expect(lines).toEqual([
      `ok    connect to duckdb: ${path.join(dir, 'warehouse.duckdb')}`,
      'ok    Bronze schemas, table and load manifest: present; manifest holds 0 objects (0 failed)',
    ]);
  });
});
