/**
 * The local RunDbt does what the dbt image's entrypoint does (dbt/entrypoint.py): `dbt source freshness` first,
 * and a source past its error_after fails the task with its cause, uploads manifest.json and sources.json
 * beside the run summary, and builds nothing. An empty Bronze is stale, as dbt has it (an empty source errs).
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getObjectBytes, listAllObjects } from '../../lambdas/core/s3.ts';
import { openSynthesizedWorkflow, plannedRunId, type SynthesizedWorkflow } from './synthesized.ts';

let w: SynthesizedWorkflow;

beforeAll(async () => {
  w = await openSynthesizedWorkflow('mds-freshness-');
}, 300_000);

afterAll(async () => w?.close());

it('fails RunDbt on a stale Bronze with the freshness cause, uploads sources.json and builds nothing', async () => {
  // Prepare: nothing was ever landed, so bronze.listening_events has no rows.
  const { services, workflow, sfn } = w;
  workflow.prepare('stale-bronze', { retryIntervalMs: 10 });

  // Act
  const started = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: workflow.stateMachineArn,
      name: 'stale-bronze',
      input: JSON.stringify({
        window: { start: '2026-11-21T00:00:00.000Z', end: '2026-11-21T01:00:00.000Z' },
      }),
    }),
  );
  await workflow.idle();

  // Assess
  const failed = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
  expect(failed.status).toBe('FAILED');
  expect(failed.cause).toContain('dbt source freshness failed, dbt build did not run');
  expect(failed.cause).toContain('source.spotify_mds.bronze.listening_events is stale');
  const history = (await sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn })))
    .events as HistoryEvent[];
  const runId = plannedRunId(history);
  const objects = await listAllObjects(services.s3, services.bucket, `runs/${runId}/dbt/`);
  expect(objects.map((o) => o.key.split('/').pop()).sort()).toEqual(['manifest.json', 'sources.json']);
  const sources = JSON.parse(
    Buffer.from(
      await getObjectBytes(services.s3, services.bucket, `runs/${runId}/dbt/sources.json`),
    ).toString(),
  ) as { results: { unique_id: string; status: string; max_loaded_at: string | null }[] };
  expect(sources.results).toEqual([
    expect.objectContaining({
      unique_id: 'source.spotify_mds.bronze.listening_events',
      status: 'error',
      max_loaded_at: null,
    }),
  ]);
  const gold = await services.warehouse.query(
    "select count(*) as n from information_schema.tables where table_schema = 'gold'",
  );
  expect(Number(gold[0]?.n)).toBe(0);
}, 300_000);
