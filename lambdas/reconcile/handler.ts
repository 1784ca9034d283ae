/** Reconcile: the window's checks, object by object, event by event; a mismatch fails the run. */
import { S3Client } from '@aws-sdk/client-s3';
import { reconcileEnv } from './env.ts';
import type { RunWindow } from '../core/run-summary.ts';
import { openWarehouse, warehouseConfigFromEnv } from '../core/warehouse/config.ts';
import { reconcileOrFail, type ReconcileResult } from './reconcile.ts';

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
