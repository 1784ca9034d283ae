/**
 * The local Step Functions and Scheduler endpoints over a local data directory, as `mds runs` and
 * `mds schedule` use them: executions are kept in <data>/executions/, the schedule in
 * <data>/workflow-schedule.json. An execution runs the synthesized state machine on the local services
 * (localstack/pipeline/workflow.ts); the services start with the first execution, holding the data directory's
 * lock as `mds run` does, and stop when the endpoints close.
 *
 * An execution that stops FAILED, TIMED_OUT or ABORTED is handed to the Publisher function as the deployed
 * EventBridge rule hands it (lib/constructs/run-failure-rule.ts): its "Execution Status Change" event, to the
 * publisher's bundle in the local Lambda runtime, which reads the execution back from this endpoint
 * (AWS_ENDPOINT_URL_SFN) and writes the failed run's summary.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunSummary } from '../../lambdas/core/run-summary.ts';
import { MdsError } from '../../lambdas/core/errors.ts';
import { loadConfig } from '../../lib/config/environments.ts';
import { LOCAL_DEFAULTS, ensureDirectory, localPaths } from '../paths.ts';
import { acquireLock, type Lock } from '../state.ts';
import type { Endpoints } from '../pipeline/endpoint-settings.ts';
import type { LocalServices } from '../pipeline/services.ts';
import type { LocalRun, LocalRunOptions } from '../pipeline/workflow.ts';
import { runDir } from '../state.ts';
import type { LocalExecution } from './executor.ts';
import { ExecutionStore, executionsDir, type ExecutionRecord } from './execution-store.ts';
import { ScheduleStore, scheduleFile, startSchedulerEndpoint } from './scheduler-endpoint.ts';
import {
  reserveEndpoint,
  startSfnEndpoint,
  stateMachineArnOf,
  type LocalEndpoint,
  type ReservedEndpoint,
  type WorkflowRunner,
} from './sfn-endpoint.ts';
import { isUnsuccessful, statusChangeEvent } from './status-change.ts';

export const LOCAL_STATE_MACHINE = 'mds-local-workflow';

/** How one execution's attempts run locally: progress callbacks and test hooks (LocalRunOptions). */
export type AttemptOptions = Pick<
  LocalRunOptions,
  'onEvent' | 'dbtLog' | 'retryIntervalMs' | 'injectDbtFailures'
>;

export interface LocalWorkflowEndpoints {
  readonly sfnUrl: string;
  readonly schedulerUrl: string;
  readonly stateMachineArn: string;
  readonly scheduleName: string;
  readonly store: ExecutionStore;
  readonly schedule: ScheduleStore;
  /** How the attempts of the execution of this name run (set before StartExecution). */
  prepare(executionName: string, options: AttemptOptions): void;
  /** Resolves when no execution is running. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function openLocalWorkflow(options: {
  readonly dataDir: string;
  /** A cloud assembly folder to run instead of synthesizing the sources. */
  readonly assembly?: string;
  readonly brokerPort?: number;
  readonly s3Port?: number;
  /**
   * Services already running (`mds local up`): executions run on them, on their endpoint (shared by every
   * opener; close() closes the Scheduler endpoint only), and nothing is started.
   */
  readonly services?: LocalServices;
  /** External Kafka, S3 and warehouse for the services it starts. */
  readonly endpoints?: Endpoints;
}): Promise<LocalWorkflowEndpoints> {
  const root = localPaths(options.dataDir).root;
  // Refuses a --data where no directory can be made (under /proc, say) at once, naming the flag.
  await ensureDirectory(root, '--data');
  await ensureDirectory(executionsDir(root), '--data');
  const stateMachineArn = stateMachineArnOf(LOCAL_STATE_MACHINE);
  const schedule = new ScheduleStore(loadConfig('dev').schedule, stateMachineArn, scheduleFile(root));
  // Running services have their endpoint already (the one their functions call): it is shared.
  if (options.services) return withScheduler(await servicesSfn(options.services), schedule);
  const store = new ExecutionStore(executionsDir(root));
  const reserved = await reserveEndpoint();

  let session: Promise<{ services: LocalServices; lock: Lock | undefined }> | undefined;
  const services = () => {
    if (options.services) return Promise.resolve({ services: options.services, lock: undefined });
    session ??= (async () => {
      const lock = await acquireLock(options.dataDir, 'mds runs');
      try {
        const { startLocalServices } = await import('../pipeline/services.ts');
        const { assertAssemblyFresh, readAssembly } = await import('../lambda/assembly.ts');
        const assembly = options.assembly ? readAssembly(path.resolve(options.assembly), 'dev') : undefined;
        if (assembly) assertAssemblyFresh(assembly);
        const s = await startLocalServices({
          dataDir: options.dataDir,
          brokerPort: options.brokerPort ?? LOCAL_DEFAULTS.brokerPort,
          s3Port: options.s3Port ?? LOCAL_DEFAULTS.s3Port,
          assembly,
          sfnEndpoint: reserved,
          endpoints: options.endpoints,
        });
        await lock.update({ broker: s.broker.bootstrap, s3: s.s3Server.endpoint });
        return { services: s, lock };
      } catch (err) {
        await lock.release();
        throw err;
      }
    })();
    return session;
  };

  const sfn = await openSfn(store, reserved, async () => (await services()).services);
  const endpoints = await withScheduler(sfn, schedule);
  return {
    ...endpoints,
    close: async () => {
      await sfn.close();
      await endpoints.close();
      await reserved.close();
      if (session) {
        const { services: s, lock } = await session.catch(() => ({ services: undefined, lock: undefined }));
        await s?.close();
        await lock?.release();
      }
    },
  };
}

/** The Step Functions endpoint on `reserved`: executions run on the services, failures go to the publisher. */
async function openSfn(
  store: ExecutionStore,
  reserved: ReservedEndpoint,
  services: () => Promise<LocalServices>,
): Promise<LocalSfn> {
  const prepared = new Map<string, AttemptOptions>();
  const attempts = new Map<string, LocalExecution>();
  const runner: WorkflowRunner = async (request) => {
    const s = await services();
    const { runAttempt } = await import('../pipeline/workflow.ts');
    await s.mapping.drained(5 * 60_000);
    const input = request.input as { window?: { start: string; end: string } };
    const attempt = prepared.get(request.executionName);
    const run = await runAttempt(s, {
      ...attempt,
      window: input.window,
      executionName: request.executionName,
      redrive: request.redrive,
      onEvent: (e) => {
        request.onEvent(e);
        attempt?.onEvent?.(e);
      },
    });
    attempts.set(request.executionName, run.execution);
    return { execution: run.execution };
  };
  const endpoint = await startSfnEndpoint({
    stateMachineName: LOCAL_STATE_MACHINE,
    store,
    runner,
    on: reserved,
    definition: async () => {
      const s = await services();
      const { localDefinition } = await import('../pipeline/workflow.ts');
      return localDefinition(s.assembly, s.bucket);
    },
    onStopped: async (record) => {
      // Services that could not start failed the execution themselves (its cause says why): nothing to publish.
      const s = await services().catch(() => undefined);
      if (s) await stopped(s, record);
    },
  });
  return {
    ...endpoint,
    store,
    prepare: (name, o) => prepared.set(name, o),
    lastAttempt: (name) => attempts.get(name),
  };
}

/**
 * When an execution stopped: a failure goes to the Publisher function as its status-change event, as the
 * deployed EventBridge rule delivers it; then the summary the publisher wrote is kept under runs/<runId>/ with
 * the history and step timings.
 */
async function stopped(services: LocalServices, record: ExecutionRecord): Promise<void> {
  if (isUnsuccessful(record.status)) await services.lambda.invoke('Publisher', statusChangeEvent(record));
  const { keepRunLocally } = await import('../pipeline/workflow.ts');
  if (record.runId) await keepRunLocally(services, record.runId, record.stateSeconds, record.events);
}

interface LocalSfn extends LocalEndpoint {
  readonly store: ExecutionStore;
  prepare(executionName: string, options: AttemptOptions): void;
  /** The executor's account of the execution's last attempt in this process. */
  lastAttempt(executionName: string): LocalExecution | undefined;
}

/** One endpoint per set of running services, on their reserved address, over their data directory. */
const opened = new WeakMap<LocalServices, Promise<LocalSfn>>();

function servicesSfn(services: LocalServices): Promise<LocalSfn> {
  let sfn = opened.get(services);
  if (!sfn) {
    const store = new ExecutionStore(executionsDir(services.paths.root));
    sfn = openSfn(store, services.sfnEndpoint, () => Promise.resolve(services));
    opened.set(services, sfn);
  }
  return sfn;
}

/** The Scheduler endpoint beside a Step Functions endpoint; close() closes the Scheduler endpoint only. */
async function withScheduler(sfn: LocalSfn, schedule: ScheduleStore): Promise<LocalWorkflowEndpoints> {
  const scheduler = await startSchedulerEndpoint(schedule);
  return {
    sfnUrl: sfn.url,
    schedulerUrl: scheduler.url,
    stateMachineArn: stateMachineArnOf(LOCAL_STATE_MACHINE),
    scheduleName: schedule.get().name,
    store: sfn.store,
    schedule,
    prepare: (name, o) => sfn.prepare(name, o),
    idle: () => sfn.idle(),
    close: () => scheduler.close(),
  };
}

/**
 * One execution on the services' endpoint: StartExecution with the official client, then the wait until it
 * stopped and its summary is kept (runWorkflowLocally).
 */
export async function startLocalExecution(
  services: LocalServices,
  options: LocalRunOptions,
): Promise<LocalRun> {
  const sfn = await servicesSfn(services);
  const name = options.executionName ?? `local-${randomUUID()}`;
  sfn.prepare(name, options);
  const client = new SFNClient({
    endpoint: sfn.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  let executionArn: string;
  try {
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: stateMachineArnOf(LOCAL_STATE_MACHINE),
        name,
        input: JSON.stringify(options.window ? { window: options.window } : {}),
      }),
    );
    executionArn = started.executionArn as string;
  } finally {
    client.destroy();
  }
  await sfn.idle();
  const record = sfn.store.get(executionArn);
  const execution = sfn.lastAttempt(name);
  if (!record || !execution) {
    throw new MdsError(
      `the local execution ${name} did not run: ${record?.error ?? ''}: ${record?.cause ?? ''}`,
    );
  }
  const dir = record.runId ? runDir(services.paths.root, record.runId) : undefined;
  const summary = dir
    ? await readFile(path.join(dir, 'summary.json'), 'utf8')
        .then((text) => JSON.parse(text) as RunSummary)
        .catch(() => undefined)
    : undefined;
  return { execution, summary, runDir: summary ? dir : undefined };
}
