/** The consumer's environment: written by the ingest stack, read by the handler on its first invocation. */
import { BRONZE_PREFIX, QUARANTINE_PREFIX } from '../core/bronze.ts';
import { BUCKET_NAME, envContract, envFolderPrefix, envInstant, envInt } from '../core/env.ts';
import { DEFAULT_EVENT_TIME_EARLIEST, DEFAULT_GZIP_LEVEL, DEFAULT_MAX_EVENT_AHEAD_MINUTES } from './land.ts';

export const consumerEnv = envContract('the consumer function', {
  BUCKET_NAME,
  BRONZE_PREFIX: envFolderPrefix('the folder of the Bronze objects', BRONZE_PREFIX),
  QUARANTINE_PREFIX: envFolderPrefix('the folder of quarantined records', QUARANTINE_PREFIX),
  GZIP_LEVEL: envInt('the gzip level of the objects, 1 (fastest) to 9 (smallest)', 1, 9, DEFAULT_GZIP_LEVEL),
  EVENT_TIME_EARLIEST: envInstant(
    'the earliest event time accepted, an ISO-8601 instant (consumer.earliestEventTime); older events are quarantined',
    DEFAULT_EVENT_TIME_EARLIEST,
  ),
  EVENT_TIME_MAX_AHEAD_MINUTES: envInt(
    "the minutes an event time may run ahead of its record's Kafka timestamp (consumer.maxEventAheadMinutes)",
    0,
    10_080,
    DEFAULT_MAX_EVENT_AHEAD_MINUTES,
  ),
});
