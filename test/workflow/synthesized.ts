/**
 * The deployed definition on the local services: the state machine `cdk synth` emits, the synthesized
 * bundles in the local Lambda runtime, and the local Step Functions endpoint reached with the official client.
 */
import { SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalServices, type LocalServices } from '../../localstack/pipeline/services.ts';
import { openLocalWorkflow, type LocalWorkflowEndpoints } from '../../localstack/workflow/local-workflow.ts';
import { localClientConfig } from './local-endpoints.ts';

export interface SynthesizedWorkflow {
  readonly dataDir: string;
  readonly services: LocalServices;
  readonly workflow: LocalWorkflowEndpoints;
  readonly sfn: SFNClient;
  /** Stops the client, the workflow and the services (once), keeping the data directory. */
  stop(): Promise<void>;
  /** stop(), then removes the data directory. */
  close(): Promise<void>;
}

/** Starts the services in a temp data directory, runs `seed` on them (Bronze to land, say), opens the workflow. */
export async function openSynthesizedWorkflow(
  prefix: string,
  seed: (services: LocalServices) => Promise<unknown> = async () => undefined,
): Promise<SynthesizedWorkflow> {
  const dataDir = await mkdtemp(path.join(tmpdir(), prefix));
  const services = await startLocalServices({ dataDir, brokerPort: 0, s3Port: 0 });
  await seed(services);
  const workflow = await openLocalWorkflow({ dataDir, services });
  const sfn = new SFNClient(localClientConfig(workflow.sfnUrl));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      sfn.destroy();
      await workflow.close();
      await services.close();
    })());
  return {
    dataDir,
    services,
    workflow,
    sfn,
    stop,
    close: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The planner's run id, from the input of the RunDbt state the history entered. */
export function plannedRunId(history: readonly HistoryEvent[]): string {
  const entered = history.find((e) => e.stateEnteredEventDetails?.name === 'RunDbt');
  return (JSON.parse(entered?.stateEnteredEventDetails?.input ?? '{}') as { plan: { runId: string } }).plan
    .runId;
}
