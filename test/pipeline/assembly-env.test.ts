/**
 * The local pipeline runs what the cloud assembly says: a function whose template environment is broken fails
 * the local run at that function's step, with the cause the handler gives (as the deployed run would).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAssembly, synthesizeAssembly } from '../../localstack/lambda/assembly.ts';
import { startLocalServices, type LocalServices } from '../../localstack/pipeline/services.ts';
import { runWorkflowLocally } from '../../localstack/pipeline/workflow.ts';

let dir: string;
let services: LocalServices;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mds-broken-env-'));
  // A copy of the assembly of `cdk synth -c env=dev` whose Loader has lost BUCKET_NAME.
  const synthesized = await synthesizeAssembly({ envName: 'dev' });
  const copy = path.join(dir, 'assembly');
  await cp(synthesized.dir, copy, { recursive: true });
  const loader = synthesized.functions.find((f) => f.id === 'Loader')!;
  const file = path.join(copy, `${loader.stack}.template.json`);
  const template = JSON.parse(await readFile(file, 'utf8')) as {
    Resources: Record<string, { Properties: { Environment: { Variables: Record<string, unknown> } } }>;
  };
  delete template.Resources[loader.logicalId]!.Properties.Environment.Variables.BUCKET_NAME;
  await writeFile(file, JSON.stringify(template));
  services = await startLocalServices({
    dataDir: path.join(dir, 'data'),
    brokerPort: 0,
    s3Port: 0,
    assembly: readAssembly(copy, 'dev'),
  });
}, 180_000);

afterAll(async () => {
  await services?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a broken environment in the cloud assembly', () => {
  it('fails the local run at LoadBronze, naming the missing variable', async () => {
    const run = await runWorkflowLocally(services, {
      window: { start: '2026-11-20T00:00:00.000Z', end: '2026-11-20T01:00:00.000Z' },
      retryIntervalMs: 10,
    });
    expect(run.execution.status).toBe('FAILED');
    expect(run.summary?.failure?.state).toBe('LoadBronze');
    expect(run.summary?.failure?.error).toBe('ConfigError');
    expect(run.summary?.failure?.cause).toMatch(/^BUCKET_NAME: is not set/);
  });
});
