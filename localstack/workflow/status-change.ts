/**
 * The EventBridge event Step Functions sends when an execution stops ("Step Functions Execution Status Change",
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html), made from a local execution record, so
 * the local endpoint hands a failed execution to the publisher exactly as the deployed rule does.
 */
import { randomUUID } from 'node:crypto';
import {
  STATUS_CHANGE,
  UNSUCCESSFUL_STATUSES,
  type ExecutionStatusChangeEvent,
} from '../../lambdas/core/status-change-event.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './definition.ts';
import type { ExecutionRecord } from './execution-store.ts';

/** Whether the failure rule matches a stop with this status. */
export function isUnsuccessful(status: string): boolean {
  return (UNSUCCESSFUL_STATUSES as readonly string[]).includes(status);
}

export function statusChangeEvent(r: ExecutionRecord): ExecutionStatusChangeEvent {
  const millis = (iso: string | undefined) => (iso === undefined ? null : Date.parse(iso));
  return {
    'detail-type': STATUS_CHANGE,
    source: 'aws.states',
    id: randomUUID(),
    time: r.stopDate ?? new Date().toISOString(),
    region: LOCAL_REGION,
    account: LOCAL_ACCOUNT,
    resources: [r.executionArn],
    detail: {
      executionArn: r.executionArn,
      stateMachineArn: r.stateMachineArn,
      name: r.name,
      status: r.status,
      startDate: Date.parse(r.startDate),
      stopDate: millis(r.stopDate),
      input: r.input,
      inputDetails: { included: true },
      output: r.output ?? null,
      error: r.error ?? null,
      cause: r.cause ?? null,
      redriveCount: r.redriveCount,
    },
  };
}
