/**
 * `npm run synth` as CI runs it: the real CLI, real esbuild bundling, cdk-nag, no AWS credentials,
 * no Docker. Slow (it bundles every function), so it runs once per environment of interest.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAssembly, synthesizeAssembly } from '../../localstack/lambda/assembly.ts';

const root = path.resolve(import.meta.dirname, '../..');
const outdirs: string[] = [];

/** The environment of a fresh CI machine: no credentials, no profile, no instance metadata. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_VERSION_CHECK: '1',
  };
  for (const key of Object.keys(env)) {
    if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|DEFAULT_PROFILE)$/.test(key))
      delete env[key];
  }
  return env;
}

/**
 * An asset's hash covers its source map, whose paths are relative to the output folder, so the output folder
 * is one level below the project, as cdk.out is: the hashes are those of `cdk synth` / `cdk deploy`.
 */
function synth(...args: string[]) {
  const outdir = mkdtempSync(path.join(root, '.mds-synth-test-'));
  outdirs.push(outdir);
  const result = spawnSync('npm', ['run', '--silent', 'synth', '--', '-o', outdir, ...args], {
    cwd: root,
    env: offlineEnv(),
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { ...result, outdir };
}

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe('npm run synth', () => {
  it('synthesizes every stack offline, with bundled functions and the dbt image staged', async () => {
    // Act
    const result = synth();
    // Assess
    expect(result.status, result.stderr).toBe(0);
    const templates = readdirSync(result.outdir).filter((f) => f.endsWith('.template.json'));
    expect(templates.sort()).toEqual(
      ['Ingest', 'Network', 'Observability', 'Pipeline', 'Storage', 'Streaming']
        .map((u) => `Mds-dev-${u}.template.json`)
        .sort(),
    );
    const assets = JSON.parse(
      readFileSync(path.join(result.outdir, 'Mds-dev-Pipeline.assets.json'), 'utf8'),
    ) as {
      files: Record<string, { source: { path: string } }>;
      dockerImages: Record<string, { source: { directory: string } }>;
    };
    // Each function is one ESM bundle produced by the local esbuild.
    const bundles = Object.values(assets.files)
      .map((f) => path.join(result.outdir, f.source.path, 'index.mjs'))
      .filter((f) => existsSync(f));
    expect(bundles.length).toBeGreaterThanOrEqual(4);
    for (const bundle of bundles) expect(readFileSync(bundle, 'utf8')).toContain('createRequire');
    const [image] = Object.values(assets.dockerImages);
    expect(existsSync(path.join(result.outdir, image!.source.directory, 'Dockerfile'))).toBe(true);
    // The local pipeline runs these very bundles: its assembly has the same asset for every function.
    const deployed = new Map(readAssembly(result.outdir, 'dev').functions.map((f) => [f.id, f.assetHash]));
    const local = await synthesizeAssembly({ envName: 'dev' });
    expect(new Map(local.functions.map((f) => [f.id, f.assetHash]))).toEqual(deployed);
  }, 300_000);

  it('stops with the setting and the allowed values on a wrong environment', () => {
    const result = synth('-c', 'env=staging');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      'Configuration error: env: "staging" is not a known environment. Use -c env=dev or -c env=prod.',
    );
  }, 300_000);
});
