/**
 * The cloud assembly that `cdk synth` emits, as the local runtime reads it: the templates of every stack and,
 * for each Lambda function, the bundle CDK uploads (its asset folder), its handler, timeout, memory and the
 * environment its template sets.
 *
 * `synthesizeAssembly` runs the CDK CLI exactly as a deploy does (`cdk synth -c env=<env>`), into a cache
 * folder named by a hash of everything the synthesis reads (the app, the functions' sources, the dbt folder,
 * the lock file, cdk.json), so a warm start reuses it and any change to a source synthesizes anew.
 *
 * The cache folders sit directly in the project folder, as `cdk.out` does, because an asset's hash covers its
 * source map, whose paths are relative to the output folder: at the same depth the functions get the asset
 * hashes of `cdk synth` / `cdk deploy` with the default output folder.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { MdsError } from '../../lambdas/core/errors.ts';
import { PROJECT_ROOT } from '../paths.ts';

/** A CloudFormation template, as far as the local runtime reads it. */
export interface Template {
  readonly Resources: Record<
    string,
    {
      readonly Type: string;
      readonly Properties?: Record<string, unknown>;
      readonly Metadata?: Record<string, unknown>;
    }
  >;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Export?: { readonly Name: string } }>;
  readonly Parameters?: Record<string, { readonly Type: string; readonly Default?: unknown }>;
}

/** One Lambda function of the assembly. */
export interface LambdaFunctionSpec {
  /** The construct id under its stack, e.g. `Loader`, `Topic/AdminFunction`. */
  readonly id: string;
  readonly stack: string;
  readonly logicalId: string;
  /** `index.handler`: the module file (without .mjs/.js) and the exported name. */
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMiB: number;
  /** The asset's hash: the folder `asset.<hash>` of the assembly and the key of the zip CDK uploads. */
  readonly assetHash: string;
  /** The bundle's folder. */
  readonly codeDir: string;
  /** `Environment.Variables` as the template writes them (values may be CloudFormation expressions). */
  readonly environment: Readonly<Record<string, unknown>>;
}

export interface CloudAssembly {
  readonly dir: string;
  readonly envName: string;
  /** Templates by stack name. */
  readonly templates: ReadonlyMap<string, Template>;
  readonly functions: readonly LambdaFunctionSpec[];
}

/** What the synthesis reads, relative to the project root; a change to any of them synthesizes anew. */
const SYNTH_INPUTS = [
  'bin',
  'lib',
  'lambdas',
  'stepfunctions',
  'dashboard',
  'dbt',
  'cdk.json',
  'package-lock.json',
  'tsconfig.json',
  'patches',
];
const SKIPPED_FOLDERS = new Set(['node_modules', 'target', 'logs', 'dbt_packages']);

/** Every file the synthesis reads (SYNTH_INPUTS), relative to the root, in a stable order. */
function synthInputFiles(root: string): string[] {
  const files: string[] = [];
  const visit = (rel: string): void => {
    const abs = path.join(root, rel);
    if (!existsSync(abs)) return;
    const st = statSync(abs);
    if (st.isDirectory()) {
      for (const name of readdirSync(abs).sort()) {
        if (name.startsWith('.') || SKIPPED_FOLDERS.has(name)) continue;
        visit(path.join(rel, name));
      }
    } else if (st.isFile()) files.push(rel);
  };
  for (const input of SYNTH_INPUTS) visit(input);
  return files;
}

/** A hash of every file the synthesis reads, and of the environment's name. */
export function synthInputsHash(envName: string, root: string = PROJECT_ROOT): string {
  const hash = createHash('sha256').update(`env=${envName}\n`);
  for (const rel of synthInputFiles(root)) {
    hash
      .update(`${rel}\n`)
      .update(readFileSync(path.join(root, rel)))
      .update('\n');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Refuses an assembly synthesized before the last change to a source it was synthesized from (a stale
 * `cdk synth -o <dir>`), naming the newest such file and the command that brings it up to date.
 */
export function assertAssemblyFresh(assembly: CloudAssembly, root: string = PROJECT_ROOT): void {
  const synthesizedAt = statSync(path.join(assembly.dir, 'manifest.json')).mtimeMs;
  let newest: { rel: string; mtime: number } | undefined;
  for (const rel of synthInputFiles(root)) {
    const mtime = statSync(path.join(root, rel)).mtimeMs;
    if (mtime > synthesizedAt && (!newest || mtime > newest.mtime)) newest = { rel, mtime };
  }
  if (newest) {
    throw new MdsError(
      `the cloud assembly in ${assembly.dir} is older than ${newest.rel}, so it would not run the sources as they are; synthesize it again: npx cdk synth -c env=${assembly.envName} -o ${assembly.dir} (or leave out --assembly)`,
    );
  }
}

export interface SynthesizeOptions {
  /** The environment of the CDK app (`-c env=`). @default 'dev' */
  readonly envName?: string;
  /** The folder the cached assemblies (`.mds-assembly-<env>-<hash>`) are kept in. @default the project folder */
  readonly cacheDir?: string;
  /** Progress lines (a cold synthesis takes some seconds). */
  readonly log?: (line: string) => void;
}

/** The cached assemblies' folder names: `.mds-assembly-<env>-<hash of the inputs>`. */
export const ASSEMBLY_CACHE_PREFIX = '.mds-assembly-';

/**
 * The assembly of `cdk synth -c env=<env>` for the sources as they are now: from the cache when it was
 * synthesized from the same inputs, else synthesized by the CDK CLI (into a temporary folder that is renamed
 * into place, so concurrent callers never read half an assembly).
 */
export async function synthesizeAssembly(options: SynthesizeOptions = {}): Promise<CloudAssembly> {
  const envName = options.envName ?? 'dev';
  const cacheDir = options.cacheDir ?? PROJECT_ROOT;
  const dir = path.join(cacheDir, `${ASSEMBLY_CACHE_PREFIX}${envName}-${synthInputsHash(envName)}`);
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    await mkdir(cacheDir, { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}-${Date.now().toString(36)}`;
    options.log?.(`synthesizing the CDK app (env ${envName}) into ${path.relative(PROJECT_ROOT, dir)}`);
    try {
      await runCdkSynth(envName, tmp);
      await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
        // Another process put the same assembly in place first: keep that one.
        if (!existsSync(path.join(dir, 'manifest.json'))) throw err;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    await pruneOtherAssemblies(cacheDir, envName, dir);
  }
  return readAssembly(dir);
}

async function pruneOtherAssemblies(cacheDir: string, envName: string, keep: string): Promise<void> {
  for (const name of await readdir(cacheDir)) {
    const full = path.join(cacheDir, name);
    if (full !== keep && name.startsWith(`${ASSEMBLY_CACHE_PREFIX}${envName}-`) && !name.includes('.tmp-')) {
      await rm(full, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

function runCdkSynth(envName: string, outdir: string): Promise<void> {
  const cli = path.join(PROJECT_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  if (!existsSync(cli)) {
    throw new MdsError('the CDK CLI is not installed (node_modules/aws-cdk); run: bash scripts/setup.sh');
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'synth', '-q', '-c', `env=${envName}`, '-o', outdir], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) return resolve();
      const lines = output
        .split('\n')
        .filter((l) => l.trim() && !/feature flags are not configured/.test(l))
        .slice(-12)
        .join('\n');
      reject(new MdsError(`cdk synth -c env=${envName} failed (exit ${code}):\n${lines}`));
    });
  });
}

interface Manifest {
  readonly artifacts: Record<
    string,
    { readonly type: string; readonly properties?: { readonly templateFile?: string } }
  >;
}

/** Reads an assembly folder (the cache's, or one that `cdk synth -o <dir>` wrote). */
export function readAssembly(dir: string, envName?: string): CloudAssembly {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new MdsError(
      `no cloud assembly in ${dir} (manifest.json is missing); synthesize one with: npx cdk synth -c env=${envName ?? 'dev'} -o ${dir}`,
    );
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  const templates = new Map<string, Template>();
  for (const [name, artifact] of Object.entries(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    templates.set(
      name,
      JSON.parse(readFileSync(path.join(dir, artifact.properties.templateFile), 'utf8')) as Template,
    );
  }
  const functions: LambdaFunctionSpec[] = [];
  for (const [stack, template] of templates) {
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const p = resource.Properties ?? {};
      const assetPath = resource.Metadata?.['aws:asset:path'];
      const cdkPath = String(resource.Metadata?.['aws:cdk:path'] ?? logicalId);
      if (typeof assetPath !== 'string') continue; // inline code: nothing of ours to run
      functions.push({
        id: cdkPath.replace(/^[^/]+\//, '').replace(/\/Resource$/, ''),
        stack,
        logicalId,
        handler: String(p.Handler ?? 'index.handler'),
        runtime: String(p.Runtime ?? ''),
        timeoutSeconds: Number(p.Timeout ?? 3),
        memoryMiB: Number(p.MemorySize ?? 128),
        assetHash: assetPath.replace(/^asset\./, ''),
        codeDir: path.join(dir, assetPath),
        environment:
          ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables as Record<
            string,
            unknown
          >) ?? {},
      });
    }
  }
  const name = envName ?? /^Mds-([^-]+)-/.exec([...templates.keys()][0] ?? '')?.[1] ?? 'dev';
  return { dir, envName: name, templates, functions };
}

/** The function with this construct id (e.g. `Loader`), or an error that lists the ids there are. */
export function functionById(assembly: CloudAssembly, id: string): LambdaFunctionSpec {
  const fn = assembly.functions.find((f) => f.id === id);
  if (!fn) {
    throw new MdsError(
      `the cloud assembly in ${assembly.dir} has no function ${id}; it has ${assembly.functions.map((f) => f.id).join(', ')}`,
    );
  }
  return fn;
}

/** The settings of the event source mapping that invokes a function, as its template sets them. */
export interface EventSourceMappingSpec {
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** Retries of a failed batch before it goes to the on-failure destination (-1: until the records expire). */
  readonly maximumRetryAttempts: number;
  readonly bisectBatchOnFunctionError: boolean;
}

export function eventSourceMappingOf(
  assembly: CloudAssembly,
  fn: LambdaFunctionSpec,
): EventSourceMappingSpec {
  const template = assembly.templates.get(fn.stack);
  const mapping = Object.values(template?.Resources ?? {}).find(
    (r) =>
      r.Type === 'AWS::Lambda::EventSourceMapping' &&
      (r.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref === fn.logicalId,
  );
  if (!mapping) throw new MdsError(`${fn.id} has no event source mapping in ${fn.stack}`);
  const p = mapping.Properties ?? {};
  return {
    batchSize: Number(p.BatchSize ?? 100),
    batchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
    startingPosition: p.StartingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
    maximumRetryAttempts: Number(p.MaximumRetryAttempts ?? -1),
    bisectBatchOnFunctionError: p.BisectBatchOnFunctionError === true,
  };
}
