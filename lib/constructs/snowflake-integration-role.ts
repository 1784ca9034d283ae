import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BRONZE_PREFIX } from '../../lambdas/core/bronze.ts';

export interface SnowflakeIntegrationRoleProps {
  readonly bucket: s3.IBucket;
  /**
   * STORAGE_AWS_IAM_USER_ARN of the Snowflake storage integration.
   * @default - this account's root: the integration cannot assume the role until the ARN is set
   */
  readonly principalArn?: string;
  /** STORAGE_AWS_EXTERNAL_ID of the Snowflake storage integration. */
  readonly externalId: string;
}

/**
 * The role Snowflake's storage integration assumes to read Bronze for COPY INTO: trusts one Snowflake
 * principal with an external id, and may read objects under bronze/ only.
 */
export class SnowflakeIntegrationRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: SnowflakeIntegrationRoleProps) {
    super(scope, id);
    const principal = props.principalArn
      ? new iam.ArnPrincipal(props.principalArn)
      : new iam.AccountRootPrincipal();
    this.role = new iam.Role(this, 'Role', {
      assumedBy: principal,
      externalIds: [props.externalId],
      description: 'Assumed by the Snowflake storage integration to read Bronze objects',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [props.bucket.arnForObjects(`${BRONZE_PREFIX}*`)],
      }),
    );
    // Listing is limited to keys under bronze/ by the s3:prefix condition.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${BRONZE_PREFIX}*`] } },
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [props.bucket.bucketArn] }),
    );
  }
}
