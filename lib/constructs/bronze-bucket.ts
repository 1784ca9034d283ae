import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARRIVALS_PREFIX, BRONZE_PREFIX, QUARANTINE_PREFIX, RUNS_PREFIX } from '../../lambdas/core/bronze.ts';
import { acknowledge } from './acknowledge.ts';

export interface BronzeBucketProps {
  /** Days until Bronze objects move to S3 Standard-IA. */
  readonly infrequentAccessDays: number;
  /** Days until Bronze objects move to Glacier Instant Retrieval. */
  readonly glacierDays: number;
  /** Days until Bronze objects are deleted. @default - kept forever */
  readonly expireDays?: number;
  /** Days until quarantined records are deleted. */
  readonly quarantineExpireDays: number;
}

/**
 * The object store of the pipeline: bronze/ (landed events), quarantine/ (rejected records) and
 * runs/ (run summaries and reports). Encrypted, TLS only, never public, versioned, access-logged,
 * and retained when the stack is deleted: it is the system of record.
 */
export class BronzeBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: BronzeBucketProps) {
    super(scope, id);
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });
    acknowledge(
      this.accessLogs,
      'AwsSolutions-S1',
      'This bucket receives the server access logs of the Bronze bucket; logging it again would recurse.',
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'bronze-bucket/',
      lifecycleRules: [
        {
          id: 'bronze-tiers',
          prefix: BRONZE_PREFIX,
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(props.infrequentAccessDays),
            },
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(props.glacierDays),
            },
          ],
          expiration: props.expireDays === undefined ? undefined : Duration.days(props.expireDays),
        },
        {
          id: 'quarantine-expiry',
          prefix: QUARANTINE_PREFIX,
          expiration: Duration.days(props.quarantineExpireDays),
        },
        // Arrival markers are read only by the runs whose lookback covers their landing hour (at most
        // 168 hours, workflow.lookbackHours); two weeks leaves a week of failed runs to catch up.
        {
          id: 'arrivals-expiry',
          prefix: ARRIVALS_PREFIX,
          expiration: Duration.days(14),
        },
        {
          id: 'runs-tiers',
          prefix: RUNS_PREFIX,
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(props.infrequentAccessDays),
            },
          ],
        },
        // Keys are rewritten when Kafka redelivers a batch (same bytes); old versions are noise after a week.
        {
          id: 'noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }
}
