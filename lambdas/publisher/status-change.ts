/**
 * A failed run's summary, written outside the state machine: Step Functions sends an "Execution Status Change"
 * event to EventBridge when an execution stops (Step Functions developer guide, "EventBridge for Step Functions
 * execution status changes": https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html), and a rule
 * for FAILED, TIMED_OUT and ABORTED invokes the publisher with it (lib/constructs/run-failure-rule.ts).
 *
 * The event carries the execution's input (left out when input and output together exceed 248 KB; then
 * `inputDetails.included` is false and DescribeExecution has it), its error and cause, but not what the run had
 * produced when it failed. That is the input of the state it failed in, the last state entered in its history
 * (GetExecutionHistory, newest first): the planner's run id and window, the load's totals, dbt's task. So the
 * summary is the one the workflow's own failure step used to write, and its run id is the successful run's: a
 * redrive continues with the same plan, so its success summary replaces the failure's under runs/<runId>/.
 *
 * Delivery is at least once and may be late (EventBridge and Lambda both retry); an event that is no longer
 * the execution's latest stop (it was redriven since: running, succeeded, or stopped again later) writes nothing,
 * so it can never overwrite the summary of a redrive that succeeded.
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { UNSUCCESSFUL_STATUSES, type ExecutionStatusChangeEvent } from '../core/status-change-event.ts';
import { publishRequestFromEvent, type PublisherEvent, type PublishRequest } from './publish.ts';

export { isStatusChangeEvent, type ExecutionStatusChangeEvent } from '../core/status-change-event.ts';

/** The execution as it is now, and its history newest first (at least back to the last state entered). */
export interface FailedExecution {
  readonly now: Pick<DescribeExecutionCommandOutput, 'status' | 'stopDate' | 'input'>;
  readonly newestFirst: readonly HistoryEvent[];
}

/** The error an unsuccessful stop reports when the event has none (an abort, a timeout). */
const DEFAULT_ERROR: Record<string, string> = { TIMED_OUT: 'States.Timeout', ABORTED: 'States.Aborted' };

/**
 * The failed run's publish request, or why the event writes nothing: a status that is not a failure, or an
 * event that is not the execution's latest stop.
 */
export function failedRunRequest(
  event: ExecutionStatusChangeEvent,
  execution: FailedExecution,
  bucket: string,
): PublishRequest | { readonly skipped: string } {
  const d = event.detail;
  if (!(UNSUCCESSFUL_STATUSES as readonly string[]).includes(d.status)) {
    return { skipped: `${d.name} is ${d.status}, not a failure` };
  }
  const now = execution.now;
  const stoppedLater = d.stopDate !== null && (now.stopDate?.getTime() ?? 0) > d.stopDate;
  if (now.status !== d.status || stoppedLater) {
    return {
      skipped: `${d.name} is ${now.status} now (redriven after this ${d.status} event): its latest stop publishes`,
    };
  }
  const entered = execution.newestFirst.find((e) => e.type?.endsWith('StateEntered'));
  const stateInput = parseObject(entered?.stateEnteredEventDetails?.input);
  const input = parseObject(d.inputDetails?.included === false ? now.input : (d.input ?? now.input));
  const run = {
    ...input,
    ...stateInput,
    failure: {
      Error: d.error ?? DEFAULT_ERROR[d.status] ?? 'States.Runtime',
      Cause: d.cause ?? '',
      ...(entered?.stateEnteredEventDetails?.name ? { state: entered.stateEnteredEventDetails.name } : {}),
    },
  } as PublisherEvent['run'];
  return publishRequestFromEvent(
    { status: 'FAILED', executionName: d.name, startedAt: new Date(d.startDate).toISOString(), run },
    bucket,
  );
}

/** The most history pages read back to the last state entered (a state's retries are a few events each). */
const MAX_HISTORY_PAGES = 5;

/** Reads what failedRunRequest needs: DescribeExecution, and the history newest first up to the last state entered. */
export async function readFailedExecution(
  sfn: SFNClient,
  event: ExecutionStatusChangeEvent,
): Promise<FailedExecution> {
  const executionArn = event.detail.executionArn;
  const now = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const newestFirst: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_HISTORY_PAGES; page += 1) {
    const h = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 100, nextToken }),
    );
    newestFirst.push(...(h.events ?? []));
    nextToken = h.nextToken;
    if (!nextToken || newestFirst.some((e) => e.type?.endsWith('StateEntered'))) break;
  }
  return { now, newestFirst };
}

function parseObject(text: string | null | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
