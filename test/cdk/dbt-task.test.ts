import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DBT_VERSION } from '../../localstack/dbt/index.ts';
import { only, synthesize, type SynthesizedApp } from './synth-helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');
let dev: SynthesizedApp;

beforeAll(() => {
  dev = synthesize('dev', undefined, { nag: false });
});

afterAll(() => dev?.cleanup());

/** ECS's CpuArchitecture as the Docker platform an image must be built for. */
const DOCKER_PLATFORM: Record<string, string> = { X86_64: 'linux/amd64', ARM64: 'linux/arm64' };

describe('dbt task image and architecture', () => {
  it('runs an X86_64 task whose image asset is built for linux/amd64, the only platform of the base image', () => {
    // Prepare / Act: dev, synthesized in beforeAll.
    const [, taskDef] = only(dev.templates.pipeline, 'AWS::ECS::TaskDefinition');
    const images = Object.values(dev.assets('pipeline').dockerImages ?? {});
    // Assess
    const runtime = taskDef.Properties.RuntimePlatform as { CpuArchitecture: string };
    expect(runtime.CpuArchitecture).toBe('X86_64');
    expect(images).toHaveLength(1);
    expect(images[0]?.source.platform).toBe('linux/amd64');
    expect(images[0]?.source.platform).toBe(DOCKER_PLATFORM[runtime.CpuArchitecture]);
  });

  it('pins the base image and dbt-core to the version the embedded runner claims, dbt-snowflake to its minor', () => {
    const dockerfile = readFileSync(path.join(root, 'dbt/Dockerfile'), 'utf8');
    const from = /^FROM\s+(\S+)/m.exec(dockerfile)?.[1];
    expect(from).toMatch(/^python:\d+\.\d+(\.\d+)?-slim-\w+(@sha256:[0-9a-f]{64})?$/);
    const core = /dbt-core==(\d+\.\d+\.\d+)/.exec(dockerfile)?.[1];
    const adapter = /dbt-snowflake==(\d+\.\d+)\.\d+/.exec(dockerfile)?.[1];
    expect(core).toBe(DBT_VERSION);
    expect(adapter).toBe(DBT_VERSION.split('.').slice(0, 2).join('.'));
  });

  it('lets the task write only runs/*/dbt/* of the bucket, where the workflow tells it to upload', () => {
    const policies = dev.templates.pipeline.findResources('AWS::IAM::Policy');
    const taskPolicy = Object.entries(policies).find(([id]) =>
      /Dbt.*TaskDefinitionTaskRoleDefaultPolicy/.test(id),
    );
    const statements = (taskPolicy?.[1].Properties.PolicyDocument.Statement ?? []) as {
      Action: string | string[];
      Resource: unknown;
    }[];
    const puts = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:Put')));
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0]?.Resource)).toContain('/runs/*/dbt/*');
    expect(JSON.stringify(puts[0]?.Resource)).not.toMatch(/\/runs\/\*"/);
  });

  it("lets the task out on 443 and, for the Snowflake drivers' OCSP checks, on 80; nothing else", () => {
    const groups = dev.templates.pipeline.findResources('AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: 'dbt task: outbound to Snowflake over HTTPS' },
    });
    const [group] = Object.values(groups);
    const egress = (group?.Properties.SecurityGroupEgress ?? []) as {
      FromPort: number;
      ToPort: number;
      IpProtocol: string;
      CidrIp: string;
      Description: string;
    }[];
    expect(egress.map((r) => [r.IpProtocol, r.FromPort, r.ToPort]).sort()).toEqual([
      ['tcp', 443, 443],
      ['tcp', 80, 80],
    ]);
    const http = egress.find((r) => r.FromPort === 80);
    expect(http?.Description).toMatch(/OCSP/);
  });
});
