/**
 * The synthesized workflow, executed locally, with the real loader behind LoadBronze, called as the
 * Lambda handler calls it: the payload as the request, plus the policy and a deadline. A deadline that
 * has always passed makes every call stop after one step, so the loop has to carry the load to the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBronze, type LoadRequest, type LoadResult } from '../../lambdas/loader/load.ts';
import { planWindow } from '../../lambdas/planner/plan.ts';
import { openDuckDbWarehouse, type DuckDbWarehouse } from '../../lambdas/core/warehouse/duckdb.ts';
import { HOUR_MS } from '../../lambdas/core/window.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import { executeLocally, type LocalTask } from '../../localstack/workflow/executor.ts';
import { synthesizeLocalWorkflow } from '../../localstack/workflow/definition.ts';
import { STATE } from '../../stepfunctions/workflow.ts';
import { bronzeRows, expectedRows, putBronze, records, type PutObject } from '../loader/bronze-fixtures.ts';

const BUCKET = 'bronze-loop';
let dir: string;
let s3server: LocalS3;
let s3: S3Client;
let unboundedWh: DuckDbWarehouse;
let loopedWh: DuckDbWarehouse;
let definition: Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-load-loop-'));
  s3server = await startLocalS3({ directory: path.join(dir, 's3'), buckets: [BUCKET] });
  s3 = s3server.client();
  unboundedWh = await openDuckDbWarehouse({ path: path.join(dir, 'unbounded.duckdb') });
  loopedWh = await openDuckDbWarehouse({ path: path.join(dir, 'looped.duckdb') });
  definition = synthesizeLocalWorkflow().definition;
});
afterAll(async () => {
  await unboundedWh?.close();
  await loopedWh?.close();
  s3?.destroy();
  await s3server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the workflow load loop, with the real loader', () => {
  it('calls LoadBronze until the load is complete, then runs dbt once with the total of one unbounded load', async () => {
    // Prepare: two days, an object in every third hour; batches of 2 stand for production's 500
    const start = Date.parse('2025-03-01T00:00:00Z');
    const objects: PutObject[] = [];
    for (let h = 1; h < 48; h += 3) {
      const hour = new Date(start + h * HOUR_MS);
      objects.push(await putBronze(s3, BUCKET, hour, records(hour, 5 + (h % 4), h)));
    }
    const window = {
      start: new Date(start).toISOString(),
      end: new Date(start + 48 * HOUR_MS).toISOString(),
    };
    const loadCalls: LoadRequest[] = [];
    const order: string[] = [];
    const stub =
      (name: string, answer: unknown): LocalTask =>
      async () => {
        order.push(name);
        return answer;
      };

    // Act
    const execution = await executeLocally({
      definition,
      input: { window },
      executionName: 'loop-1',
      tasks: {
        [STATE.plan]: async (payload) =>
          planWindow(payload as never, new Date(), { maxWindowDays: 92, lookbackHours: 0 }),
        // As lambdas/loader/handler.ts calls it: { ...event, onError, deadlineMs }.
        [STATE.load]: async (payload) => {
          order.push(STATE.load);
          loadCalls.push(payload as LoadRequest);
          return loadBronze(
            { s3, bucket: BUCKET, warehouse: loopedWh },
            { ...(payload as LoadRequest), onError: 'CONTINUE', batchSize: 2, deadlineMs: Date.now() - 1 },
          );
        },
        [STATE.dbt]: stub(STATE.dbt, { TaskArn: 'arn:task/1', StartedAt: 1, StoppedAt: 2 }),
        [STATE.reconcile]: stub(STATE.reconcile, { ok: true, checks: [] }),
        [STATE.publish]: stub(STATE.publish, {}),
      },
    });
    const unbounded = await loadBronze(
      { s3, bucket: BUCKET, warehouse: unboundedWh },
      { windowStart: window.start, windowEnd: window.end, lookbackHours: 0, batchSize: 2 },
    );

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const output = execution.output as { load: LoadResult; loadLoop: { invocation: number } };
    expect(unbounded).toMatchObject({ complete: true, objectsLoaded: objects.length });
    expect(output.load).toEqual(unbounded);
    expect(loadCalls.length).toBeGreaterThan(objects.length / 2);
    expect(output.loadLoop.invocation).toBe(loadCalls.length);
    expect(loadCalls[0]?.previous).toBeNull();
    for (const call of loadCalls.slice(1)) expect(call.previous?.complete).toBe(false);
    expect(order).toEqual([...loadCalls.map(() => STATE.load), STATE.dbt, STATE.reconcile, STATE.publish]);
    expect(await bronzeRows(loopedWh)).toEqual(expectedRows(objects));
    const entered = execution.history.filter(
      (e) => e.type === 'TaskStateEntered' && e.details?.name === STATE.load,
    );
    expect(entered).toHaveLength(loadCalls.length);
  });
});
