/**
 * A local Step Functions endpoint on 127.0.0.1: the actions `mds runs` uses, in the AWS JSON 1.0 protocol the
 * official client (@aws-sdk/client-sfn) speaks, so the same code reaches AWS and the laptop with an endpoint
 * override. Every request is `POST /` with `X-Amz-Target: AWSStepFunctions.<Action>` and an
 * `application/x-amz-json-1.0` body; a reply carries timestamps as epoch seconds, and an error is HTTP 400
 * with `{"__type": "<ErrorCode>", "message": ...}`, which the SDK raises as its typed exception
 * (ExecutionDoesNotExist, ExecutionNotRedrivable, ...).
 *
 * Actions: StartExecution, DescribeExecution, ListExecutions, GetExecutionHistory, RedriveExecution,
 * StopExecution, DescribeStateMachine, ListStateMachines. Executions run on the local executor (through the
 * `runner`, which runs the synthesized state machine) and are kept in an ExecutionStore.
 *
 * Redrive follows the Step Functions developer guide ("Redriving executions"): only an execution that did not
 * succeed, whose stop date is within the last 14 days, that was redriven fewer than 1,000 times and whose
 * history has fewer than 25,000 events; it continues at the unsuccessful state with the input that state had,
 * under the same execution ARN, and its history goes on after an ExecutionRedriven event.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runIdOfHistory } from '../../lambdas/core/run-id.ts';
import { ConsoleHistory, redrivePoint, type ConsoleEvent } from './console-history.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './definition.ts';
import type { ExecutionRecord, ExecutionStatus, ExecutionStore } from './execution-store.ts';
import type { HistoryEvent, LocalExecution, RedriveFrom } from './executor.ts';

/** Redrive limits of the Step Functions developer guide. */
export const REDRIVE_LIMITS = { days: 14, redrives: 1000, events: 25_000 } as const;

export interface RunRequest {
  readonly executionName: string;
  readonly input: unknown;
  readonly redrive?: RedriveFrom;
  readonly onEvent: (event: HistoryEvent) => void;
  readonly signal: AbortSignal;
}

export interface RunResult {
  readonly execution: LocalExecution;
  /** The run id of the published summary and report. @default the one the history names (run-id.ts) */
  readonly runId?: string;
}

/** Runs the state machine once (an execution, or a redrive of one). */
export type WorkflowRunner = (request: RunRequest) => Promise<RunResult>;

export interface SfnEndpointOptions {
  readonly stateMachineName: string;
  /** The state machine definition (Amazon States Language), as it runs. */
  readonly definition: () => Promise<Record<string, unknown>>;
  readonly runner: WorkflowRunner;
  readonly store: ExecutionStore;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** A listener reserved before (reserveEndpoint): the endpoint answers on it instead of a server of its own. */
  readonly on?: ReservedEndpoint;
  /**
   * Called when an attempt of an execution has stopped and its record is saved, before the endpoint counts it
   * as idle: the local EventBridge rule (local-workflow.ts hands a failed stop to the publisher).
   */
  readonly onStopped?: (record: ExecutionRecord) => Promise<void>;
  /** The clock the redrive limit is judged by. @default Date.now */
  readonly now?: () => number;
}

export interface LocalEndpoint {
  readonly url: string;
  /** Resolves when every execution this endpoint started has stopped. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export function stateMachineArnOf(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
}

const ROLE_ARN = `arn:aws:iam::${LOCAL_ACCOUNT}:role/local-workflow`;
// Execution names: 1-80 characters, none of whitespace, brackets, wildcards or "#%\^|~`$&,;:/ (StartExecution).
const NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;

const seconds = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso) / 1000);

export async function startSfnEndpoint(options: SfnEndpointOptions): Promise<LocalEndpoint> {
  const { store } = options;
  const now = options.now ?? Date.now;
  const machineArn = stateMachineArnOf(options.stateMachineName);
  const running = new Map<string, { done: Promise<void>; stop: AbortController }>();

  const record = (arn: unknown): ExecutionRecord => {
    const r = typeof arn === 'string' ? store.get(arn) : undefined;
    if (!r) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    return r;
  };
  const checkMachine = (arn: unknown) => {
    if (arn !== machineArn) {
      throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
    }
  };

  /** Runs one attempt of `r` in the background; its events go into the record as they happen. */
  const launch = async (r: ExecutionRecord, redrive?: RedriveFrom) => {
    const definition = (await options.definition()) as { States: Record<string, never> };
    const history = new ConsoleHistory(definition, ROLE_ARN);
    const base = r.events.length;
    if (redrive) history.redriven(r.redriveCount, r.redriveDate as string);
    const sync = () => {
      r.events = [
        ...r.events.slice(0, base),
        ...history.events.map((e) => ({ ...e, id: e.id + base, previousEventId: e.previousEventId + base })),
      ];
    };
    sync();
    store.save(r);
    const stop = new AbortController();
    const done = (async () => {
      try {
        const result = await options.runner({
          executionName: r.name,
          input: JSON.parse(r.input) as unknown,
          redrive,
          signal: stop.signal,
          onEvent: (e) => {
            history.push(e, redrive !== undefined);
            sync();
          },
        });
        const x = result.execution;
        for (const [state, s] of Object.entries(x.stateSeconds))
          r.stateSeconds[state] = (r.stateSeconds[state] ?? 0) + s;
        r.runId = result.runId ?? runIdOfHistory(r.events, r.name);
        r.stopDate = x.stopDate;
        if (stop.signal.aborted) {
          r.status = 'ABORTED';
        } else if (x.status === 'SUCCEEDED') {
          r.status = 'SUCCEEDED';
          r.output = JSON.stringify(x.output ?? null);
          r.error = undefined;
          r.cause = undefined;
        } else {
          r.status = 'FAILED';
          r.error = x.error;
          r.cause = x.cause;
        }
      } catch (err) {
        r.status = stop.signal.aborted ? 'ABORTED' : 'FAILED';
        r.error = (err as Error).name || 'Error';
        r.cause = (err as Error).message;
        r.stopDate = new Date().toISOString();
        const failed = { error: r.error, cause: r.cause };
        const id = r.events.length + 1;
        r.events.push({
          id,
          previousEventId: id - 1,
          timestamp: r.stopDate,
          type: 'ExecutionFailed',
          executionFailedEventDetails: failed,
        });
      }
      if (r.status === 'ABORTED') {
        const id = r.events.length + 1;
        r.events.push({
          id,
          previousEventId: id - 1,
          timestamp: r.stopDate ?? new Date().toISOString(),
          type: 'ExecutionAborted',
          executionAbortedEventDetails: { error: 'States.Aborted', cause: 'StopExecution' },
        });
      }
      store.save(r);
      await options.onStopped?.(r).catch((err: unknown) => {
        // As EventBridge does with an event its target cannot take: the execution is not changed by it.
        process.stderr.write(
          `the status change of ${r.name} (${r.status}) was not delivered: ${String(err)}\n`,
        );
      });
      running.delete(r.executionArn);
    })();
    running.set(r.executionArn, { done, stop });
  };

  const redriveRefusal = (r: ExecutionRecord): string | undefined => {
    if (r.status === 'RUNNING') return 'Execution is RUNNING and cannot be redriven';
    if (r.status === 'SUCCEEDED') return 'Execution is SUCCEEDED and cannot be redriven';
    const age = now() - Date.parse(r.stopDate ?? r.startDate);
    if (age > REDRIVE_LIMITS.days * 86_400_000) {
      return `Execution stopped on ${r.stopDate}, more than ${REDRIVE_LIMITS.days} days ago, and cannot be redriven`;
    }
    if (r.redriveCount >= REDRIVE_LIMITS.redrives) {
      return `Execution was redriven ${r.redriveCount} times, the most it can be`;
    }
    if (r.events.length >= REDRIVE_LIMITS.events) {
      return `Execution history has ${r.events.length} events, more than a redrive allows`;
    }
    if (!redrivePoint(r.events)) return 'Execution has no failed state to redrive';
    return undefined;
  };

  const describe = (r: ExecutionRecord) => {
    const refusal = redriveRefusal(r);
    return {
      executionArn: r.executionArn,
      stateMachineArn: r.stateMachineArn,
      name: r.name,
      status: r.status,
      startDate: seconds(r.startDate),
      stopDate: seconds(r.stopDate),
      input: r.input,
      inputDetails: { included: true },
      output: r.output,
      outputDetails: r.output === undefined ? undefined : { included: true },
      error: r.error,
      cause: r.cause,
      redriveCount: r.redriveCount,
      redriveDate: seconds(r.redriveDate),
      redriveStatus: refusal ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
      redriveStatusReason: refusal,
    };
  };

  const page = <T>(items: T[], body: Record<string, unknown>, max = 100) => {
    const limit = Number(body.maxResults) > 0 ? Math.min(Number(body.maxResults), 1000) : max;
    const from = typeof body.nextToken === 'string' ? Number(body.nextToken) : 0;
    if (!Number.isInteger(from) || from < 0) throw new AwsError('InvalidToken', 'Invalid Token');
    const next = from + limit < items.length ? String(from + limit) : undefined;
    return { items: items.slice(from, from + limit), nextToken: next };
  };

  const actions: Record<string, (body: Record<string, unknown>) => Promise<unknown> | unknown> = {
    StartExecution: async (body) => {
      checkMachine(body.stateMachineArn);
      const name = typeof body.name === 'string' ? body.name : crypto.randomUUID();
      if (!NAME.test(name)) throw new AwsError('InvalidName', `Invalid Name: '${name}'`);
      const input = typeof body.input === 'string' ? body.input : '{}';
      try {
        JSON.parse(input);
      } catch {
        throw new AwsError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${input}'`);
      }
      const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${options.stateMachineName}:${name}`;
      if (store.get(executionArn)) {
        throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
      }
      const r: ExecutionRecord = {
        executionArn,
        stateMachineArn: machineArn,
        name,
        status: 'RUNNING',
        startDate: new Date().toISOString(),
        input,
        redriveCount: 0,
        events: [],
        stateSeconds: {},
      };
      await launch(r);
      return { executionArn, startDate: seconds(r.startDate) };
    },
    DescribeExecution: (body) => describe(record(body.executionArn)),
    ListExecutions: (body) => {
      checkMachine(body.stateMachineArn);
      const filter = body.statusFilter as ExecutionStatus | undefined;
      const all = store.list().filter((r) => !filter || r.status === filter);
      const { items, nextToken } = page(all, body);
      return {
        executions: items.map((r) => ({
          executionArn: r.executionArn,
          stateMachineArn: r.stateMachineArn,
          name: r.name,
          status: r.status,
          startDate: seconds(r.startDate),
          stopDate: seconds(r.stopDate),
          redriveCount: r.redriveCount,
          redriveDate: seconds(r.redriveDate),
        })),
        nextToken,
      };
    },
    GetExecutionHistory: (body) => {
      const r = record(body.executionArn);
      const events = body.reverseOrder === true ? [...r.events].reverse() : r.events;
      const { items, nextToken } = page(events, body);
      return {
        events: items.map((e: ConsoleEvent) => ({ ...e, timestamp: seconds(e.timestamp) })),
        nextToken,
      };
    },
    RedriveExecution: async (body) => {
      const r = record(body.executionArn);
      const refusal = redriveRefusal(r);
      if (refusal) throw new AwsError('ExecutionNotRedrivable', refusal);
      const from = redrivePoint(r.events) as RedriveFrom;
      r.redriveCount += 1;
      r.redriveDate = new Date().toISOString();
      r.status = 'RUNNING';
      r.stopDate = undefined;
      await launch(r, from);
      return { redriveDate: seconds(r.redriveDate) };
    },
    StopExecution: (body) => {
      const r = record(body.executionArn);
      const run = running.get(r.executionArn);
      if (!run || r.status !== 'RUNNING') {
        throw new AwsError(
          'ValidationException',
          `Execution is ${r.status}; only a RUNNING one can be stopped`,
        );
      }
      run.stop.abort();
      return { stopDate: now() / 1000 };
    },
    DescribeStateMachine: async (body) => {
      checkMachine(body.stateMachineArn);
      return {
        stateMachineArn: machineArn,
        name: options.stateMachineName,
        status: 'ACTIVE',
        definition: JSON.stringify(await options.definition()),
        roleArn: ROLE_ARN,
        type: 'STANDARD',
        creationDate: 0,
      };
    },
    ListStateMachines: () => ({
      stateMachines: [
        { stateMachineArn: machineArn, name: options.stateMachineName, type: 'STANDARD', creationDate: 0 },
      ],
    }),
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handleJson10(req, res, actions);
  };
  const reserved = options.on ?? (await reserveEndpoint(options.port ?? 0));
  const detach = reserved.attach(listener);
  return {
    url: reserved.url,
    idle: async () => {
      while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
    },
    close: async () => {
      for (const r of running.values()) r.stop.abort();
      await Promise.all([...running.values()].map((r) => r.done));
      detach();
      if (!options.on) await reserved.close();
    },
  };
}

/**
 * A local endpoint's address before the endpoint itself: the Lambda functions are given it as
 * AWS_ENDPOINT_URL_SFN when they start, and the Step Functions endpoint answers on it once attached. Until
 * then, and after it detaches, a request is answered 503.
 */
export interface ReservedEndpoint {
  readonly url: string;
  attach(listener: (req: IncomingMessage, res: ServerResponse) => void): () => void;
  close(): Promise<void>;
}

export async function reserveEndpoint(port = 0): Promise<ReservedEndpoint> {
  let current: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (current) return current(req, res);
    res.writeHead(503, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(
      JSON.stringify({ __type: 'ServiceUnavailable', message: 'no local Step Functions endpoint is open' }),
    );
  });
  const url = await listen(server, port);
  return {
    url,
    attach: (listener) => {
      if (current) throw new Error(`a local Step Functions endpoint already answers on ${url}`);
      current = listener;
      return () => {
        if (current === listener) current = undefined;
      };
    },
    close: () => closeServer(server),
  };
}

async function handleJson10(
  req: IncomingMessage,
  res: ServerResponse,
  actions: Record<string, (body: Record<string, unknown>) => Promise<unknown> | unknown>,
): Promise<void> {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify(body));
  };
  try {
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = actions[target.replace(/^AWSStepFunctions\./, '')];
    const text = await readBody(req);
    if (req.method !== 'POST' || !target.startsWith('AWSStepFunctions.') || !action) {
      throw new AwsError('UnknownOperationException', `unknown operation ${target || '(no X-Amz-Target)'}`);
    }
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    reply(200, await action(body));
  } catch (err) {
    const e = err instanceof AwsError ? err : new AwsError('InternalFailure', (err as Error).message, 500);
    reply(e.status, { __type: e.code, message: e.message });
  }
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function listen(server: Server, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${address.port}`);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
