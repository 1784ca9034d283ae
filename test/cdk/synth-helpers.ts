/** Synthesizes the app in-process for assertion tests: no esbuild bundling, one synth per test file. */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildApp, type MdsStacks } from '../../lib/app.ts';
import { loadConfig, type EnvironmentName } from '../../lib/config/environments.ts';

export interface SynthesizedApp {
  readonly stacks: MdsStacks;
  readonly templates: Record<keyof MdsStacks, Template>;
  /** The policy validation report (cdk-nag), parsed. */
  readonly validationReport?: {
    pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[];
  };
  /** The cloud assembly directory, until cleanup. */
  readonly outdir: string;
  /** The asset manifest (`<stack>.assets.json`) of one stack, parsed. */
  readonly assets: (stack: keyof MdsStacks) => AssetManifest;
  readonly cleanup: () => void;
}

/** The parts of a CDK asset manifest the tests read. */
export interface AssetManifest {
  readonly files?: Record<string, { source: { path: string } }>;
  readonly dockerImages?: Record<string, { source: { directory?: string; platform?: string } }>;
}

export function synthesize(
  envName: EnvironmentName,
  overrides?: unknown,
  options: { nag?: boolean } = {},
): SynthesizedApp {
  const outdir = mkdtempSync(path.join(tmpdir(), 'mds-cdk-test-'));
  const app = new App({
    outdir,
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stacks = buildApp(app, { envName, config: loadConfig(envName, overrides), nag: options.nag ?? true });
  app.synth();
  const templates = Object.fromEntries(
    Object.entries(stacks).map(([k, s]) => [
      k,
      Template.fromJSON(readJson(path.join(outdir, s.templateFile))),
    ]),
  ) as Record<keyof MdsStacks, Template>;
  let validationReport: SynthesizedApp['validationReport'];
  try {
    validationReport = readJson(
      path.join(outdir, 'validation-report.json'),
    ) as SynthesizedApp['validationReport'];
  } catch {
    validationReport = undefined;
  }
  return {
    stacks,
    templates,
    validationReport,
    outdir,
    assets: (stack) =>
      readJson(
        path.join(outdir, stacks[stack].templateFile.replace(/\.template\.json$/, '.assets.json')),
      ) as AssetManifest,
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** The one resource of a type in a template, with its logical id. */
export function only(template: Template, type: string): [string, { Properties: Record<string, unknown> }] {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as [string, { Properties: Record<string, unknown> }];
}
