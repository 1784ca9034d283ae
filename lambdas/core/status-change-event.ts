/**
 * The EventBridge event Step Functions sends when an execution's status changes ("Step Functions Execution
 * Status Change", https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html): what the failure rule
 * matches (lib/constructs/run-failure-rule.ts), the publisher reads (lambdas/publisher/status-change.ts) and the
 * local endpoint sends (localstack/workflow/status-change.ts).
 */
export const STATUS_CHANGE = 'Step Functions Execution Status Change';

/** The statuses the failure rule matches: every way a Standard execution stops without success. */
export const UNSUCCESSFUL_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/** The EventBridge event of an execution's status change; dates are epoch milliseconds. */
export interface ExecutionStatusChangeEvent {
  readonly 'detail-type': typeof STATUS_CHANGE;
  readonly source: 'aws.states';
  readonly id?: string;
  readonly time?: string;
  readonly region?: string;
  readonly account?: string;
  readonly resources?: readonly string[];
  readonly detail: {
    readonly executionArn: string;
    readonly stateMachineArn: string;
    readonly name: string;
    readonly status: string;
    readonly startDate: number;
    readonly stopDate: number | null;
    readonly input: string | null;
    readonly inputDetails?: { readonly included: boolean };
    readonly output?: string | null;
    readonly error?: string | null;
    readonly cause?: string | null;
    readonly redriveCount?: number;
  };
}

export function isStatusChangeEvent(event: unknown): event is ExecutionStatusChangeEvent {
  const e = event as Partial<ExecutionStatusChangeEvent> | null;
  return e?.source === 'aws.states' && e['detail-type'] === STATUS_CHANGE;
}
