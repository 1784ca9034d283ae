/**
 * `mds produce --env`: the bootstrap brokers come from MSK's GetBootstrapBrokers (@aws-sdk/client-kafka) for the
 * cluster of the environment's Streaming stack. Local stand-ins answer as CloudFormation (DescribeStackResources,
 * awsQuery XML) and MSK (REST-JSON) do; the SDK reaches them through AWS_ENDPOINT_URL_<SERVICE>.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapBrokersOf } from '../../bin/commands/kafka-brokers.ts';

const ARN = 'arn:aws:kafka:eu-west-1:123456789012:cluster/mds-dev/0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f-s1';
const seen: string[] = [];
let cfn: Server;
let msk: Server;
const saved = { ...process.env };

function serve(handler: (path: string, body: string) => [number, string, string]): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${decodeURIComponent(req.url ?? '')} ${body}`);
      const [status, type, text] = handler(decodeURIComponent(req.url ?? ''), body);
      res.writeHead(status, { 'content-type': type });
      res.end(text);
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}
const url = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

beforeAll(async () => {
  cfn = await serve((_path, body) => {
    if (body.includes('StackName=Mds-prod-Streaming')) {
      return [
        400,
        'text/xml',
        '<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id Mds-prod-Streaming does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>',
      ];
    }
    return [
      200,
      'text/xml',
      `<DescribeStackResourcesResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStackResourcesResult><StackResources>` +
        `<member><LogicalResourceId>KafkaSg</LogicalResourceId><PhysicalResourceId>sg-1</PhysicalResourceId><ResourceType>AWS::EC2::SecurityGroup</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus><Timestamp>2026-11-01T00:00:00Z</Timestamp><StackName>Mds-dev-Streaming</StackName></member>` +
        `<member><LogicalResourceId>KafkaServerless</LogicalResourceId><PhysicalResourceId>${ARN}</PhysicalResourceId><ResourceType>AWS::MSK::ServerlessCluster</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus><Timestamp>2026-11-01T00:00:00Z</Timestamp><StackName>Mds-dev-Streaming</StackName></member>` +
        `</StackResources></DescribeStackResourcesResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStackResourcesResponse>`,
    ];
  });
  msk = await serve((path) =>
    path === `/v1/clusters/${ARN}/bootstrap-brokers`
      ? [
          200,
          'application/json',
          JSON.stringify({
            bootstrapBrokerStringSaslIam: 'boot-abc.c1.kafka-serverless.eu-west-1.amazonaws.com:9098',
          }),
        ]
      : [404, 'application/json', '{"message":"not found"}'],
  );
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_CLOUDFORMATION: url(cfn),
    AWS_ENDPOINT_URL_KAFKA: url(msk),
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});

afterAll(async () => {
  process.env = saved;
  await Promise.all([cfn, msk].map((s) => new Promise((r) => s.close(r))));
});

describe('the bootstrap brokers of a deployed environment', () => {
  it('come from GetBootstrapBrokers for the cluster of the Streaming stack', async () => {
    const got = await bootstrapBrokersOf('dev', 'eu-west-1');
    expect(got).toEqual({
      brokers: ['boot-abc.c1.kafka-serverless.eu-west-1.amazonaws.com:9098'],
      region: 'eu-west-1',
      clusterArn: ARN,
    });
    expect(
      seen.some(
        (s) => s.includes('Action=DescribeStackResources') && s.includes('StackName=Mds-dev-Streaming'),
      ),
    ).toBe(true);
    expect(seen).toContain(`GET /v1/clusters/${ARN}/bootstrap-brokers `);
  });

  it('an environment that is not deployed says so, with the deploy command', async () => {
    await expect(bootstrapBrokersOf('prod', 'eu-west-1')).rejects.toThrow(
      'the environment prod is not deployed: there is no stack Mds-prod-Streaming in eu-west-1; deploy it with `npx cdk deploy -c env=prod --all`',
    );
  });
});
