/**
 * An on-failure destination in the object store, like the S3 destination of a Lambda Kafka mapping: one
 * JSON object per failed batch with the condition, the error, the batch's position and the whole event
 * (records still base64), so it can be inspected and replayed.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { putObjectBytes } from '../../lambdas/core/s3.ts';
import { errorMessage } from '../../lambdas/core/errors.ts';
import type { MskEvent } from '../../lambdas/consumer/msk-event.ts';

export const ESM_FAILURES_PREFIX = 'esm-failures/';

/**
 * Why a batch went to the on-failure destination. AWS sends a Kafka batch there when retries are
 * exhausted (condition RetryAttemptsExhausted) or its records exceed the maximum record age. The local
 * mapping also sends a batch it cannot decode (corrupt compressed data, records that do not parse, e.g. in
 * a log written before the broker validated batches) as UndecodableBatch: retrying cannot help it, and
 * holding it would stop the partition for good.
 */
export type FailureCondition = 'RetryAttemptsExhausted' | 'UndecodableBatch';

/** The position of a failed batch: what AWS's on-failure record gives per topic-partition (recordsInfo). */
export interface FailedBatch {
  readonly condition: FailureCondition;
  readonly topicPartition: string;
  readonly firstOffset: number;
  readonly lastOffset: number;
  /** Records of the batch: for an undecodable batch, as its offsets span. */
  readonly records: number;
}

export interface FailedBatchRecord extends FailedBatch {
  readonly error: string;
  /** The invocation's event; an undecodable batch has no records to put in it. */
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
): (event: MskEvent, error: unknown, batch?: FailedBatch) => Promise<void> {
  return async (event, error, batch) => {
    const failed: FailedBatch[] = batch ? [batch] : Object.entries(event.records).flatMap(fromRecords);
    for (const b of failed) {
      const body: FailedBatchRecord = {
        ...b,
        error: errorMessage(error),
        event: { ...event, records: { [b.topicPartition]: event.records[b.topicPartition] ?? [] } },
      };
      await putObjectBytes(
        s3,
        bucket,
        `${prefix}${b.topicPartition}-${b.firstOffset}-${b.lastOffset}.json`,
        JSON.stringify(body),
        {
          contentType: 'application/json',
          metadata: { records: String(b.records), condition: b.condition },
        },
      );
    }
  };
}

function fromRecords([topicPartition, records]: [string, MskEvent['records'][string]]): FailedBatch[] {
  const first = records[0];
  const last = records[records.length - 1];
  if (!first || !last) return [];
  return [
    {
      condition: 'RetryAttemptsExhausted',
      topicPartition,
      firstOffset: first.offset,
      lastOffset: last.offset,
      records: records.length,
    },
  ];
}
