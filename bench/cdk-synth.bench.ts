/**
 * How long the CDK app takes to synthesize in-process (what the tests and the local workflow pay),
 * with and without CloudFormation's built-in schema validation, and how long the local workflow
 * definition takes to produce. Bundling is skipped here; `npm run synth` adds esbuild per function.
 */
import { App } from 'aws-cdk-lib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildApp } from '../lib/app.ts';
import { loadConfig } from '../lib/config/environments.ts';
import { synthesizeLocalWorkflow } from '../localstack/workflow/definition.ts';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeSynth(validation: boolean, nag: boolean): number {
  const outdir = mkdtempSync(path.join(tmpdir(), 'mds-bench-synth-'));
  try {
    const t0 = performance.now();
    const app = new App({
      outdir,
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: validation,
    });
    buildApp(app, { envName: 'dev', config: loadConfig('dev'), nag });
    app.synth();
    return performance.now() - t0;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export default async function (): Promise<void> {
  const runs = 3;
  timeSynth(false, false); // warm the module cache so the first figure is not an import
  const plain = Array.from({ length: runs }, () => timeSynth(false, false));
  const nag = Array.from({ length: runs }, () => timeSynth(false, true));
  const validated = Array.from({ length: runs }, () => timeSynth(true, true));
  const local = Array.from({ length: runs }, () => {
    const t0 = performance.now();
    synthesizeLocalWorkflow();
    return performance.now() - t0;
  });
  const ms = (x: number) => `${Math.round(x)} ms`;
  console.log(`app synth, 6 stacks, no bundling (median of ${runs}):`);
  console.log(`  plain                          ${ms(median(plain))}`);
  console.log(
    `  + cdk-nag AwsSolutions         ${ms(median(nag))}  (x${(median(nag) / median(plain)).toFixed(1)})`,
  );
  console.log(
    `  + CloudFormation validation    ${ms(median(validated))}  (x${(median(validated) / median(plain)).toFixed(1)})`,
  );
  console.log(`synthesizeLocalWorkflow()        ${ms(median(local))}`);
}
