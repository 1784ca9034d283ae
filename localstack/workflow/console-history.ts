/**
 * The execution history as Step Functions records it (GetExecutionHistory, the console's "Events" table), made
 * from the local executor's events. The event types and their order follow the API reference's HistoryEvent:
 *
 *   ExecutionStarted
 *   TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded | TaskFailed, TaskStateExited
 *     (a Retry is another TaskScheduled, TaskStarted, TaskSucceeded | TaskFailed in the same state; a Catch
 *     ends the state with TaskStateExited after its TaskFailed)
 *   PassStateEntered, PassStateExited, ChoiceStateEntered, ..., FailStateEntered
 *   ExecutionSucceeded | ExecutionFailed
 *   ExecutionRedriven (a RedriveExecution), then the redriven states' events
 *
 * Each event carries the details member the SDK's HistoryEvent names for its type (executionStartedEventDetails,
 * stateEnteredEventDetails, taskScheduledEventDetails, ...). Timestamps are ISO strings here; the endpoint sends
 * them as the epoch seconds of the JSON 1.0 protocol.
 */
import type { HistoryEvent } from './executor.ts';

export interface ConsoleEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: string;
  readonly type: string;
  readonly [details: string]: unknown;
}

interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: unknown;
}

/**
 * A task's resourceType and resource as the history names them: `arn:aws:states:::lambda:invoke` is
 * ("lambda", "invoke"), `arn:aws:states:::ecs:runTask.sync` is ("ecs", "runTask.sync"); a Lambda ARN as the
 * Resource is ("lambda", "invoke").
 */
export function taskResource(resource: string | undefined): { resourceType: string; resource: string } {
  const integration = /^arn:aws:states:::([^:]+):(.+)$/.exec(resource ?? '');
  if (integration) return { resourceType: integration[1] as string, resource: integration[2] as string };
  if (resource?.startsWith('arn:aws:lambda:')) return { resourceType: 'lambda', resource: 'invoke' };
  return { resourceType: 'activity', resource: resource ?? '' };
}

/** Turns executor events into console events, one attempt (the first run, or a redrive) at a time. */
export class ConsoleHistory {
  readonly events: ConsoleEvent[] = [];
  private readonly failedTask = new Set<string>();

  constructor(
    private readonly definition: { States: Record<string, AslState> },
    private readonly roleArn: string,
  ) {}

  /** Appends the ExecutionRedriven event that starts a redrive's events. */
  redriven(redriveCount: number, at: string): void {
    this.add(at, 'ExecutionRedriven', { executionRedrivenEventDetails: { redriveCount } });
  }

  /** Adds the console events of one executor event; `redrive` drops the redrive's own ExecutionStarted. */
  push(e: HistoryEvent, redrive = false): void {
    const d = e.details ?? {};
    const name = d.name as string | undefined;
    const state = name ? this.definition.States[name] : undefined;
    const task = state ? taskResource(state.Resource) : undefined;
    const at = e.timestamp;
    switch (e.type) {
      case 'ExecutionStarted':
        if (!redrive) {
          this.add(at, e.type, {
            executionStartedEventDetails: { input: d.input, roleArn: this.roleArn },
          });
        }
        return;
      case 'ExecutionSucceeded':
        this.add(at, e.type, { executionSucceededEventDetails: { output: d.output } });
        return;
      case 'ExecutionFailed':
        this.add(at, e.type, { executionFailedEventDetails: { error: d.error, cause: d.cause } });
        return;
      case 'TaskFailed':
        this.failedTask.add(name ?? '');
        this.add(at, e.type, { taskFailedEventDetails: { ...task, error: d.error, cause: d.cause } });
        return;
      case 'TaskRetried':
        // Step Functions has no retry event: a retry is the task scheduled and started again.
        this.failedTask.delete(name ?? '');
        this.scheduled(at, state, task);
        return;
      case 'TaskCaught':
        return; // a Catch shows as TaskStateExited after the TaskFailed
    }
    if (e.type.endsWith('StateEntered')) {
      this.add(at, e.type, { stateEnteredEventDetails: { name, input: d.input } });
      if (state?.Type === 'Task') {
        this.failedTask.delete(name ?? '');
        this.scheduled(at, state, task);
      }
      return;
    }
    if (e.type.endsWith('StateExited')) {
      if (state?.Type === 'Task' && !this.failedTask.has(name ?? '')) {
        this.add(at, 'TaskSucceeded', { taskSucceededEventDetails: { ...task, output: d.output } });
      }
      this.failedTask.delete(name ?? '');
      this.add(at, e.type, { stateExitedEventDetails: { name, output: d.output } });
    }
    // A Fail state's own failure (FailFailed) is the ExecutionFailed that follows; nothing else to add.
  }

  private scheduled(
    at: string,
    state: AslState | undefined,
    task: ReturnType<typeof taskResource> | undefined,
  ) {
    this.add(at, 'TaskScheduled', {
      taskScheduledEventDetails: {
        ...task,
        region: 'local',
        parameters: JSON.stringify(state?.Parameters ?? {}),
      },
    });
    this.add(at, 'TaskStarted', { taskStartedEventDetails: { ...task } });
  }

  private add(timestamp: string, type: string, details: Record<string, unknown>): void {
    const id = this.events.length + 1;
    this.events.push({ id, previousEventId: id - 1, timestamp, type, ...details });
  }
}

/**
 * The state a redrive restarts at and the input it gets: the last state entered before the execution failed
 * (Step Functions' "unsuccessful step"). When a Catch sent the failure to a Fail state, that is the Fail
 * state: Step Functions redrives it, not the task whose error was caught.
 */
export function redrivePoint(events: readonly ConsoleEvent[]): { state: string; input: unknown } | undefined {
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const e = events[i] as ConsoleEvent;
    if (!e.type.endsWith('StateEntered')) continue;
    const d = e.stateEnteredEventDetails as { name: string; input?: string };
    return { state: d.name, input: d.input === undefined ? {} : (JSON.parse(d.input) as unknown) };
  }
  return undefined;
}
