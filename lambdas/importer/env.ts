/** The import function's environment: written by the history-import construct, read on every invocation. */
import { BUCKET_NAME, envContract, envFolderPrefix, envString } from '../core/env.ts';
import { KAFKA_AUTH } from '../core/kafka.ts';

/** Where exports are uploaded in the Bronze bucket, and where the summary of each import goes. */
export const IMPORTS_PREFIX = 'imports/';
export const IMPORT_SUMMARIES_PREFIX = 'import-summaries/';

export const importerEnv = envContract('the import function', {
  BUCKET_NAME,
  IMPORTS_PREFIX: envFolderPrefix('the folder whose new objects are imported', IMPORTS_PREFIX),
  SUMMARIES_PREFIX: envFolderPrefix('the folder of the per-import summaries', IMPORT_SUMMARIES_PREFIX),
  KAFKA_BROKERS: envString('the comma-separated host:port list of the brokers'),
  KAFKA_TOPIC: envString('the topic the events go to', 'spotify-events'),
  KAFKA_AUTH,
  AWS_REGION: envString('the region MSK IAM tokens are signed for (set by Lambda)', ''),
});
