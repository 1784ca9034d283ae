/**
 * The Spotify poller in the Ingest stack: the function, its schedule, the cursor table, the two secrets,
 * least-privilege grants and the alarms, each asserted on its own; cdk-nag clean.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spotifySecretNames } from '../../lib/constructs/spotify-poller.ts';
import { only, synthesize, type SynthesizedApp } from './synth-helpers.ts';

let dev: SynthesizedApp;
let on: SynthesizedApp;
let ingest: Template;

beforeAll(() => {
  dev = synthesize('dev');
  on = synthesize(
    'prod',
    { spotify: { poller: { enabled: true, schedule: 'rate(10 minutes)' } } },
    { nag: false },
  );
  ingest = dev.templates.ingest;
});
afterAll(() => {
  dev?.cleanup();
  on?.cleanup();
});

type Resource = { Properties: Record<string, unknown> };
const resources = (t: Template, type: string) =>
  Object.entries(t.findResources(type)) as [string, Resource][];
const pollerFunction = (t: Template): [string, Resource] => {
  const found = resources(t, 'AWS::Lambda::Function').filter(([, f]) =>
    String(f.Properties.Description).startsWith('Spotify recently-played'),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
};
const statementsOf = (t: Template, roleLogicalId: string) =>
  resources(t, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleLogicalId))
    .flatMap(
      ([, p]) =>
        (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
          .Statement,
    );

describe('the Spotify poller', () => {
  it('runs in the VPC with the Kafka client security group and the deployed state stores', () => {
    const [, fn] = pollerFunction(ingest);
    expect(fn.Properties.VpcConfig).toBeDefined();
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.SPOTIFY_STATE_STORE).toBe('aws');
    expect(env.SPOTIFY_API_BASE_URL).toBe('https://api.spotify.com');
    expect(env.SPOTIFY_ACCOUNTS_BASE_URL).toBe('https://accounts.spotify.com');
    expect(JSON.stringify(env.CURSOR_TABLE)).toMatch(/SpotifyPollerCursors/);
    expect(JSON.stringify(env.TOKENS_SECRET_ID)).toMatch(/SpotifyPollerRefreshTokens/);
    expect(env.KAFKA_AUTH).toBeUndefined(); // the default, iam
    expect(fn.Properties.Timeout).toBe(120);
  });

  it('has its own schedule, off in dev, on with the given expression when enabled', () => {
    const schedules = (t: Template) =>
      resources(t, 'AWS::Scheduler::Schedule').filter(([id]) => id.startsWith('SpotifyPoller'));
    const [[, devSchedule]] = schedules(ingest) as [[string, Resource]];
    expect(devSchedule.Properties.State).toBe('DISABLED');
    expect(devSchedule.Properties.ScheduleExpression).toBe('rate(15 minutes)');
    expect(JSON.stringify(devSchedule.Properties.Target)).toMatch(new RegExp(pollerFunction(ingest)[0]));
    const [[, onSchedule]] = schedules(on.templates.ingest) as [[string, Resource]];
    expect(onSchedule.Properties.State).toBe('ENABLED');
    expect(onSchedule.Properties.ScheduleExpression).toBe('rate(10 minutes)');
  });

  it('keeps cursors in an encrypted DynamoDB table with point-in-time recovery, retained', () => {
    const [id, table] = only(ingest, 'AWS::DynamoDB::Table');
    expect(id).toMatch(/^SpotifyPollerCursors/);
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'user_id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    ingest.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  it('may get and put cursor items only, read both secrets, and write only the refresh tokens', () => {
    const [, fn] = pollerFunction(ingest);
    const role = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const statements = statementsOf(ingest, role);
    const actions = (s: { Action: string | string[] }) => [s.Action].flat();
    const dynamo = statements.filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap(actions).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    const writes = statements.filter((s) => actions(s).includes('secretsmanager:PutSecretValue'));
    expect(writes).toHaveLength(1);
    expect(JSON.stringify(writes[0]!.Resource)).toMatch(/SpotifyPollerRefreshTokens/);
    expect(JSON.stringify(writes[0]!.Resource)).not.toMatch(/ClientCredentials/);
    const reads = statements.filter((s) => actions(s).includes('secretsmanager:GetSecretValue'));
    expect(JSON.stringify(reads.map((s) => s.Resource))).toMatch(/ClientCredentials/);
    expect(JSON.stringify(reads.map((s) => s.Resource))).toMatch(/RefreshTokens/);
    expect(JSON.stringify(statements)).toMatch(/kafka-cluster:WriteData/);
  });

  it('names its secrets under the stack, with no credential in the template', () => {
    const names = spotifySecretNames('Mds-dev-Ingest');
    ingest.hasResourceProperties('AWS::SecretsManager::Secret', { Name: names.client, SecretString: '{}' });
    ingest.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: names.tokens,
      SecretString: '{"users":{}}',
    });
  });

  it('alarms on expired consents, possible gaps and users not polled, from its own metrics', () => {
    const [, fn] = pollerFunction(ingest);
    const env = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
    for (const metric of ['InvalidGrant', 'PossibleGaps', 'UsersFailed']) {
      ingest.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: env.POWERTOOLS_METRICS_NAMESPACE,
        Dimensions: [{ Name: 'service', Value: env.POWERTOOLS_SERVICE_NAME }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmDescription: Match.anyValue(),
      });
    }
  });

  it('is cdk-nag clean', () => {
    const nag = dev.validationReport?.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
    expect(nag?.conclusion ?? 'success').toBe('success');
  });

  it('refuses a schedule or a base URL the function could not use', async () => {
    const { loadConfig } = await import('../../lib/config/environments.ts');
    expect(() => loadConfig('dev', { spotify: { poller: { schedule: 'every 5 minutes' } } })).toThrow(
      /spotify\.poller\.schedule/,
    );
    expect(() =>
      loadConfig('dev', { spotify: { poller: { apiBaseUrl: 'http://api.spotify.com' } } }),
    ).toThrow(/spotify\.poller\.apiBaseUrl/);
  });
});
