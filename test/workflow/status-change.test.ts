/**
 * What the publisher makes of a status-change event: a late event (the execution was redriven since) writes
 * nothing, so it cannot overwrite the summary of the redrive; an event without its input (over 248 KB) takes it
 * from DescribeExecution; a timeout or an abort without an error is named by its status.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { failedRunRequest, type ExecutionStatusChangeEvent } from '../../lambdas/publisher/status-change.ts';

const WINDOW = { start: '2026-11-20T00:00:00.000Z', end: '2026-11-20T01:00:00.000Z' };
const STOPPED = Date.parse('2026-11-20T01:10:00.000Z');

function event(detail: Partial<ExecutionStatusChangeEvent['detail']> = {}): ExecutionStatusChangeEvent {
  return {
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    detail: {
      executionArn: 'arn:aws:states:eu-west-1:1:execution:w:e-1',
      stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:w',
      name: 'e-1',
      status: 'FAILED',
      startDate: STOPPED - 600_000,
      stopDate: STOPPED,
      input: JSON.stringify({ window: WINDOW }),
      error: 'States.TaskFailed',
      cause: 'dbt build failed',
      ...detail,
    },
  };
}

const dbtEntered = [
  { type: 'TaskFailed' },
  {
    type: 'TaskStateEntered',
    stateEnteredEventDetails: {
      name: 'RunDbt',
      input: JSON.stringify({
        window: WINDOW,
        plan: { runId: 'r-1', window: WINDOW },
        load: { rowsLoaded: 7 },
      }),
    },
  },
] as HistoryEvent[];

describe('a status-change event, to the publisher', () => {
  it('of the latest failure: the summary of the state it failed in, under the planner run id', () => {
    const now = { status: 'FAILED' as const, stopDate: new Date(STOPPED), input: '{}' };
    expect(failedRunRequest(event(), { now, newestFirst: dbtEntered }, 'b')).toMatchObject({
      status: 'FAILED',
      runId: 'r-1',
      window: WINDOW,
      load: { rowsLoaded: 7 },
      failure: { state: 'RunDbt', Error: 'States.TaskFailed', Cause: 'dbt build failed' },
    });
  });

  it('that arrives after a redrive (running, succeeded, or failed again later) writes nothing', () => {
    for (const now of [
      { status: 'RUNNING' as const, stopDate: undefined, input: '{}' },
      { status: 'SUCCEEDED' as const, stopDate: new Date(STOPPED + 60_000), input: '{}' },
      { status: 'FAILED' as const, stopDate: new Date(STOPPED + 60_000), input: '{}' },
    ]) {
      expect(failedRunRequest(event(), { now, newestFirst: dbtEntered }, 'b')).toEqual({
        skipped: expect.stringContaining(`e-1 is ${now.status} now`),
      });
    }
  });

  it('without its input takes it from DescribeExecution; a timeout without an error is States.Timeout', () => {
    const now = {
      status: 'TIMED_OUT' as const,
      stopDate: new Date(STOPPED),
      input: JSON.stringify({ window: WINDOW }),
    };
    const planning = [
      { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'PlanWindow', input: now.input } },
    ] as HistoryEvent[];
    const request = failedRunRequest(
      event({
        status: 'TIMED_OUT',
        input: null,
        inputDetails: { included: false },
        error: null,
        cause: null,
      }),
      { now, newestFirst: planning },
      'b',
    );
    expect(request).toMatchObject({
      runId: 'e-1',
      window: WINDOW,
      failure: { state: 'PlanWindow', Error: 'States.Timeout' },
    });
  });
});
