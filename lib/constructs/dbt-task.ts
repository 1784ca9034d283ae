import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { RUNS_PREFIX } from '../../lambdas/core/bronze.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';
import type { DbtTask as WorkflowDbtTask } from '../../stepfunctions/workflow.ts';
import { acknowledge } from './acknowledge.ts';
import { fromRoot } from './project.ts';

/** Where the dbt task may write: runs/<runId>/dbt/<artifact>, the prefix the workflow passes it. */
export const DBT_ARTIFACTS_PATTERN = `${RUNS_PREFIX}*/dbt/*`;

export interface DbtTaskProps {
  readonly vpc: ec2.IVpc;
  readonly bucket: s3.IBucket;
  /** Secrets Manager secret with the Snowflake user's PEM key (the PEM, or JSON with private_key/privateKey). */
  readonly snowflakeKey: secretsmanager.ISecret;
  /** Non-secret Snowflake settings passed as environment (SNOWFLAKE_ACCOUNT, ...). */
  readonly snowflakeEnvironment: Readonly<Record<string, string>>;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly logRetention: logs.RetentionDays;
  /** The folder with the dbt project and its Dockerfile, relative to the project root. @default 'dbt' */
  readonly directory?: string;
}

/**
 * dbt on Fargate: an ECS cluster with Container Insights and a task definition whose image is built
 * from dbt/Dockerfile at deploy (synth only stages the folder, so it needs no Docker).
 *
 * The task runs on X86_64 and the image is built for linux/amd64 whatever machine deploys (dbt-core
 * 1.10.15 and dbt-snowflake 1.10.6 on python:3.11-slim; dbt Labs' own dbt-snowflake images are published
 * for linux/amd64 only, dbt-labs/dbt-snowflake issue 794), and an image built for another platform than
 * the task's RuntimePlatform does not start.
 */
export class DbtTask extends Construct {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: DbtTaskProps) {
    super(scope, id);
    const directory = props.directory ?? 'dbt';
    if (!existsSync(fromRoot(directory, 'Dockerfile'))) {
      throw new ConfigError(
        `${directory}/Dockerfile`,
        'does not exist',
        'The dbt Fargate image is built from it; add it.',
      );
    }
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.container = this.taskDefinition.addContainer('dbt', {
      image: ecs.ContainerImage.fromAsset(fromRoot(directory), {
        exclude: ['target', 'logs', 'dbt_packages', '.user.yml'],
        // Must match cpuArchitecture above; on an ARM machine Docker would otherwise build arm64.
        platform: Platform.LINUX_AMD64,
      }),
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'dbt',
        logGroup: new logs.LogGroup(this, 'Logs', { retention: props.logRetention }),
      }),
      // The image's entrypoint fetches the key itself (SNOWFLAKE_SECRET_ARN) and uploads manifest.json,
      // run_results.json, sources.json and dbt.log to s3://ARTIFACTS_BUCKET/ARTIFACTS_PREFIX/; the workflow
      // sets the prefix per run (runs/<runId>/dbt, beside the run summary).
      environment: {
        DBT_TARGET: 'snowflake',
        ...props.snowflakeEnvironment,
        SNOWFLAKE_SECRET_ARN: props.snowflakeKey.secretArn,
        ARTIFACTS_BUCKET: props.bucket.bucketName,
      },
    });
    props.snowflakeKey.grantRead(this.taskDefinition.taskRole);
    // Only the dbt folder of a run: the task cannot overwrite a run's summary, report or other objects.
    props.bucket.grantPut(this.taskDefinition.taskRole, DBT_ARTIFACTS_PATTERN);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'dbt task: outbound to Snowflake over HTTPS',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'Snowflake, ECR, S3 and AWS APIs',
    );
    // Snowflake's "Allowing host names" page: port 443 for Snowflake traffic and port 80 for OCSP
    // certificate checks; the drivers ask the certificate authorities' OCSP responders (and
    // Snowflake's OCSP cache, see SYSTEM$ALLOWLIST) over plain HTTP. Blocked, each connection waits
    // for the OCSP timeout and logs a fail-open warning (or fails, in fail-close mode).
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(80),
      'Snowflake drivers: OCSP certificate checks (HTTP)',
    );
    acknowledge(
      this.taskDefinition,
      'AwsSolutions-ECS2',
      'The environment holds only non-secret settings (account, role, secret ARN, run id); the entrypoint reads the key from Secrets Manager.',
    );
  }

  /** The pieces the workflow's RunDbt state needs. */
  asWorkflowTask(): WorkflowDbtTask {
    return {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      container: this.container,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
    };
  }
}
