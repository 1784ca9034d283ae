/**
 * The local Step Functions and Scheduler endpoints over a local data directory, as `mds runs` and
 * `mds schedule` use them: executions are kept in <data>/executions/, the schedule in
 * <data>/workflow-schedule.json. An execution runs the synthesized state machine on the local services
 * (localstack/pipeline/workflow.ts); the services start with the first execution, holding the data directory's
 * lock as `mds run` does, and stop when the endpoints close.
 */
import path from 'node:path';
import { loadConfig } from '../../lib/config/environments.ts';
import { LOCAL_DEFAULTS, ensureDirectory, localPaths } from '../paths.ts';
import { acquireLock, type Lock } from '../state.ts';
import type { Endpoints } from '../pipeline/endpoint-settings.ts';
import type { LocalServices } from '../pipeline/services.ts';
import { ExecutionStore, executionsDir } from './execution-store.ts';
import { ScheduleStore, scheduleFile, startSchedulerEndpoint } from './scheduler-endpoint.ts';
import { startSfnEndpoint, stateMachineArnOf, type WorkflowRunner } from './sfn-endpoint.ts';

export const LOCAL_STATE_MACHINE = 'mds-local-workflow';

export interface LocalWorkflowEndpoints {
  readonly sfnUrl: string;
  readonly schedulerUrl: string;
  readonly stateMachineArn: string;
  readonly scheduleName: string;
  readonly store: ExecutionStore;
  readonly schedule: ScheduleStore;
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
  /** Services already running (`mds local up` serving): executions run on them, and nothing is started. */
  readonly services?: LocalServices;
  /** External Kafka, S3 and warehouse for the services it starts. */
  readonly endpoints?: Endpoints;
}): Promise<LocalWorkflowEndpoints> {
  const root = localPaths(options.dataDir).root;
  // Refuses a --data where no directory can be made (under /proc, say) at once, naming the flag.
  await ensureDirectory(root, '--data');
  await ensureDirectory(executionsDir(root), '--data');
  const store = new ExecutionStore(executionsDir(root));
  const stateMachineArn = stateMachineArnOf(LOCAL_STATE_MACHINE);
  const schedule = new ScheduleStore(loadConfig('dev').schedule, stateMachineArn, scheduleFile(root));

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

  const runner: WorkflowRunner = async (request) => {
    const { services: s } = await services();
    const { runWorkflowLocally } = await import('../pipeline/workflow.ts');
    await s.mapping.drained(5 * 60_000);
    const input = request.input as { window?: { start: string; end: string } };
    const run = await runWorkflowLocally(s, {
      window: input.window,
      executionName: request.executionName,
      redrive: request.redrive,
      onEvent: request.onEvent,
    });
    return { execution: run.execution, runId: run.summary?.runId };
  };

  const sfn = await startSfnEndpoint({
    stateMachineName: LOCAL_STATE_MACHINE,
    store,
    runner,
    definition: async () => {
      const { services: s } = await services();
      const { localDefinition } = await import('../pipeline/workflow.ts');
      return localDefinition(s.assembly, s.bucket);
    },
  });
  const scheduler = await startSchedulerEndpoint(schedule);
  return {
    sfnUrl: sfn.url,
    schedulerUrl: scheduler.url,
    stateMachineArn,
    scheduleName: schedule.get().name,
    store,
    schedule,
    idle: () => sfn.idle(),
    close: async () => {
      await sfn.close();
      await scheduler.close();
      if (session) {
        const { services: s, lock } = await session.catch(() => ({ services: undefined, lock: undefined }));
        await s?.close();
        await lock?.release();
      }
    },
  };
}
