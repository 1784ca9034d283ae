/**
 * The LoadBronze task of the hourly workflow: loads the window's new Bronze objects into the warehouse
 * through `loadBronze`. Thin wiring only: configuration, logging, metrics.
 *
 * Input (from the state machine): { runId, windowStart, windowEnd, lookbackHours }.
 * Environment: BUCKET_NAME (required), the warehouse settings of `warehouseConfigFromEnv` (WAREHOUSE,
 * SNOWFLAKE_*, POSTGRES_URL, DUCKDB_PATH, ON_ERROR), and the Powertools variables.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '../shared/errors.ts';
import { openWarehouse, warehouseConfigFromEnv } from '../shared/warehouse/config.ts';
import { loadBronze, type LoadResult } from './load.ts';

export interface LoadEvent {
  readonly runId?: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly lookbackHours?: number;
}

const logger = new Logger({ serviceName: 'mds-loader' });
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'mds',
  serviceName: 'mds-loader',
});
const s3 = new S3Client({});

export const handler = async (event: LoadEvent): Promise<LoadResult> => {
  const bucket = process.env.BUCKET_NAME?.trim();
  if (!bucket) throw new ConfigError('BUCKET_NAME', 'is not set', 'Set it to the name of the Bronze bucket');
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
        onError: config.onError,
      },
    );
    logger.info('Bronze loaded', { ...result, errors: result.errors.slice(0, 20) });
    metrics.addMetric('ObjectsLoaded', MetricUnit.Count, result.objectsLoaded);
    metrics.addMetric('ObjectsFailed', MetricUnit.Count, result.objectsFailed);
    metrics.addMetric('RowsLoaded', MetricUnit.Count, result.rowsLoaded);
    metrics.addMetric('LoadErrors', MetricUnit.Count, result.errors.length);
    return result;
  } finally {
    metrics.publishStoredMetrics();
    await warehouse.close();
  }
};
