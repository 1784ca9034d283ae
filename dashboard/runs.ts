/**
 * The runs page's data: the workflow's executions as the Step Functions console lists them (status, window,
 * start, duration, failure cause) with each state's duration from the execution history, read with the
 * official client (ListExecutions, DescribeExecution, GetExecutionHistory) from AWS or the local endpoint.
 */
import { runIdOfHistory } from '../lambdas/core/run-id.ts';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';

export interface RunStep {
  readonly name: string;
  readonly seconds: number;
  readonly failed: boolean;
}

export interface RunView {
  readonly name: string;
  readonly status: string;
  readonly window?: { readonly start: string; readonly end: string };
  readonly startDate?: string;
  readonly stopDate?: string;
  readonly seconds?: number;
  readonly redriveCount: number;
  readonly error?: string;
  readonly cause?: string;
  readonly steps: readonly RunStep[];
  /** The run's report on this server, when the run published one. */
  readonly reportUrl?: string;
}

export interface RunsSource {
  list(limit: number): Promise<RunView[]>;
  /** A run's report.html, or undefined when there is none. */
  report(runId: string): Promise<string | undefined>;
}

/** Each state's time, entered to exited (summed when a state runs again, after a redrive say). */
export function stepsOf(events: readonly HistoryEvent[]): RunStep[] {
  const steps = new Map<string, { seconds: number; failed: boolean }>();
  const entered = new Map<string, number>();
  let current: string | undefined;
  for (const e of events) {
    const at = e.timestamp?.getTime() ?? 0;
    const name = e.stateEnteredEventDetails?.name;
    if (e.type?.endsWith('StateEntered') && name) {
      entered.set(name, at);
      current = name;
      if (!steps.has(name)) steps.set(name, { seconds: 0, failed: false });
    }
    if (e.type === 'TaskFailed' && current) (steps.get(current) as { failed: boolean }).failed = true;
    if (e.type === 'TaskSucceeded' && current) (steps.get(current) as { failed: boolean }).failed = false;
    const exited = e.stateExitedEventDetails?.name ?? (e.type === 'ExecutionFailed' ? current : undefined);
    if (exited && entered.has(exited)) {
      const step = steps.get(exited) as { seconds: number };
      step.seconds += (at - (entered.get(exited) as number)) / 1000;
      entered.delete(exited);
    }
  }
  return [...steps].map(([name, s]) => ({ name, ...s, seconds: Math.round(s.seconds * 1000) / 1000 }));
}

function windowOf(input: string | undefined): RunView['window'] {
  try {
    const w = (JSON.parse(input ?? '{}') as { window?: { start?: string; end?: string } }).window;
    return w?.start && w.end ? { start: w.start, end: w.end } : undefined;
  } catch {
    return undefined;
  }
}

export function sfnRunsSource(options: {
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly report?: (runId: string) => Promise<string | undefined>;
}): RunsSource {
  const { sfn } = options;
  return {
    list: async (limit) => {
      const listed = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: options.stateMachineArn, maxResults: limit }),
      );
      return Promise.all(
        (listed.executions ?? []).map(async (x): Promise<RunView> => {
          const [d, h] = await Promise.all([
            sfn.send(new DescribeExecutionCommand({ executionArn: x.executionArn })),
            sfn.send(new GetExecutionHistoryCommand({ executionArn: x.executionArn, maxResults: 1000 })),
          ]);
          const events = h.events ?? [];
          // A stopped run has a summary and report (a failed one's from its status-change event).
          const runId = d.status === 'RUNNING' ? undefined : runIdOfHistory(events, d.name);
          return {
            name: d.name ?? '',
            status: d.status ?? '',
            window: windowOf(d.input),
            startDate: d.startDate?.toISOString(),
            stopDate: d.stopDate?.toISOString(),
            seconds:
              d.startDate && d.stopDate ? (d.stopDate.getTime() - d.startDate.getTime()) / 1000 : undefined,
            redriveCount: d.redriveCount ?? 0,
            error: d.error,
            cause: d.cause,
            steps: stepsOf(events),
            reportUrl: runId && options.report ? `/runs/${encodeURIComponent(runId)}/report.html` : undefined,
          };
        }),
      );
    },
    report: async (runId) => options.report?.(runId),
  };
}
