/**
 * The streaming-history import in AWS, one assertion per behaviour: the notification on imports/ (both
 * suffixes), least-privilege grants (read imports/, write import-summaries/, produce to the topic only), the
 * function in the VPC with the Kafka client group, its sizing, the dead-letter queue and retries, the alarms,
 * and cdk-nag clean.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryImport } from '../../lib/constructs/history-import.ts';
import { KafkaCluster } from '../../lib/constructs/kafka-cluster.ts';
import { reviewWildcards } from '../../lib/constructs/wildcard-review.ts';

let outdir: string;
let template: Template;
let construct: HistoryImport;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'mds-history-import-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Ingest', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1 });
  Validations.of(vpc).acknowledge({
    id: 'AwsSolutions-VPC7',
    reason: 'The test scaffold; the app has its own VPC.',
  });
  const cluster = KafkaCluster.fromParameters(stack, 'Kafka', '/mds/test/kafka');
  construct = new HistoryImport(stack, 'HistoryImport', {
    bucketName: 'bronze-bucket-name',
    cluster,
    vpc,
    topic: 'spotify-events',
    memoryMiB: 1024,
    timeoutMinutes: 15,
    logRetention: logs.RetentionDays.TWO_WEEKS,
  });
  reviewWildcards(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // A cdk-nag finding that is not acknowledged makes synth throw.
  app.synth();
  template = Template.fromStack(stack);
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const importer = () => {
  const fns = template.findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp('streaming-history') },
  });
  expect(Object.keys(fns)).toHaveLength(1);
  return Object.values(fns)[0]!.Properties as Record<string, unknown>;
};

describe('HistoryImport', () => {
  it('is notified of new .zip and .json objects under imports/ of the Bronze bucket', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: 'bronze-bucket-name',
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          Match.objectLike({
            Events: ['s3:ObjectCreated:*'],
            Filter: {
              Key: {
                FilterRules: [
                  { Name: 'suffix', Value: '.zip' },
                  { Name: 'prefix', Value: 'imports/' },
                ],
              },
            },
          }),
          Match.objectLike({
            Events: ['s3:ObjectCreated:*'],
            Filter: {
              Key: {
                FilterRules: [
                  { Name: 'suffix', Value: '.json' },
                  { Name: 'prefix', Value: 'imports/' },
                ],
              },
            },
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 's3.amazonaws.com',
      SourceArn: Match.objectLike({
        'Fn::Join': Match.arrayWith([Match.arrayWith([':s3:::bronze-bucket-name'])]),
      }),
    });
  });

  it('may read imports/ and write import-summaries/ only, and produce to the topic', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p).includes('ImporterRole'))
      .flatMap(
        (p) =>
          (p.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument
            .Statement,
      );
    const s3Resources = policies
      .filter((s) => JSON.stringify(s.Action).includes('s3:'))
      .map((s) => JSON.stringify(s.Resource));
    expect(s3Resources.some((r) => r.includes('bronze-bucket-name/imports/*'))).toBe(true);
    expect(s3Resources.some((r) => r.includes('bronze-bucket-name/import-summaries/*'))).toBe(true);
    for (const r of s3Resources) expect(r).toMatch(/imports\/\*|import-summaries\/\*|bronze-bucket-name"/);
    const putStatements = policies.filter((s) => JSON.stringify(s.Action).includes('s3:PutObject'));
    for (const s of putStatements) expect(JSON.stringify(s.Resource)).toContain('import-summaries/*');
    const kafka = policies.filter((s) => JSON.stringify(s.Action).includes('kafka-cluster:WriteData'));
    expect(kafka).toHaveLength(1);
    expect(JSON.stringify(kafka[0]!.Resource)).toContain('spotify-events');
    expect(JSON.stringify(policies)).not.toContain('kafka-cluster:ReadData');
  });

  it('runs in the VPC with the Kafka client group, MSK IAM, and the environment its contract reads', () => {
    const fn = importer();
    expect(fn.VpcConfig).toBeDefined();
    const env = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({
      BUCKET_NAME: 'bronze-bucket-name',
      IMPORTS_PREFIX: 'imports/',
      SUMMARIES_PREFIX: 'import-summaries/',
      KAFKA_TOPIC: 'spotify-events',
    });
    expect(env.KAFKA_AUTH ?? 'iam').toBe('iam');
  });

  it('is sized for a 12 MB file and a whole zip: 1,024 MB and 15 minutes', () => {
    expect(importer()).toMatchObject({ MemorySize: 1024, Timeout: 900 });
  });

  it('retries a failed import twice, then sends it to an encrypted dead-letter queue', () => {
    const fn = importer();
    expect(fn.DeadLetterConfig).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('alarms on dead letters, function errors and refused files', () => {
    expect(construct.alarms).toHaveLength(3);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FilesRefused',
      Namespace: 'SpotifyMds',
      Dimensions: [{ Name: 'service', Value: 'Importer' }],
    });
  });
});

describe('HistoryImport in the app', () => {
  it('is in the Ingest stack of dev on the Bronze bucket, cdk-nag clean, and spotify.import.enabled false leaves it out', async () => {
    const { synthesize } = await import('./synth-helpers.ts');
    const dev = synthesize('dev');
    try {
      expect(dev.stacks.ingest.historyImport).toBeDefined();
      dev.templates.ingest.resourceCountIs('Custom::S3BucketNotifications', 1);
      const nag = dev.validationReport?.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
      expect(nag?.violations ?? []).toEqual([]);
    } finally {
      dev.cleanup();
    }
    const off = synthesize('dev', { spotify: { import: { enabled: false } } }, { nag: false });
    try {
      expect(off.stacks.ingest.historyImport).toBeUndefined();
      off.templates.ingest.resourceCountIs('Custom::S3BucketNotifications', 0);
    } finally {
      off.cleanup();
    }
  }, 240_000);
});
