/**
 * The LoadBronze task of the hourly workflow: loads the window's new Bronze objects into the warehouse
 * through `loadBronze`. Thin wiring only: configuration, logging, metrics.
 *
 * Input (from the state machine): { runId, windowStart, windowEnd, lookbackHours, previous }. The load stops
 * before the invocation's deadline and returns `complete: false`; the workflow calls again with `previous`.
 * Environment (env.ts): BUCKET_NAME, the warehouse settings of `warehouseConfigFromEnv` (WAREHOUSE,
 * SNOWFLAKE_*, POSTGRES_URL, DUCKDB_PATH, ON_ERROR), and the Powertools variables.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { openWarehouse, warehouseConfigFromEnv } from '../core/warehouse/config.ts';
import { loaderEnv } from './env.ts';
import { loadBronze, type LoadResult } from './load.ts';

export interface LoadEvent {
  readonly runId?: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly lookbackHours?: number;
  /** The previous call's partial result, when the load is being continued. */
  readonly previous?: LoadResult | null;
}

// Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE.
const logger = new Logger();
const metrics = new Metrics();
const s3 = new S3Client({});

export const handler = async (
  event: LoadEvent,
  context: { getRemainingTimeInMillis(): number },
): Promise<LoadResult> => {
  const { BUCKET_NAME: bucket } = loaderEnv.read(process.env);
  const config = warehouseConfigFromEnv(process.env);
  logger.appendKeys({ runId: event.runId });
  const warehouse = await openWarehouse(config);
  try {
    const result = await loadBronze(
      { s3, bucket, warehouse },
      {
        windowStart: event.windowStart,
        windowEnd: event.windowEnd,
        lookbackHours: event.lookbackHours,
        previous: event.previous,
        onError: config.onError,
        deadlineMs: Date.now() + context.getRemainingTimeInMillis(),
      },
    );
    logger.info(result.complete ? 'Bronze loaded' : 'Bronze load continues in the next call', {
      ...result,
      errors: result.errors.slice(0, 20),
    });
    // The result is a running total over the calls of one load: the metrics count this call's share.
    const before = event.previous;
    metrics.addMetric('ObjectsLoaded', MetricUnit.Count, result.objectsLoaded - (before?.objectsLoaded ?? 0));
    metrics.addMetric('ObjectsFailed', MetricUnit.Count, result.objectsFailed - (before?.objectsFailed ?? 0));
    metrics.addMetric('RowsLoaded', MetricUnit.Count, result.rowsLoaded - (before?.rowsLoaded ?? 0));
    if (result.complete) metrics.addMetric('LoadErrors', MetricUnit.Count, result.errors.length);
    return result;
  } finally {
    metrics.publishStoredMetrics();
    await warehouse.close();
  }
};
