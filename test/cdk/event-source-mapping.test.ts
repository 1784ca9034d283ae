/**
 * The MSK event source mapping's error handling: bounded retries, batch bisection and the on-failure
 * queue, which Lambda reaches from the cluster's VPC through an SQS endpoint.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VPC_CIDR } from '../../lib/stacks/network-stack.ts';
import { only, synthesize, type SynthesizedApp } from './synth-helpers.ts';

let dev: SynthesizedApp;
let prod: SynthesizedApp;

beforeAll(() => {
  dev = synthesize('dev', undefined, { nag: false });
  prod = synthesize('prod', undefined, { nag: false });
});

afterAll(() => {
  dev?.cleanup();
  prod?.cleanup();
});

/** The interface endpoints of a Network template by service suffix (com.amazonaws.<region>.<service>). */
function interfaceEndpoints(t: Template): Record<string, Record<string, unknown>> {
  const found = t.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } });
  return Object.fromEntries(
    Object.values(found).map((e) => {
      const parts = (e.Properties.ServiceName as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      return [String(parts.at(-1)).replace(/^\./, ''), e.Properties as Record<string, unknown>];
    }),
  );
}

describe('MSK event source mapping', () => {
  it('uses provisioned pollers, the mode in which Kafka mappings take retry limits and bisection', () => {
    for (const [app, maximumPollers] of [
      [dev, 1],
      [prod, 2],
    ] as const) {
      const [, esm] = only(app.templates.ingest, 'AWS::Lambda::EventSourceMapping');
      expect(esm.Properties.ProvisionedPollerConfig).toEqual({
        MinimumPollers: 1,
        MaximumPollers: maximumPollers,
      });
      expect(esm.Properties.MaximumRetryAttempts).toBe(2);
      expect(esm.Properties.BisectBatchOnFunctionError).toBe(true);
      // A backlog after an outage is processed, not discarded for its age.
      expect(esm.Properties.MaximumRecordAgeInSeconds).toBeUndefined();
      expect(JSON.stringify(esm.Properties.DestinationConfig)).toContain('FailedBatches');
    }
  });

  it('reaches the on-failure queue through an SQS endpoint in the cluster VPC, in every environment', () => {
    for (const app of [dev, prod]) {
      const sqs = interfaceEndpoints(app.templates.network).sqs;
      expect(sqs).toBeDefined();
      expect(sqs?.PrivateDnsEnabled).toBe(true);
      // In the private subnets, where the cluster (and so the mapping's pollers) lives.
      expect(JSON.stringify(sqs?.SubnetIds)).toMatch(/privateSubnet1.*privateSubnet2/);
    }
    // Dev keeps every other interface endpoint off.
    expect(Object.keys(interfaceEndpoints(dev.templates.network))).toEqual(['sqs']);
  });

  it('admits HTTPS from the VPC, and only that, to the endpoints', () => {
    const groups = Object.values(
      dev.templates.network.findResources('AWS::EC2::SecurityGroup', {
        Properties: { GroupDescription: 'Interface endpoints: HTTPS from inside the VPC' },
      }),
    );
    expect(groups).toHaveLength(1);
    expect(groups[0]?.Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ CidrIp: VPC_CIDR, IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
  });
});
