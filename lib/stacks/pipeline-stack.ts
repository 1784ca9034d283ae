import { CfnOutput, Duration, RemovalPolicy, Stack, TimeZone, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { BRONZE_PREFIX, QUARANTINE_PREFIX, RUNS_PREFIX } from '../../lambdas/core/bronze.ts';
import { loaderEnv } from '../../lambdas/loader/env.ts';
import { plannerEnv } from '../../lambdas/planner/env.ts';
import { publisherEnv } from '../../lambdas/publisher/env.ts';
import { reconcileEnv } from '../../lambdas/reconcile/env.ts';
import {
  snowflakeConnectionEnvironment,
  snowflakeFunctionEnvironment,
} from '../../lambdas/core/warehouse/config.ts';
import type { EnvironmentConfig } from '../config/environments.ts';
import { buildWorkflow, longestRun } from '../../stepfunctions/workflow.ts';
import { acknowledge } from '../constructs/acknowledge.ts';
import { DbtTask } from '../constructs/dbt-task.ts';
import { MdsFunction } from '../constructs/mds-function.ts';
import { RunFailureRule } from '../constructs/run-failure-rule.ts';
import { SnowflakeIntegrationRole } from '../constructs/snowflake-integration-role.ts';

/** The warehouse settings, and the storage integration's trust: an environment's `warehouse` (lib/config). */
export type SnowflakeSettings = EnvironmentConfig['warehouse'];

export interface PipelineStackProps extends StackProps {
  readonly vpc: ec2.IVpc;
  readonly bucket: s3.IBucket;
  readonly snowflake: SnowflakeSettings;
  /** When and whether the hourly workflow runs. */
  readonly schedule: { readonly expression: string; readonly timeZone: string; readonly enabled: boolean };
  readonly workflow: {
    readonly lookbackHours: number;
    readonly maxWindowDays: number;
    readonly dbtCpu: number;
    readonly dbtMemoryMiB: number;
  };
  /** Failed runs and alarms are mailed here. @default - no subscription */
  readonly alarmEmail?: string;
  readonly logRetention: logs.RetentionDays;
  /** The dbt project folder (with its Dockerfile), relative to the project root. @default 'dbt' */
  readonly dbtDirectory?: string;
}

/**
 * The hourly workflow and what it drives: the planner, loader, reconcile and publisher functions,
 * dbt on Fargate, the state machine, its EventBridge Scheduler schedule, the rule that records failed runs, the Snowflake key secret,
 * the role Snowflake's storage integration assumes, and the notification topic.
 */
export class PipelineStack extends Stack {
  readonly planner: MdsFunction;
  readonly loader: MdsFunction;
  readonly reconcile: MdsFunction;
  readonly publisher: MdsFunction;
  readonly dbt: DbtTask;
  readonly stateMachine: sfn.StateMachine;
  readonly runFailures: RunFailureRule;
  readonly schedule: scheduler.Schedule;
  readonly snowflakeKey: secretsmanager.Secret;
  readonly storageIntegrationRole: SnowflakeIntegrationRole;
  readonly notifications: sns.Topic;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const sf = props.snowflake;
    const logRetentionDays = props.logRetention;

    this.snowflakeKey = new secretsmanager.Secret(this, 'SnowflakeKey', {
      description: 'Snowflake key-pair auth: JSON {"privateKey": "<PEM>"}; set it after the first deploy',
    });
    acknowledge(
      this.snowflakeKey,
      'AwsSolutions-SMG4',
      'A Snowflake key pair is rotated in Snowflake (ALTER USER ... SET RSA_PUBLIC_KEY_2) and then here; Secrets Manager cannot rotate it alone.',
    );

    const notificationKey = new kms.Key(this, 'NotificationKey', {
      description: 'Encrypts the run notification topic; CloudWatch alarms may use it',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    notificationKey.grantEncryptDecrypt(new iam.ServicePrincipal('cloudwatch.amazonaws.com'));
    this.notifications = new sns.Topic(this, 'Notifications', {
      masterKey: notificationKey,
      enforceSSL: true,
    });
    if (props.alarmEmail)
      this.notifications.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const snowflakeEnvironment = snowflakeConnectionEnvironment(sf);
    const warehouseEnvironment = snowflakeFunctionEnvironment(sf, this.snowflakeKey.secretArn);

    this.planner = new MdsFunction(this, 'Planner', {
      entryPath: 'lambdas/planner/handler.ts',
      description: 'PlanWindow: the window and run id of a workflow run',
      memorySize: 256,
      timeout: Duration.seconds(10),
      logRetentionDays,
      environment: plannerEnv.write({
        MAX_WINDOW_DAYS: props.workflow.maxWindowDays,
        LOOKBACK_HOURS: props.workflow.lookbackHours,
      }),
    });

    this.loader = new MdsFunction(this, 'Loader', {
      entryPath: 'lambdas/loader/handler.ts',
      description: 'LoadBronze: new Bronze objects of the window into Snowflake (idempotent)',
      memorySize: 1024,
      timeout: Duration.minutes(15),
      logRetentionDays,
      environment: { ...loaderEnv.write({ BUCKET_NAME: props.bucket.bucketName }), ...warehouseEnvironment },
    });
    props.bucket.grantRead(this.loader, `${BRONZE_PREFIX}*`);
    props.bucket.grantReadWrite(this.loader, `${RUNS_PREFIX}*`);
    this.snowflakeKey.grantRead(this.loader);

    this.reconcile = new MdsFunction(this, 'Reconcile', {
      entryPath: 'lambdas/reconcile/handler.ts',
      description: 'Reconcile: produced, landed, quarantined, loaded and modelled counts of the window',
      memorySize: 1024,
      timeout: Duration.minutes(5),
      logRetentionDays,
      environment: {
        ...reconcileEnv.write({ BUCKET_NAME: props.bucket.bucketName }),
        ...warehouseEnvironment,
      },
    });
    props.bucket.grantRead(this.reconcile, `${BRONZE_PREFIX}*`);
    props.bucket.grantRead(this.reconcile, `${QUARANTINE_PREFIX}*`);
    props.bucket.grantReadWrite(this.reconcile, `${RUNS_PREFIX}*`);
    this.snowflakeKey.grantRead(this.reconcile);

    this.publisher = new MdsFunction(this, 'Publisher', {
      entryPath: 'lambdas/publisher/handler.ts',
      description:
        'PublishSummary, and failed runs (status-change events): runs/<runId>/summary.json, alerts',
      timeout: Duration.minutes(1),
      logRetentionDays,
      environment: publisherEnv.write({
        BUCKET_NAME: props.bucket.bucketName,
        ALERT_TOPIC_ARN: this.notifications.topicArn,
      }),
    });
    props.bucket.grantReadWrite(this.publisher, `${RUNS_PREFIX}*`);
    this.notifications.grantPublish(this.publisher);

    this.dbt = new DbtTask(this, 'Dbt', {
      vpc: props.vpc,
      bucket: props.bucket,
      snowflakeKey: this.snowflakeKey,
      snowflakeEnvironment,
      cpu: props.workflow.dbtCpu,
      memoryMiB: props.workflow.dbtMemoryMiB,
      logRetention: logRetentionDays,
      directory: props.dbtDirectory,
    });

    this.stateMachine = new sfn.StateMachine(this, 'Workflow', {
      comment: 'Hourly: plan the window, load Bronze, run dbt, reconcile, publish the run summary',
      definitionBody: sfn.DefinitionBody.fromChainable(
        buildWorkflow(this, {
          planner: this.planner,
          loader: this.loader,
          reconcile: this.reconcile,
          publisher: this.publisher,
          dbt: this.dbt.asWorkflowTask(),
        }),
      ),
      timeout: longestRun(this.loader.timeout ?? Duration.minutes(15)),
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'WorkflowLogs', { retention: logRetentionDays }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: true,
      },
    });

    this.runFailures = new RunFailureRule(this, 'RunFailures', {
      stateMachine: this.stateMachine,
      publisher: this.publisher,
    });

    this.schedule = new scheduler.Schedule(this, 'HourlySchedule', {
      description: 'Starts the workflow for the hour before the scheduled time',
      schedule: scheduler.ScheduleExpression.expression(
        props.schedule.expression,
        TimeZone.of(props.schedule.timeZone),
      ),
      enabled: props.schedule.enabled,
      target: new targets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
        }),
        retryAttempts: 3,
      }),
    });

    this.storageIntegrationRole = new SnowflakeIntegrationRole(this, 'SnowflakeStorageIntegration', {
      bucket: props.bucket,
      principalArn: sf.storageIntegration.principalArn,
      externalId: sf.storageIntegration.externalId,
    });

    // What an operator needs after a deploy (docs/deploy.md): start runs, set the key, wire Snowflake.
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    // `mds schedule --env` pauses, resumes or sets the schedule by name (GetSchedule/UpdateSchedule).
    new CfnOutput(this, 'WorkflowScheduleName', { value: this.schedule.scheduleName });
    new CfnOutput(this, 'WorkflowScheduleGroup', {
      value: this.schedule.scheduleGroup?.scheduleGroupName ?? 'default',
    });
    new CfnOutput(this, 'SnowflakeKeySecretArn', { value: this.snowflakeKey.secretArn });
    new CfnOutput(this, 'StorageIntegrationRoleArn', { value: this.storageIntegrationRole.role.roleArn });
    new CfnOutput(this, 'NotificationsTopicArn', { value: this.notifications.topicArn });
  }
}
