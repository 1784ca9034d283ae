/**
 * The hourly runs of `mds local up --once` are executions of the local Step Functions endpoint: afterwards
 * `mds runs list` (ListExecutions and DescribeExecution with the official client) lists one SUCCEEDED execution
 * per hour of the window, each with its window and its summary under runs/<runId>/.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'mds-runs-local-up-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mds(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args], {
      env: { ...process.env, MDS_DEBUG: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const HOURS = ['2026-11-20T00:00:00.000Z', '2026-11-20T01:00:00.000Z', '2026-11-20T02:00:00.000Z'];

describe('mds local up --once, then mds runs list', () => {
  it('lists every hourly run of the main job as a SUCCEEDED execution with its window', async () => {
    // Act
    const up = await mds([
      ...['local', 'up', '--once', '--events', '3000', '--start', HOURS[0] as string],
      ...['--end', '2026-11-20T03:00:00.000Z', '--data', dir, '--broker-port', '0', '--s3-port', '0'],
    ]);
    const list = await mds(['runs', 'list', '--data', dir, '--json']);

    // Assess
    expect(up.stderr.slice(-2000)).toContain('reconciliation: OK');
    expect(up.code).toBe(0);
    expect(list.code).toBe(0);
    const executions = JSON.parse(list.stdout) as { name: string; status: string; input: string }[];
    const windows = executions.map(
      (x) => (JSON.parse(x.input) as { window: { start: string } }).window.start,
    );
    expect(executions.map((x) => x.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(windows.sort()).toEqual(HOURS);
    for (const x of executions) expect(x.name).toMatch(/^local-up-20261120T0\d00-/);
    expect(existsSync(path.join(dir, 'runs'))).toBe(true);
  }, 600_000);
});
