import { Duration, RemovalPolicy, SecretValue, Stack, TimeZone } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { pollerEnv } from '../../lambdas/poller/env.ts';
import { acknowledge } from './acknowledge.ts';
import type { IKafkaCluster } from './kafka-cluster.ts';
import { MdsFunction } from './mds-function.ts';

/** The names of the poller's two secrets, under the name of the stack that holds them (`mds spotify login --env`). */
export function spotifySecretNames(stackName: string): { client: string; tokens: string } {
  return {
    client: `${stackName}/spotify/client-credentials`,
    tokens: `${stackName}/spotify/refresh-tokens`,
  };
}

export interface SpotifyPollerProps {
  readonly vpc: ec2.IVpc;
  readonly cluster: IKafkaCluster;
  readonly topic: string;
  readonly enabled: boolean;
  /** An EventBridge Scheduler expression, e.g. rate(15 minutes). */
  readonly schedule: string;
  readonly apiBaseUrl: string;
  readonly accountsBaseUrl: string;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The Spotify recently-played poller: the function (in the VPC, producing with MSK IAM as the simulated
 * producer does) on its own EventBridge Scheduler schedule, the DynamoDB table of the users' cursors, the
 * secrets of the client credentials and of the users' refresh tokens, and alarms on expired consents
 * (InvalidGrant), possible gaps and users that could not be polled.
 */
export class SpotifyPoller extends Construct {
  readonly function: MdsFunction;
  readonly schedule: scheduler.Schedule;
  readonly cursors: dynamodb.Table;
  readonly clientSecret: secretsmanager.Secret;
  readonly tokensSecret: secretsmanager.Secret;
  readonly alarms: {
    readonly invalidGrant: cloudwatch.Alarm;
    readonly possibleGaps: cloudwatch.Alarm;
    readonly usersFailed: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: SpotifyPollerProps) {
    super(scope, id);
    const names = spotifySecretNames(Stack.of(this).stackName);

    this.cursors = new dynamodb.Table(this, 'Cursors', {
      partitionKey: { name: 'user_id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // A lost cursor only re-polls the last 50 plays (their ids dedupe in Silver), but the countries stay.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Filled by the operator (client) and by `mds spotify login --env` (tokens); nothing in code or config.
    this.clientSecret = new secretsmanager.Secret(this, 'ClientCredentials', {
      secretName: names.client,
      description: 'Spotify app credentials for the poller: {"client_id": "...", "client_secret": "..."}',
      secretStringValue: SecretValue.unsafePlainText('{}'), // a placeholder without any credential
    });
    this.tokensSecret = new secretsmanager.Secret(this, 'RefreshTokens', {
      secretName: names.tokens,
      description:
        'Refresh tokens of the connected Spotify users: {"users": {"<id>": {"refresh_token": "..."}}}',
      secretStringValue: SecretValue.unsafePlainText('{"users":{}}'), // no user connected yet
    });
    acknowledge(
      this.clientSecret,
      'AwsSolutions-SMG4',
      'The Spotify client secret is issued and rotated in the Spotify developer dashboard; Secrets Manager cannot rotate it.',
    );
    acknowledge(
      this.tokensSecret,
      'AwsSolutions-SMG4',
      'Spotify rotates refresh tokens itself; the poller writes each rotated token back into this secret.',
    );

    this.function = new MdsFunction(this, 'Poller', {
      entryPath: 'lambdas/poller/handler.ts',
      description: 'Spotify recently-played to Kafka, per connected user',
      // Shorter than any sensible schedule, so two polls never overlap (a rotated refresh token is used once).
      timeout: Duration.minutes(2),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [props.cluster.clientSecurityGroup],
      logRetentionDays: props.logRetention,
      environment: pollerEnv.write({
        KAFKA_BROKERS: props.cluster.bootstrapBrokers,
        KAFKA_TOPIC: props.topic,
        SPOTIFY_API_BASE_URL: props.apiBaseUrl,
        SPOTIFY_ACCOUNTS_BASE_URL: props.accountsBaseUrl,
        SPOTIFY_STATE_STORE: 'aws',
        CURSOR_TABLE: this.cursors.tableName,
        CLIENT_SECRET_ID: this.clientSecret.secretArn,
        TOKENS_SECRET_ID: this.tokensSecret.secretArn,
      }),
    });
    props.cluster.grantProduce(this.function, props.topic);
    this.cursors.grant(this.function, 'dynamodb:GetItem', 'dynamodb:PutItem');
    this.clientSecret.grantRead(this.function);
    this.tokensSecret.grantRead(this.function);
    this.tokensSecret.grantWrite(this.function); // rotated refresh tokens only

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Polls Spotify recently-played for every connected user',
      schedule: scheduler.ScheduleExpression.expression(props.schedule, TimeZone.ETC_UTC),
      target: new targets.LambdaInvoke(this.function, { retryAttempts: 0 }),
      enabled: props.enabled,
    });

    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: this.function.metricsNamespace,
        metricName,
        dimensionsMap: { service: this.function.serviceName },
        statistic: 'Sum',
        period: Duration.hours(1),
      });
    const alarm = (name: string, metricName: string, description: string) =>
      new cloudwatch.Alarm(this, name, {
        metric: metric(metricName),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
    this.alarms = {
      invalidGrant: alarm(
        'InvalidGrantAlarm',
        'InvalidGrant',
        'A Spotify user was skipped: the consent expired or was revoked (invalid_grant). The user must reconnect (mds spotify login --env).',
      ),
      possibleGaps: alarm(
        'PossibleGapsAlarm',
        'PossibleGaps',
        'A user had 50 plays (a full page) since the last poll: older plays may be missing. Poll more often (spotify.poller.schedule).',
      ),
      usersFailed: alarm(
        'UsersFailedAlarm',
        'UsersFailed',
        'A Spotify user could not be polled (client credentials, rate limit, Kafka); the log names the user and the reason.',
      ),
    };
  }
}
