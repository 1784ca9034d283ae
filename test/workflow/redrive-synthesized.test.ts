/**
 * A redrive of the deployed definition, end to end: the state machine `cdk synth` emits, on the local services,
 * through the local Step Functions endpoint with the official client (@aws-sdk/client-sfn). Its dbt step fails
 * (after its retries), the execution fails in RunDbt, and the failure's summary and alert come from the
 * status-change event the endpoint hands to the Publisher bundle, as the deployed EventBridge rule does.
 * `mds runs redrive` (no --force) then restarts RunDbt, the states before it not run again, and the run's
 * success summary replaces the failure's under the same run id.
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getObjectBytes } from '../../lambdas/core/s3.ts';
import type { RunSummary } from '../../lambdas/core/run-summary.ts';
import { PROJECT_ROOT } from '../../localstack/paths.ts';
import { putBronze, records } from '../loader/bronze-fixtures.ts';
import { ExecutionStore, executionsDir } from '../../localstack/workflow/execution-store.ts';
import { openSynthesizedWorkflow, plannedRunId, type SynthesizedWorkflow } from './synthesized.ts';

const WINDOW = { start: '2026-11-20T00:00:00.000Z', end: '2026-11-20T01:00:00.000Z' };
const NAME = 'dbt-fails-then-redriven';

let w: SynthesizedWorkflow;

beforeAll(async () => {
  // The window's Bronze, as the consumer lands it: RunDbt runs `dbt source freshness` first, as the image
  // does, and an empty Bronze is stale (dbt errs on a source without rows).
  w = await openSynthesizedWorkflow('mds-redrive-', (services) =>
    putBronze(services.s3, services.bucket, new Date(WINDOW.start), records(new Date(WINDOW.start), 5)),
  );
}, 300_000);

afterAll(async () => w?.close());

function mds(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args], {
      env: { ...process.env, MDS_DEBUG: '' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

const entered = (events: readonly { type?: string; stateEnteredEventDetails?: { name?: string } }[]) =>
  events.filter((e) => e.type?.endsWith('StateEntered')).map((e) => e.stateEnteredEventDetails?.name);

async function summaryInS3(runId: string): Promise<RunSummary> {
  const raw = await getObjectBytes(w.services.s3, w.services.bucket, `runs/${runId}/summary.json`);
  return JSON.parse(Buffer.from(raw).toString('utf8')) as RunSummary;
}

describe('the synthesized workflow, failed in RunDbt and redriven', () => {
  let runId: string;

  it('fails the execution in RunDbt itself, and the status-change event writes the failure summary and alert', async () => {
    // Prepare: every dbt attempt of the first run fails (the state's retries included).
    w.workflow.prepare(NAME, { injectDbtFailures: Infinity, retryIntervalMs: 10 });

    // Act
    const started = await w.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: w.workflow.stateMachineArn,
        name: NAME,
        input: JSON.stringify({ window: WINDOW }),
      }),
    );
    await w.workflow.idle();
    const failed = await w.sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    const history = (await w.sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn })))
      .events as HistoryEvent[];

    // Assess: the execution failed in the task, not in a Fail state after a Catch.
    expect(failed).toMatchObject({
      status: 'FAILED',
      error: 'States.TaskFailed',
      redriveStatus: 'REDRIVABLE',
    });
    expect(failed.cause).toContain('failure injected');
    expect(entered(history)).toEqual(['PlanWindow', 'StartLoad', 'LoadBronze', 'LoadComplete', 'RunDbt']);
    const types = history.map((e) => e.type);
    expect(types.slice(-4)).toEqual(['TaskScheduled', 'TaskStarted', 'TaskFailed', 'ExecutionFailed']);
    expect(types.filter((t) => t === 'TaskFailed')).toHaveLength(3); // the first attempt and 2 retries
    // The summary the Publisher bundle wrote from the status-change event, under the planner's run id.
    runId = plannedRunId(history);
    const summary = await summaryInS3(runId);
    expect(summary).toMatchObject({
      runId,
      status: 'FAILED',
      window: WINDOW,
      failure: { state: 'RunDbt', error: 'States.TaskFailed' },
      loader: { objectsLoaded: 1 },
    });
    expect(summary.failure?.cause).toContain('failure injected');
    const alerts = await readFile(path.join(w.dataDir, 'notifications.ndjson'), 'utf8');
    expect(alerts).toContain(`Spotify MDS run ${runId} failed`);
    expect(
      JSON.parse(await readFile(path.join(w.dataDir, 'runs', runId, 'summary.json'), 'utf8')),
    ).toMatchObject({ status: 'FAILED' });
  }, 300_000);

  it('mds runs redrive (no --force) restarts RunDbt to success; the success summary replaces the failure summary', async () => {
    // Prepare: the services of this process stop, so `mds runs redrive` can hold the data directory.
    await w.stop();

    // Act
    const r = await mds([
      'runs',
      'redrive',
      NAME,
      '--data',
      w.dataDir,
      '--broker-port',
      '0',
      '--s3-port',
      '0',
    ]);

    // Assess
    expect(r.stderr).toContain(`${NAME}: SUCCEEDED`);
    expect(r.code).toBe(0);
    const record = new ExecutionStore(executionsDir(w.dataDir)).list().find((x) => x.name === NAME);
    expect(record).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1, runId });
    const types = record?.events.map((e) => e.type) ?? [];
    const redriven = types.indexOf('ExecutionRedriven');
    expect(types.slice(redriven - 2, redriven + 3)).toEqual([
      'TaskFailed',
      'ExecutionFailed',
      'ExecutionRedriven',
      'TaskStateEntered',
      'TaskScheduled',
    ]);
    // The states before RunDbt ran once; the redrive went on from RunDbt to the end.
    expect(entered(record?.events ?? [])).toEqual([
      'PlanWindow',
      'StartLoad',
      'LoadBronze',
      'LoadComplete',
      'RunDbt',
      'RunDbt',
      'Reconcile',
      'PublishSummary',
      'Succeeded',
    ]);
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    const summary = JSON.parse(
      await readFile(path.join(w.dataDir, 'runs', runId, 'summary.json'), 'utf8'),
    ) as RunSummary;
    expect(summary).toMatchObject({ runId, status: 'SUCCEEDED', window: WINDOW });
    expect(summary.failure).toBeUndefined();
  }, 600_000);
});
