/** The consumer's environment: written by the ingest stack, read by the handler on its first invocation. */
import { BRONZE_PREFIX, QUARANTINE_PREFIX } from '../shared/bronze.ts';
import { BUCKET_NAME, envContract, envFolderPrefix, envInt } from '../shared/env.ts';
import { DEFAULT_GZIP_LEVEL } from './land.ts';

export const consumerEnv = envContract('the consumer function', {
  BUCKET_NAME,
  BRONZE_PREFIX: envFolderPrefix('the folder of the Bronze objects', BRONZE_PREFIX),
  QUARANTINE_PREFIX: envFolderPrefix('the folder of quarantined records', QUARANTINE_PREFIX),
  GZIP_LEVEL: envInt('the gzip level of the objects, 1 (fastest) to 9 (smallest)', 1, 9, DEFAULT_GZIP_LEVEL),
});
