import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { BronzeBucket, type BronzeBucketProps } from '../constructs/bronze-bucket.ts';

export type StorageStackProps = StackProps & BronzeBucketProps;

/** The stateful part: the Bronze bucket (with quarantine/ and runs/) and its access-log bucket. */
export class StorageStack extends Stack {
  readonly bronze: BronzeBucket;

  constructor(scope: Construct, id: string, props: StorageStackProps) {
    super(scope, id, props);
    this.bronze = new BronzeBucket(this, 'Bronze', props);
    new CfnOutput(this, 'BronzeBucketName', { value: this.bronze.bucket.bucketName });
  }
}
