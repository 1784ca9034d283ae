/**
 * Where the local embedded default keeps its state, and the fixed local settings.
 * One data directory holds everything: broker logs, the S3 server's files, the DuckDB warehouse, run summaries.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_DATA_DIR = path.join(PROJECT_ROOT, '.mds-data');

export const LOCAL_DEFAULTS = {
  topic: 'spotify-events',
  partitions: 3,
  brokerPort: 9092,
  s3Port: 4569,
  dashboardPort: 3000,
  bucket: 'mds-local',
  region: 'us-east-1',
  consumerGroup: 'mds-bronze-landing',
  /** Execution environments of the Consumer function in the local pipeline. */
  consumerThreads: 2,
  /**
   * Local speed-ups over the consumer's event source mapping (reported as overrides): larger batches and a
   * shorter window than the deployed dev mapping's (1,000 records / 10 s), so a laptop lands a million events
   * in seconds. The template's retry limit and starting position are kept.
   */
  mappingOverrides: { batchSize: 10_000, batchingWindowMs: 1_000 },
} as const;

export interface LocalPaths {
  readonly root: string;
  readonly broker: string;
  readonly s3: string;
  readonly warehouse: string;
  readonly runs: string;
  readonly state: string;
}

export function localPaths(dataDir: string = DEFAULT_DATA_DIR): LocalPaths {
  const root = path.resolve(dataDir);
  return {
    root,
    broker: path.join(root, 'broker'),
    s3: path.join(root, 's3'),
    warehouse: path.join(root, 'warehouse.duckdb'),
    runs: path.join(root, 'runs'),
    state: path.join(root, 'state.json'),
  };
}
