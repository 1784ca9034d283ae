/**
 * An on-failure destination in the object store, like the S3 destination of a Lambda Kafka mapping: one
 * JSON object per failed batch with the error, the batch's position and the whole event (records still
 * base64), so it can be inspected and replayed.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { putObjectBytes } from '../../lambdas/shared/s3.ts';
import { errorMessage } from '../../lambdas/shared/errors.ts';
import type { MskEvent } from '../../lambdas/consumer/msk-event.ts';

export const ESM_FAILURES_PREFIX = 'esm-failures/';

export interface FailedBatchRecord {
  readonly condition: 'RetryAttemptsExhausted';
  readonly error: string;
  readonly topicPartition: string;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly records: number;
  readonly event: MskEvent;
}

/**
 * Writes each failed batch to `<prefix><topic>-<partition>-<firstOffset>-<lastOffset>.json`; the key is
 * deterministic, so a batch that fails again after a restart replaces its own record.
 */
export function s3OnFailure(
  s3: S3Client,
  bucket: string,
  prefix: string = ESM_FAILURES_PREFIX,
): (event: MskEvent, error: unknown) => Promise<void> {
  return async (event, error) => {
    for (const [topicPartition, records] of Object.entries(event.records)) {
      const first = records[0];
      const last = records[records.length - 1];
      if (!first || !last) continue;
      const body: FailedBatchRecord = {
        condition: 'RetryAttemptsExhausted',
        error: errorMessage(error),
        topicPartition,
        firstOffset: first.offset,
        lastOffset: last.offset,
        records: records.length,
        event: { ...event, records: { [topicPartition]: records } },
      };
      await putObjectBytes(
        s3,
        bucket,
        `${prefix}${topicPartition}-${first.offset}-${last.offset}.json`,
        JSON.stringify(body),
        {
          contentType: 'application/json',
          metadata: { records: String(records.length) },
        },
      );
    }
  };
}
