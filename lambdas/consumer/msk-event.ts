/**
 * The event Lambda receives from a Kafka event source mapping: Amazon MSK (`aws:kafka`) or a
 * self-managed cluster (`SelfManagedKafka`). Both have the same record shape; records are grouped by
 * `<topic>-<partition>`, keys and values are base64, header values are byte arrays.
 * See the AWS Lambda developer guide, "Using Lambda with Amazon MSK" / "with self-managed Apache Kafka".
 */
export interface MskRecordHeader {
  readonly [headerKey: string]: readonly number[];
}

export interface MskRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  /** Base64; absent (or null) when the Kafka record has no key. */
  readonly key?: string | null;
  /** Base64; absent (or null) when the Kafka record has no value (a tombstone). */
  readonly value?: string | null;
  readonly headers?: readonly MskRecordHeader[];
}

export interface MskEvent {
  readonly eventSource: 'aws:kafka' | 'SelfManagedKafka';
  /** The MSK cluster ARN (`aws:kafka` only). */
  readonly eventSourceArn?: string;
  /** Comma-separated bootstrap brokers. */
  readonly bootstrapServers?: string;
  /** Records by `<topic>-<partition>`, each list in offset order. */
  readonly records: { readonly [topicPartition: string]: readonly MskRecord[] };
}
