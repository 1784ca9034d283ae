/**
 * Runs the synthesized state machine definition in-process with aws-local-stepfunctions: every Task state is
 * mapped, by state name, to the same handler code that runs in AWS. Service integrations are emulated at their
 * boundary: `lambda:invoke` tasks receive `Payload` and answer `{ Payload, StatusCode }`, and a thrown error
 * becomes the Lambda error (`Error` = the error's name, `Cause` = `{"errorType","errorMessage"}`), so Retry and
 * Catch rules match exactly as they do in AWS.
 */
import '../../lambdas/core/polyfills.ts';
import { StateMachine, type RunOptions, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { MdsError } from '../../lambdas/core/errors.ts';

/** A local task: receives what the Task sends (the Lambda payload, or the service request) and returns its result. */
export type LocalTask = (input: unknown) => Promise<unknown>;

/** One event of the execution history, in the shape of the Step Functions console's JSON export. */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: string;
  readonly type: string;
  readonly details?: Record<string, unknown>;
}

export interface LocalExecution {
  readonly executionName: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly startDate: string;
  readonly stopDate: string;
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** Seconds spent in each state (summed over retries). */
  readonly stateSeconds: Record<string, number>;
  readonly history: HistoryEvent[];
}

export interface LocalExecutionOptions {
  readonly definition: unknown;
  readonly input: unknown;
  readonly executionName: string;
  /** Local handlers by Task state name; every Task state of the definition needs one. */
  readonly tasks: Readonly<Record<string, LocalTask>>;
  /** Called for every history event as it happens. */
  readonly onEvent?: (event: HistoryEvent) => void;
  /** Pause between retries, in ms, instead of the definition's IntervalSeconds/BackoffRate. */
  readonly retryIntervalMs?: number;
  /**
   * A redrive (RedriveExecution): the run restarts at the state that failed, with the input that state had,
   * so the states that succeeded before it are not run again and their outputs (in that input) are kept.
   */
  readonly redrive?: RedriveFrom;
  /** Aborts the run (StopExecution): the state machine stops and the execution fails with ExecutionAborted. */
  readonly signal?: AbortSignal;
}

/** Where a redriven execution continues: the unsuccessful state and the input it received. */
export interface RedriveFrom {
  readonly state: string;
  readonly input: unknown;
}

type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Retry?: unknown[];
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

export async function executeLocally(options: LocalExecutionOptions): Promise<LocalExecution> {
  const given = options.definition as StateMachineDefinition & { States: Record<string, AslState> };
  if (options.redrive && !given.States[options.redrive.state]) {
    throw new MdsError(`cannot redrive from "${options.redrive.state}": the definition has no such state`);
  }
  // Step Functions redrives with the same definition; starting at the failed state is the same as the
  // definition with that StartAt.
  const definition = options.redrive ? { ...given, StartAt: options.redrive.state } : given;
  const input = options.redrive ? options.redrive.input : options.input;
  const states = definition.States;
  const handlers: LocalHandlers = {};
  for (const [name, state] of Object.entries(states)) {
    if (state.Type !== 'Task') continue;
    const task = options.tasks[name];
    if (!task) throw new MdsError(`the workflow's Task state "${name}" has no local handler`);
    handlers[name] = wrapTask(state, task) as LocalHandlers[string];
  }
  const retryIntervalOverrides: Record<string, number> = {};
  if (options.retryIntervalMs !== undefined) {
    for (const [name, state] of Object.entries(states))
      if (state.Retry) retryIntervalOverrides[name] = options.retryIntervalMs;
  }

  // A redrive's StartAt leaves the states before it unreachable, which validation refuses; the definition
  // itself is the one the first attempt validated.
  const machine = new StateMachine(definition, {
    validationOptions: options.redrive ? { noValidate: true } : { checkPaths: true, checkArn: false },
  });
  const startDate = new Date().toISOString();
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
    context: {
      Execution: {
        Id: `arn:aws:states:local:000000000000:execution:mds-hourly:${options.executionName}`,
        Name: options.executionName,
        Input: options.input,
        StartTime: startDate,
      },
    } as never,
  });

  if (options.signal?.aborted) execution.abort();
  options.signal?.addEventListener('abort', () => execution.abort(), { once: true });

  const history: HistoryEvent[] = [];
  const stateSeconds: Record<string, number> = {};
  const entered = new Map<string, number>();
  const pump = (async () => {
    for await (const e of execution.eventLogs) {
      const event = toHistoryEvent(e as unknown as LibraryEvent, history.length + 1);
      history.push(event);
      const lib = e as unknown as LibraryEvent;
      if (lib.state) {
        if (lib.type === 'StateEntered') entered.set(lib.state.name, lib.timestamp);
        if (lib.type === 'StateExited' || lib.type === 'StateFailed' || lib.type === 'StateCaught') {
          const t0 = entered.get(lib.state.name);
          if (t0 !== undefined) {
            stateSeconds[lib.state.name] = (stateSeconds[lib.state.name] ?? 0) + (lib.timestamp - t0) / 1000;
            entered.delete(lib.state.name);
          }
        }
        if (lib.type === 'StateRetried') entered.set(lib.state.name, lib.timestamp);
      }
      options.onEvent?.(event);
    }
  })();

  let output: unknown;
  let failure: { error: string; cause: string } | undefined;
  try {
    output = await execution.result;
  } catch (err) {
    const e = err as Error & { cause?: { name?: string; message?: string } };
    const inner = e.cause ?? e;
    failure = { error: inner.name ?? 'Error', cause: inner.message ?? String(err) };
  }
  await pump;
  const last = history.at(-1);
  const failed = history.find((h) => h.type === 'ExecutionFailed');
  const base = { executionName: options.executionName, startDate, stopDate: last?.timestamp ?? startDate };
  if (failure) {
    return {
      ...base,
      status: 'FAILED',
      input: options.input,
      error: (failed?.details?.error as string | undefined) ?? failure.error,
      cause: (failed?.details?.cause as string | undefined) ?? failure.cause,
      stateSeconds,
      history,
    };
  }
  return { ...base, status: 'SUCCEEDED', input: options.input, output, stateSeconds, history };
}

/** Emulates the service integration of a Task around its local handler. */
function wrapTask(state: AslState, task: LocalTask): (input: unknown) => Promise<unknown> {
  if (state.Resource === LAMBDA_INVOKE || state.Resource?.startsWith('arn:aws:states:::lambda:invoke')) {
    return async (input) => {
      const payload = (input as { Payload?: unknown } | null)?.Payload;
      try {
        const result = await task(payload);
        return { ExecutedVersion: '$LATEST', Payload: result ?? null, StatusCode: 200 };
      } catch (err) {
        throw lambdaError(err);
      }
    };
  }
  if (state.Resource?.startsWith('arn:aws:lambda:')) {
    return async (input) => {
      try {
        return (await task(input)) ?? null;
      } catch (err) {
        throw lambdaError(err);
      }
    };
  }
  return task;
}

/** The error a Lambda invocation reports: its type as the name and Lambda's JSON as the cause. */
function lambdaError(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const out = new Error(JSON.stringify({ errorType: e.name, errorMessage: e.message }));
  out.name = e.name === 'Error' ? 'Error' : e.name;
  return out;
}

interface LibraryEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: { name: string; type: string; input: unknown; output?: unknown };
  readonly input?: unknown;
  readonly output?: unknown;
  readonly Error?: string;
  readonly Cause?: unknown;
  readonly retry?: { attempt: number };
  readonly catch?: { catcher: { Next: string } };
}

function toHistoryEvent(e: LibraryEvent, id: number): HistoryEvent {
  const base = { id, previousEventId: id - 1, timestamp: new Date(e.timestamp).toISOString() };
  const s = e.state;
  const errorDetails = {
    error: e.Error,
    cause: typeof e.Cause === 'string' ? e.Cause : JSON.stringify(e.Cause),
  };
  switch (e.type) {
    case 'ExecutionStarted':
      return { ...base, type: e.type, details: { input: JSON.stringify(e.input) } };
    case 'ExecutionSucceeded':
      return { ...base, type: e.type, details: { output: JSON.stringify(e.output) } };
    case 'ExecutionFailed':
      return { ...base, type: e.type, details: errorDetails };
    case 'StateEntered':
      return {
        ...base,
        type: `${s?.type}StateEntered`,
        details: { name: s?.name, input: JSON.stringify(s?.input) },
      };
    case 'StateExited':
      return {
        ...base,
        type: `${s?.type}StateExited`,
        details: { name: s?.name, output: JSON.stringify(s?.output) },
      };
    case 'StateFailed':
      return { ...base, type: `${s?.type}Failed`, details: { name: s?.name, ...errorDetails } };
    case 'StateRetried':
      return { ...base, type: `${s?.type}Retried`, details: { name: s?.name, attempt: e.retry?.attempt } };
    case 'StateCaught':
      return { ...base, type: `${s?.type}Caught`, details: { name: s?.name, next: e.catch?.catcher.Next } };
    default:
      return { ...base, type: e.type };
  }
}
