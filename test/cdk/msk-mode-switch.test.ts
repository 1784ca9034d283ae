/**
 * Switching msk.mode replaces the cluster (another resource type, another logical id). CloudFormation
 * refuses to change or delete an export another stack imports, so nothing the Ingest stack uses may
 * be an export whose name or value depends on the mode.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { only, synthesize, type SynthesizedApp } from './synth-helpers.ts';

let serverless: SynthesizedApp;
let provisioned: SynthesizedApp;

beforeAll(() => {
  serverless = synthesize('dev', undefined, { nag: false });
  provisioned = synthesize('dev', { msk: { mode: 'provisioned' } }, { nag: false });
});

afterAll(() => {
  serverless?.cleanup();
  provisioned?.cleanup();
});

type Json = Record<string, unknown>;

/** Every value of `Fn::ImportValue` anywhere in a template. */
function importedExports(template: unknown): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (k === 'Fn::ImportValue') found.push(JSON.stringify(child));
        walk(child);
      }
    }
  };
  walk(template);
  return found;
}

function exportNames(template: Json): string[] {
  const outputs = (template.Outputs ?? {}) as Record<string, { Export?: { Name: unknown } }>;
  return Object.values(outputs)
    .flatMap((o) => (o.Export ? [JSON.stringify(o.Export.Name)] : []))
    .sort();
}

describe('a change of msk.mode', () => {
  it('leaves the Ingest stack without imports from the Streaming stack', () => {
    for (const app of [serverless, provisioned]) {
      const imports = importedExports(app.templates.ingest.toJSON());
      expect(imports.filter((i) => i.includes('Streaming'))).toEqual([]);
    }
  });

  it('leaves the Ingest template unchanged: it names the cluster only through SSM parameters', () => {
    expect(provisioned.templates.ingest.toJSON()).toEqual(serverless.templates.ingest.toJSON());
  });

  it('keeps, for Ingest stacks deployed before the SSM parameters, the exports they import', () => {
    // The names CDK gave the three imports before; the Streaming stack may not drop them while an
    // Ingest stack of that time still imports them.
    const names = exportNames(serverless.templates.streaming.toJSON());
    for (const legacy of [
      'Mds-dev-Streaming:ExportsOutputFnGetAttKafkaServerless3B746D71ArnAF35ED21',
      'Mds-dev-Streaming:ExportsOutputFnGetAttKafkaBootstrapBrokers10225061BootstrapBrokerStringSaslIam6EA9DFC4',
      'Mds-dev-Streaming:ExportsOutputFnGetAttKafkaClientSecurityGroup4F0289EAGroupId5408DD52',
    ])
      expect(names).toContain(JSON.stringify(legacy));
  });

  it('publishes the cluster ARN, bootstrap brokers and client security group under names from the environment', () => {
    for (const [app, clusterType] of [
      [serverless, 'AWS::MSK::ServerlessCluster'],
      [provisioned, 'AWS::MSK::Cluster'],
    ] as const) {
      const [clusterId] = only(app.templates.streaming, clusterType);
      const parameters = Object.values(app.templates.streaming.findResources('AWS::SSM::Parameter')).map(
        (p) => p.Properties as { Name: string; Value: unknown; Type: string },
      );
      const byName = Object.fromEntries(parameters.map((p) => [p.Name, p]));
      expect(byName['/mds/dev/kafka/cluster-arn']?.Value).toEqual({ 'Fn::GetAtt': [clusterId, 'Arn'] });
      expect(JSON.stringify(byName['/mds/dev/kafka/bootstrap-brokers']?.Value)).toContain(
        'BootstrapBrokerStringSaslIam',
      );
      expect(JSON.stringify(byName['/mds/dev/kafka/client-security-group-id']?.Value)).toContain(
        'ClientSecurityGroup',
      );
    }
  });

  it('has the Ingest stack read those parameters at deploy and wait for the Streaming stack', () => {
    const parameters = (serverless.templates.ingest.toJSON().Parameters ?? {}) as Record<
      string,
      { Type: string; Default: string }
    >;
    const ssm = Object.values(parameters)
      .filter((p) => p.Type === 'AWS::SSM::Parameter::Value<String>')
      .map((p) => p.Default)
      .filter((name) => !name.startsWith('/cdk-bootstrap/'))
      .sort();
    expect(ssm).toEqual([
      '/mds/dev/kafka/bootstrap-brokers',
      '/mds/dev/kafka/client-security-group-id',
      '/mds/dev/kafka/cluster-arn',
    ]);
    expect(serverless.stacks.ingest.dependencies).toContain(serverless.stacks.streaming);
    serverless.templates.ingest.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { Ref: Match.stringLikeRegexp('^SsmParameterValue') },
    });
  });

  it('gives each mode its own cluster name, so the new cluster can be created while the old one exists', () => {
    const [, sless] = only(serverless.templates.streaming, 'AWS::MSK::ServerlessCluster');
    const [, prov] = only(provisioned.templates.streaming, 'AWS::MSK::Cluster');
    expect(prov.Properties.ClusterName).not.toEqual(sless.Properties.ClusterName);
  });
});
