import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { App, Stack } from 'aws-cdk-lib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { loadConfig } from '../../lib/config/environments.ts';
import { synthesizeLocalWorkflow } from '../../localstack/workflow/definition.ts';
import { DBT_RETRIES, DBT_TASK_TIMEOUT, MAX_LOAD_INVOCATIONS } from '../../stepfunctions/workflow.ts';
import { only, synthesize, type SynthesizedApp } from './synth-helpers.ts';

// Two synths per file: dev as configured (MSK Serverless) and dev with provisioned MSK and another schedule.
let serverless: SynthesizedApp;
let provisioned: SynthesizedApp;

beforeAll(() => {
  serverless = synthesize('dev');
  provisioned = synthesize('dev', {
    msk: { mode: 'provisioned', brokerInstanceType: 'kafka.m7g.large', brokerCount: 4 },
    schedule: { expression: 'cron(15 */2 * * ? *)', timeZone: 'Europe/Berlin', enabled: false },
    consumer: { batchSize: 250, batchingWindowSeconds: 30, startingPosition: 'LATEST' },
  });
});

afterAll(() => {
  serverless?.cleanup();
  provisioned?.cleanup();
});

describe('streaming stack', () => {
  it('creates an MSK Serverless cluster with IAM auth by default', () => {
    // Prepare / Act: the dev configuration, synthesized in beforeAll.
    const t = serverless.templates.streaming;
    // Assess
    t.resourceCountIs('AWS::MSK::Cluster', 0);
    t.hasResourceProperties('AWS::MSK::ServerlessCluster', {
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
      VpcConfigs: [{ SubnetIds: Match.anyValue(), SecurityGroups: Match.anyValue() }],
    });
  });

  it('creates a provisioned MSK cluster with TLS only, IAM auth and broker logs when configured', () => {
    const t = provisioned.templates.streaming;
    t.resourceCountIs('AWS::MSK::ServerlessCluster', 0);
    t.hasResourceProperties('AWS::MSK::Cluster', {
      NumberOfBrokerNodes: 4,
      BrokerNodeGroupInfo: Match.objectLike({ InstanceType: 'kafka.m7g.large' }),
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } },
      EncryptionInfo: { EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true } },
      LoggingInfo: { BrokerLogs: { CloudWatchLogs: Match.objectLike({ Enabled: true }) } },
    });
  });

  it('admits only Kafka over IAM/TLS (9098) to the brokers', () => {
    const t = serverless.templates.streaming;
    const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress'));
    expect(ingress.length).toBeGreaterThan(0);
    for (const rule of ingress) {
      expect(rule.Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: 9098, ToPort: 9098 });
      expect(rule.Properties.CidrIp).toBeUndefined();
    }
  });

  it('creates the topic at deploy through a custom resource with the configured partitions', () => {
    serverless.templates.streaming.hasResourceProperties('Custom::KafkaTopic', {
      Topic: 'spotify-events',
      Partitions: '6',
      BootstrapBrokers: Match.anyValue(),
    });
  });

  it('lets the topic admin function create only that topic', () => {
    const t = serverless.templates.streaming;
    const statements = policyStatements(t, 'TopicAdminFunctionRole');
    const create = statements.find((s) => toArray(s.Action).includes('kafka-cluster:CreateTopic'));
    expect(JSON.stringify(create?.Resource)).toContain(':topic/');
    expect(JSON.stringify(create?.Resource)).toContain('/spotify-events');
  });
});

describe('ingest stack', () => {
  it('maps the topic to the consumer with the configured batching, start and on-failure destination', () => {
    serverless.templates.ingest.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      Topics: ['spotify-events'],
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 10,
      StartingPosition: 'TRIM_HORIZON',
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'bronze-writer' },
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailedBatches'), 'Arn'] } },
      },
    });
    provisioned.templates.ingest.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 250,
      MaximumBatchingWindowInSeconds: 30,
      StartingPosition: 'LATEST',
    });
  });

  it('runs every function on Node.js 22+ and ARM', () => {
    for (const t of [
      serverless.templates.ingest,
      serverless.templates.pipeline,
      serverless.templates.streaming,
    ]) {
      for (const fn of Object.values(t.findResources('AWS::Lambda::Function'))) {
        const runtime = String(fn.Properties.Runtime);
        // CDK's own provider functions pin their runtime; ours are ESM bundles on Graviton.
        if (fn.Properties.Handler !== 'index.handler' || !Array.isArray(fn.Properties.Architectures))
          continue;
        expect(Number(/^nodejs(\d+)\.x$/.exec(runtime)?.[1])).toBeGreaterThanOrEqual(22);
        expect(fn.Properties.Architectures).toEqual(['arm64']);
      }
    }
    serverless.templates.ingest.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Bronze'),
      Runtime: Match.stringLikeRegexp('^nodejs2[2-9]'),
      Architectures: ['arm64'],
    });
  });

  it('lets the consumer write only under bronze/, quarantine/ and arrivals/ and read only its topic and group', () => {
    const statements = policyStatements(serverless.templates.ingest, 'ConsumerRole');
    const s3 = statements.filter((s) => toArray(s.Action).some((a) => a.startsWith('s3:')));
    const s3Resources = JSON.stringify(s3.map((s) => s.Resource));
    expect(s3Resources).toContain('/bronze/*');
    expect(s3Resources).toContain('/quarantine/*');
    expect(s3Resources).toContain('/arrivals/*');
    expect(s3Resources).not.toContain('/runs/*');
    expect(s3.flatMap((s) => toArray(s.Action)).filter((a) => /Get|Delete|List/.test(a))).toEqual([]);
    const read = statements.find((s) => toArray(s.Action).includes('kafka-cluster:ReadData'));
    expect(JSON.stringify(read?.Resource)).toContain('/spotify-events');
    const group = statements.find((s) => toArray(s.Action).includes('kafka-cluster:AlterGroup'));
    expect(JSON.stringify(group?.Resource)).toContain('/bronze-writer');
  });

  it('runs the producer on its own schedule', () => {
    serverless.templates.ingest.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
    });
  });
});

describe('storage stack', () => {
  it('encrypts, blocks public access, versions and retains the Bronze bucket', () => {
    const t = serverless.templates.storage;
    t.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'bronze-bucket/' }),
      }),
    });
  });

  it('moves Bronze to cheaper classes and expires quarantine per configuration', () => {
    serverless.templates.storage.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'bronze/',
            ExpirationInDays: 365,
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
              { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
            ],
          }),
          Match.objectLike({ Prefix: 'quarantine/', ExpirationInDays: 30 }),
          // Longer than the longest lookback (168 hours), which is as long as a marker is read.
          Match.objectLike({ Prefix: 'arrivals/', ExpirationInDays: 14 }),
        ]),
      },
    });
  });

  it('denies every request without TLS 1.2 in the bucket policy', () => {
    const policies = Object.values(serverless.templates.storage.findResources('AWS::S3::BucketPolicy'));
    const bronze = policies.find((p) => JSON.stringify(p.Properties.Bucket).includes('BronzeBucket'));
    const statements = (bronze?.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        }),
      ]),
    );
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([]);
  });
});

describe('pipeline stack', () => {
  it('schedules the workflow with the expression, time zone and state from config', () => {
    serverless.templates.pipeline.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(5 * * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('^Workflow') },
        Input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
      }),
    });
    provisioned.templates.pipeline.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 */2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'DISABLED',
    });
  });

  it('gives a run the time its longest allowed load needs: every loader call of the loop, then dbt and its retries', () => {
    const [loader] = Object.values(
      serverless.templates.pipeline.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^LoadBronze') },
      }),
    ) as { Properties: { Timeout: number } }[];
    const { definition } = synthesizeLocalWorkflow({ envName: 'dev' });
    const dbtSeconds = (1 + DBT_RETRIES) * DBT_TASK_TIMEOUT.toSeconds();
    expect(definition.TimeoutSeconds).toBeGreaterThanOrEqual(
      MAX_LOAD_INVOCATIONS * loader!.Properties.Timeout + dbtSeconds,
    );
  });

  it('logs every state machine event and traces with X-Ray', () => {
    serverless.templates.pipeline.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
  });

  it('lets the state machine invoke exactly the four workflow functions and run the dbt task', () => {
    const statements = policyStatements(serverless.templates.pipeline, 'WorkflowRole');
    const invoked = statements
      .filter((s) => toArray(s.Action).includes('lambda:InvokeFunction'))
      .map((s) =>
        (toArray(s.Resource)[0] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0].replace(
          /[0-9A-F]{8}$/,
          '',
        ),
      );
    expect(invoked.sort()).toEqual(['Loader', 'Planner', 'Publisher', 'Reconcile']);
    const runTask = statements.find((s) => toArray(s.Action).includes('ecs:RunTask'));
    expect(JSON.stringify(runTask?.Resource)).toContain('DbtTaskDefinition');
    const passRole = statements.find((s) => toArray(s.Action).includes('iam:PassRole'));
    expect(JSON.stringify(passRole?.Resource)).toMatch(/DbtTaskDefinition(Task|Execution)Role/);
  });

  it('builds the dbt image from dbt/ and runs it on Fargate X86_64, reading the Snowflake key from its secret', () => {
    const [, taskDef] = only(serverless.templates.pipeline, 'AWS::ECS::TaskDefinition');
    expect(taskDef.Properties).toMatchObject({
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '512',
      Memory: '1024',
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
    const [container] = taskDef.Properties.ContainerDefinitions as Record<string, unknown>[];
    expect(JSON.stringify(container?.Image)).toContain('cdk-hnb659fds-container-assets');
    const env = Object.fromEntries(
      (container?.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    expect(env).toMatchObject({ DBT_TARGET: 'snowflake', SNOWFLAKE_ACCOUNT: 'xy12345.eu-west-1' });
    expect(JSON.stringify(env.SNOWFLAKE_SECRET_ARN)).toContain('SnowflakeKey');
    expect(JSON.stringify(env.ARTIFACTS_BUCKET)).toContain('BronzeBucket');
    const taskRole = policyStatements(serverless.templates.pipeline, 'DbtTaskDefinitionTaskRole');
    const read = taskRole.find((s) => toArray(s.Action).includes('secretsmanager:GetSecretValue'));
    expect(JSON.stringify(read?.Resource)).toContain('SnowflakeKey');
    serverless.templates.pipeline.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('trusts the configured Snowflake principal with the external id and reads only bronze/', () => {
    const synth = synthesize(
      'dev',
      {
        warehouse: {
          storageIntegration: {
            principalArn: 'arn:aws:iam::123456789012:user/abc-s-snowflake',
            externalId: 'XY_SFCRole=1_abc',
          },
        },
      },
      { nag: false },
    );
    try {
      const t = synth.templates.pipeline;
      t.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [
            Match.objectLike({
              Principal: { AWS: 'arn:aws:iam::123456789012:user/abc-s-snowflake' },
              Condition: { StringEquals: { 'sts:ExternalId': 'XY_SFCRole=1_abc' } },
            }),
          ],
        },
      });
      const statements = policyStatements(t, 'SnowflakeStorageIntegrationRole');
      expect(statements.map((s) => s.Action).sort()).toEqual(
        ['s3:GetBucketLocation', ['s3:GetObject', 's3:GetObjectVersion'], 's3:ListBucket'].sort(),
      );
      const get = statements.find((s) => JSON.stringify(s.Action).includes('GetObject'));
      expect(JSON.stringify(get?.Resource)).toMatch(/\/bronze\/\*"\]\]\}$/);
      const list = statements.find((s) => s.Action === 's3:ListBucket');
      expect(list?.Condition).toEqual({ StringLike: { 's3:prefix': ['bronze/*'] } });
    } finally {
      synth.cleanup();
    }
  });

  it('gives the publisher the notification topic and the run-summary prefix only', () => {
    const statements = policyStatements(serverless.templates.pipeline, 'PublisherRole');
    expect(statements.some((s) => toArray(s.Action).includes('sns:Publish'))).toBe(true);
    const s3Resources = JSON.stringify(
      statements.filter((s) => toArray(s.Action).some((a) => a.startsWith('s3:'))).map((s) => s.Resource),
    );
    expect(s3Resources).toContain('/runs/*');
    expect(s3Resources).not.toContain('/bronze/');
  });
});

describe('observability stack', () => {
  it('alarms on failed runs, consumer lag, failed batches and function errors, to the notification topic', () => {
    const t = serverless.templates.observability;
    for (const metric of [
      'ExecutionsFailed',
      'OffsetLag',
      'ApproximateNumberOfMessagesVisible',
      'Errors',
      'ExecutionsSucceeded',
    ]) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        AlarmActions: [{ 'Fn::ImportValue': Match.stringLikeRegexp('Notifications') }],
      });
    }
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('does not raise the stale-run alarm while the schedule is paused', () => {
    provisioned.templates.observability.resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { MetricName: 'ExecutionsSucceeded' },
      0,
    );
  });
});

describe('network stack', () => {
  it('keeps dev to one NAT gateway, the free S3 endpoint and the SQS endpoint the mapping needs', () => {
    const t = serverless.templates.network;
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    t.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface' }, 1);
    t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
  });

  it('gives prod two NAT gateways, private endpoints for STS, Lambda, Secrets Manager, ECR, Logs and SQS, full consumer batches, cdk-nag clean', () => {
    // Prepare / Act: prod as configured (synth throws on an unacknowledged cdk-nag finding).
    const prod = synthesize('prod');
    try {
      // Assess
      const t = prod.templates.network;
      t.resourceCountIs('AWS::EC2::NatGateway', 2);
      const services = Object.values(
        t.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }),
      ).map((e) => {
        // com.amazonaws.<region>.<service>: the last literal part of the Fn::Join
        const parts = (e.Properties.ServiceName as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
        return String(parts.at(-1)).replace(/^\./, '');
      });
      expect(services.sort()).toEqual([
        'ecr.api',
        'ecr.dkr',
        'lambda',
        'logs',
        'secretsmanager',
        'sqs',
        'sts',
      ]);
      // Full batches at production rates (docs/deploy.md prices them).
      prod.templates.ingest.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BatchSize: 10_000,
        MaximumBatchingWindowInSeconds: 60,
      });
    } finally {
      prod.cleanup();
    }
  });
});

describe('cdk-nag', () => {
  it('leaves no unacknowledged AwsSolutions finding in either MSK variant', () => {
    // synthesize() ran AwsSolutionsChecks; a finding would have thrown. The report must not show a failure either.
    for (const app of [serverless, provisioned]) {
      const nag = app.validationReport?.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
      expect(nag?.conclusion ?? 'success').toBe('success');
    }
  });

  it('fails synth on a wildcard nobody justified', () => {
    // Prepare: the real app plus one role with an unjustified wildcard.
    const outdir = mkdtempSync(path.join(tmpdir(), 'mds-cdk-nag-'));
    const app = new App({
      outdir,
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    buildApp(app, { envName: 'dev', config: loadConfig('dev') });
    const extra = new Stack(app, 'Extra');
    const role = new iam.Role(extra, 'Careless', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    // Act
    let message = '';
    try {
      app.synth();
    } catch (err) {
      message = String(err);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
    // Assess: exactly the careless role's two findings, nothing from the app itself.
    expect(message).toContain('AwsSolutions-IAM5[Action::s3:*]');
    expect(message).toContain('AwsSolutions-IAM5[Resource::*]');
    expect(message.match(/^ERROR /gm)).toHaveLength(2);
    expect(message).not.toContain('Mds-dev-');
  });
});

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function toArray<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}

/** Statements of the policies attached to the role whose logical id starts with `rolePrefix`. */
function policyStatements(t: Template, rolePrefix: string): Statement[] {
  const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)),
  );
  if (policies.length === 0) throw new Error(`no policy for a role named ${rolePrefix}*`);
  return policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
