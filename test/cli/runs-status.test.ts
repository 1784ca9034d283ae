/** `mds status` lists the local executions through the same ListExecutions call as `mds runs list`. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'mds-status-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mds(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args]);
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout }));
  });
}

describe('mds status', () => {
  it('lists the executions of the local Step Functions endpoint, newest first', async () => {
    mkdirSync(path.join(dir, 'executions'), { recursive: true });
    for (const [name, status, startDate, error] of [
      ['older-ok', 'SUCCEEDED', '2026-11-30T09:00:00.000Z', undefined],
      ['newer-failed', 'FAILED', '2026-11-30T10:00:00.000Z', 'States.TaskFailed'],
    ] as const) {
      writeFileSync(
        path.join(dir, 'executions', `${name}.json`),
        JSON.stringify({
          executionArn: `arn:aws:states:local:000000000000:execution:mds-local-workflow:${name}`,
          stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:mds-local-workflow',
          name,
          status,
          startDate,
          stopDate: startDate,
          input: '{}',
          error,
          redriveCount: 0,
          events: [],
          stateSeconds: {},
        }),
      );
    }
    const text = await mds(['status', '--data', dir]);
    const json = await mds(['status', '--data', dir, '--json']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      'last 2 executions (mds runs list, mds runs show NAME):\n  FAILED    newer-failed  States.TaskFailed\n  SUCCEEDED older-ok\n',
    );
    expect((JSON.parse(json.stdout) as { executions: unknown[] }).executions).toEqual([
      { name: 'newer-failed', status: 'FAILED', error: 'States.TaskFailed' },
      { name: 'older-ok', status: 'SUCCEEDED' },
    ]);
  });
});
