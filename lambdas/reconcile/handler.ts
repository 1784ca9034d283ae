/** Reconcile: the window's checks, object by object, event by event; a mismatch fails the run. */
import { S3Client } from '@aws-sdk/client-s3';
import { reconcileEnv } from './env.ts';
import type { RunWindow } from '../core/run-summary.ts';
import { openWarehouse, warehouseConfigFromEnv } from '../core/warehouse/config.ts';
import {
  ReconciliationError,
  reconcileWindow,
  type ReconcileDeps,
  type ReconcileRequest,
  type ReconcileResult,
} from './reconcile.ts';

const s3 = new S3Client({});

export interface ReconcileEvent {
  readonly runId: string;
  readonly window: RunWindow;
  readonly runStartedAt: string;
}

export const handler = async (event: ReconcileEvent): Promise<ReconcileResult> => {
  const { BUCKET_NAME: bucket } = reconcileEnv.read(process.env);
  const warehouse = await openWarehouse(warehouseConfigFromEnv(process.env));
  try {
    return await reconcileOrFail({ s3, bucket, warehouse }, event);
  } finally {
    await warehouse.close();
  }
};

/** What the handler does once its dependencies are open: reconcile, and fail with ReconciliationError on a mismatch. */
export async function reconcileOrFail(
  deps: ReconcileDeps,
  request: ReconcileRequest,
): Promise<ReconcileResult> {
  return assertReconciled(await reconcileWindow(deps, request));
}

/** Fails with every mismatching check named, so the run's cause says what did not add up. */
export function assertReconciled(result: ReconcileResult): ReconcileResult {
  if (result.ok) return result;
  const bad = result.checks
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: expected ${c.expected}, got ${c.actual}${c.detail ? ` (${c.detail})` : ''}`);
  throw new ReconciliationError(`reconciliation failed: ${bad.join('; ')}`);
}
