/**
 * `mds runs` and `mds schedule` on bad input: one line naming the problem and the fix, and a non-zero exit.
 * "Not deployed" is what CloudFormation answers for a stack that does not exist (DescribeStacks: a
 * ValidationError "Stack with id ... does not exist"), from a local stand-in reached with the SDK's
 * AWS_ENDPOINT_URL_CLOUDFORMATION override.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';

function mds(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args], {
      env: { ...process.env, MDS_DEBUG: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let dir: string;
let cfn: Server;
let cfnUrl: string;
const requests: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mds-runs-cli-'));
  cfn = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push(body);
      const stack = /StackName=([^&]+)/.exec(body)?.[1] ?? '';
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(
        `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>` +
          `<Code>ValidationError</Code><Message>Stack with id ${decodeURIComponent(stack)} does not exist</Message>` +
          `</Error><RequestId>r1</RequestId></ErrorResponse>`,
      );
    });
  });
  await new Promise<void>((r) => cfn.listen(0, '127.0.0.1', r));
  cfnUrl = `http://127.0.0.1:${(cfn.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => cfn.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const oneLine = (stderr: string) => stderr.trim().split('\n');

describe('mds runs on bad input', () => {
  it('an environment that is not deployed names the stack, the region and the deploy command', async () => {
    const r = await mds(['runs', 'list', '--env', 'dev', '--region', 'eu-west-1'], {
      AWS_ENDPOINT_URL_CLOUDFORMATION: cfnUrl,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([
      'mds: the environment dev is not deployed: there is no stack Mds-dev-Pipeline in eu-west-1; deploy it with ' +
        '`npx cdk deploy -c env=dev --all` (docs/deploy.md), or pick the region with --region',
    ]);
    expect(requests.at(-1)).toContain('Action=DescribeStacks');
  });

  it('a succeeded execution cannot be redriven: says why and what to do instead', async () => {
    const data = path.join(dir, 'data');
    mkdirSync(path.join(data, 'executions'), { recursive: true });
    const arn = 'arn:aws:states:local:000000000000:execution:mds-local-workflow:done-1';
    writeFileSync(
      path.join(data, 'executions', 'done-1.json'),
      JSON.stringify({
        executionArn: arn,
        stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:mds-local-workflow',
        name: 'done-1',
        status: 'SUCCEEDED',
        startDate: '2026-11-30T10:00:00.000Z',
        stopDate: '2026-11-30T10:01:00.000Z',
        input: '{}',
        redriveCount: 0,
        events: [],
        stateSeconds: {},
      }),
    );
    const r = await mds(['runs', 'redrive', 'done-1', '--data', data]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([
      'mds: done-1 cannot be redriven: Execution is SUCCEEDED and cannot be redriven; start a new run for its ' +
        'window with `mds runs start --window START/END`',
    ]);
  });

  it('an execution that ended in the Fail state LoadIncomplete: a redrive would only fail again, so it is refused', async () => {
    const data = path.join(dir, 'data-caught');
    mkdirSync(path.join(data, 'executions'), { recursive: true });
    const at = new Date().toISOString();
    const event = (id: number, type: string, extra: object) => ({
      id,
      previousEventId: id - 1,
      timestamp: at,
      type,
      ...extra,
    });
    writeFileSync(
      path.join(data, 'executions', 'caught-1.json'),
      JSON.stringify({
        executionArn: 'arn:aws:states:local:000000000000:execution:mds-local-workflow:caught-1',
        stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:mds-local-workflow',
        name: 'caught-1',
        status: 'FAILED',
        startDate: at,
        stopDate: at,
        input: JSON.stringify({
          window: { start: '2026-11-30T10:00:00.000Z', end: '2026-11-30T11:00:00.000Z' },
        }),
        error: 'LoadIncomplete',
        cause: 'LoadBronze did not finish loading the window in 200 invocations',
        redriveCount: 0,
        events: [
          event(1, 'ExecutionStarted', { executionStartedEventDetails: { input: '{}' } }),
          event(2, 'ChoiceStateEntered', { stateEnteredEventDetails: { name: 'LoadComplete', input: '{}' } }),
          event(3, 'ChoiceStateExited', { stateExitedEventDetails: { name: 'LoadComplete', output: '{}' } }),
          event(4, 'FailStateEntered', { stateEnteredEventDetails: { name: 'LoadIncomplete', input: '{}' } }),
          event(5, 'ExecutionFailed', { executionFailedEventDetails: { error: 'LoadIncomplete' } }),
        ],
        stateSeconds: {},
      }),
    );
    const r = await mds(['runs', 'redrive', 'caught-1', '--data', data]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([
      'mds: caught-1 ended in the Fail state LoadIncomplete: a redrive re-runs only that ' +
        'state and fails again; start a new run for its window with ' +
        '`mds runs start --window 2026-11-30T10:00:00.000Z/2026-11-30T11:00:00.000Z`',
    ]);
  });

  it('a backfill range that is reversed or in the future is refused with exit 2', async () => {
    const reversed = await mds(['runs', 'backfill', '2026-11-23', '2026-11-20', '--data', dir]);
    const future = await mds(['runs', 'backfill', '2026-11-20', '2099-01-01', '--data', dir]);
    expect(reversed.code).toBe(2);
    expect(oneLine(reversed.stderr)).toHaveLength(1);
    expect(reversed.stderr).toMatch(/END 2026-11-20T00:00:00.000Z must be after START/);
    expect(future.code).toBe(2);
    expect(oneLine(future.stderr)).toHaveLength(1);
    expect(future.stderr).toMatch(/future/);
  });

  it('--env and --local together, and --by other than day or hour, are usage errors', async () => {
    const both = await mds(['runs', 'list', '--env', 'dev', '--local']);
    const by = await mds(['runs', 'backfill', '2026-11-20', '2026-11-21', '--by', 'week', '--data', dir]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--env and --local exclude each other/);
    expect(by.code).toBe(2);
    expect(by.stderr).toMatch(/--by week: use day or hour/);
  });
});
