/**
 * The local Lambda runtime: runs each function of the cloud assembly from its asset (the bundle `cdk deploy`
 * uploads) in execution environments of its own, worker threads started from bootstrap.mjs with the
 * function's environment as their `process.env`.
 *
 * What resolves inside an environment is what the Node.js runtime of Lambda provides, the AWS SDK v3
 * (`@aws-sdk/*`), plus the local layers the function is given by name (the DuckDB binding, which exists
 * only on a laptop). The bundle is copied into a folder outside the project whose `node_modules` holds only
 * those, so a bundle that needs anything else fails at init exactly as it would in AWS.
 *
 * An invocation gets the Lambda event as JSON and a context (`awsRequestId`, `functionName`,
 * `getRemainingTimeInMillis()`); the configured timeout is enforced (the environment is discarded, as Lambda
 * does); an error comes back as Lambda reports it, a `LambdaInvocationError` with `errorType` as its name,
 * so Step Functions' Retry and Catch by error name see real errors. Idle environments are reused (warm
 * starts); each function has at most `concurrency` of them. What a function prints goes to its log file,
 * framed by START / END / REPORT lines as in CloudWatch Logs.
 */
import { randomUUID, createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { cp, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { MdsError } from '../../lambdas/core/errors.ts';
import { PROJECT_ROOT } from '../paths.ts';
import type { LambdaFunctionSpec } from './assembly.ts';

/** The modules the Node.js runtime of Lambda provides to every function. */
export const RUNTIME_MODULES = ['@aws-sdk'] as const;

/** A named set of packages that only a laptop provides, linked into the environments that are given it. */
export interface LocalLayer {
  readonly name: string;
  /** Package names or scopes under the project's node_modules, e.g. `@duckdb`. */
  readonly modules: readonly string[];
  /** Runs every invocation of a function with this layer (e.g. to hold the DuckDB file exclusively). */
  readonly around?: <T>(invoke: () => Promise<T>) => Promise<T>;
}

/** How one function runs locally: its environment (the template's, resolved) and what was changed. */
export interface LocalFunctionSetup {
  readonly environment: Readonly<Record<string, string>>;
  /** The variables set or changed for the local stand-ins, for the run report. */
  readonly overrides: readonly string[];
  readonly layers: readonly LocalLayer[];
  /** @default 2 */
  readonly concurrency?: number;
}

/** A failed invocation, as Lambda reports it: `name` is the errorType. */
export class LambdaInvocationError extends MdsError {
  constructor(
    readonly functionId: string,
    readonly errorType: string,
    readonly errorMessage: string,
    readonly trace: readonly string[] = [],
  ) {
    super(errorMessage);
    this.name = errorType;
  }
}

/** A function that cannot start in its environment (init failed): names the function and the fix. */
export class LambdaInitError extends MdsError {}

export interface LocalLambdaRuntimeOptions {
  /** Where each function's log file is written. */
  readonly logDir: string;
  /** The folder for the environments' code; must have no node_modules above it. @default <tmpdir>/mds-lambda-<hash> */
  readonly codeRoot?: string;
  readonly region?: string;
}

interface Environment {
  readonly id: string;
  readonly worker: Worker;
  readonly ready: Promise<void>;
  busy: boolean;
  current?: {
    readonly requestId: string;
    readonly resolve: (payload: string) => void;
    readonly reject: (err: Error) => void;
  };
}

interface FunctionState {
  readonly spec: LambdaFunctionSpec;
  readonly setup: LocalFunctionSetup;
  readonly entry: Promise<string>;
  readonly environments: Set<Environment>;
  readonly waiting: ((env: Environment | undefined) => void)[];
  readonly log: WriteStream;
  /** Why the function's log file could not be written (a full disk), when it could not. */
  logError?: string;
  invocations: number;
  coldStarts: number;
}

export interface FunctionReport {
  readonly id: string;
  readonly logicalId: string;
  readonly assetHash: string;
  readonly invocations: number;
  readonly coldStarts: number;
  readonly layers: readonly string[];
  readonly overrides: readonly string[];
  /** Only when the log file could not be written: why (invocations go on, as Lambda's do without logs). */
  readonly logError?: string;
}

export class LocalLambdaRuntime {
  private readonly functions = new Map<string, FunctionState>();
  private readonly codeRoot: string;
  private closed = false;

  constructor(private readonly options: LocalLambdaRuntimeOptions) {
    this.codeRoot =
      options.codeRoot ??
      path.join(
        tmpdir(),
        `mds-lambda-${createHash('sha256').update(PROJECT_ROOT).digest('hex').slice(0, 8)}`,
      );
  }

  /** Adds a function; its code is prepared at once, its first environment starts on first use. */
  register(spec: LambdaFunctionSpec, setup: LocalFunctionSetup): void {
    if (this.functions.has(spec.id)) throw new MdsError(`function ${spec.id} is registered twice`);
    const logFile = path.join(this.options.logDir, `${spec.id.replace(/[^A-Za-z0-9_-]+/g, '-')}.log`);
    // Before the stream opens its file: a stream opened first would fail with ENOENT.
    mkdirSync(this.options.logDir, { recursive: true });
    const state: FunctionState = {
      spec,
      setup,
      entry: this.prepareCode(spec, setup.layers),
      environments: new Set(),
      waiting: [],
      log: createWriteStream(logFile, { flags: 'a' }),
      invocations: 0,
      coldStarts: 0,
    };
    state.entry.catch(() => undefined);
    // A log write that fails (ENOSPC) must not crash the process with an unhandled 'error' event: the
    // invocation's own outcome decides, as in Lambda, where logs are a separate service.
    state.log.on('error', (err) => {
      state.logError ??= `${logFile}: ${err.message}`;
    });
    this.functions.set(spec.id, state);
  }

  has(id: string): boolean {
    return this.functions.has(id);
  }

  /** The registered function whose template logical id this is (Step Functions names functions by ARN). */
  byLogicalId(logicalId: string): string | undefined {
    for (const [id, f] of this.functions) if (f.spec.logicalId === logicalId) return id;
    return undefined;
  }

  /**
   * Starts one environment of each function and waits for its init: a bundle that imports a module the
   * runtime does not provide fails here, before anything runs, with the function and the module named.
   */
  async preflight(ids: readonly string[] = [...this.functions.keys()]): Promise<void> {
    for (const id of ids) {
      const f = this.state(id);
      if (f.environments.size > 0) continue;
      const env = await this.startEnvironment(f);
      env.busy = false;
      this.release(f, env);
    }
  }

  /** Invokes a function with an event; resolves with its (JSON) result or rejects with a LambdaInvocationError. */
  async invoke(id: string, event: unknown): Promise<unknown> {
    const f = this.state(id);
    const run = async () => {
      const env = await this.acquire(f);
      const requestId = randomUUID();
      const timeoutMs = f.spec.timeoutSeconds * 1000;
      const started = performance.now();
      f.invocations++;
      f.log.write(`START RequestId: ${requestId} Version: $LATEST\n`);
      let timer: NodeJS.Timeout | undefined;
      try {
        const payload = await new Promise<string>((resolve, reject) => {
          env.current = { requestId, resolve, reject };
          timer = setTimeout(() => {
            const seconds = (timeoutMs / 1000).toFixed(2);
            reject(
              new LambdaInvocationError(
                id,
                'Sandbox.Timedout',
                `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds`,
              ),
            );
            this.discard(f, env);
          }, timeoutMs);
          env.worker.postMessage({
            type: 'invoke',
            requestId,
            event: JSON.stringify(event ?? null),
            deadlineMs: Date.now() + timeoutMs,
            environmentId: env.id,
          });
        });
        return JSON.parse(payload) as unknown;
      } finally {
        clearTimeout(timer);
        env.current = undefined;
        const ms = performance.now() - started;
        f.log.write(
          `END RequestId: ${requestId}\nREPORT RequestId: ${requestId}\tDuration: ${ms.toFixed(2)} ms\tMemory Size: ${f.spec.memoryMiB} MB\n`,
        );
        if (f.environments.has(env)) {
          env.busy = false;
          this.release(f, env);
        }
      }
    };
    let wrapped = run;
    for (const layer of f.setup.layers) {
      const inner = wrapped;
      if (layer.around) wrapped = () => layer.around!(inner);
    }
    return wrapped();
  }

  /**
   * Ends the function's idle execution environments, as Lambda reclaims environments that go unused: the
   * memory their heaps hold goes back, and the next invocation starts a fresh one (a cold start). Returns
   * how many ended; a busy environment is left alone.
   */
  async retireIdle(id: string): Promise<number> {
    const f = this.state(id);
    const idle = [...f.environments].filter((env) => !env.busy);
    for (const env of idle) f.environments.delete(env);
    await Promise.all(idle.map((env) => env.worker.terminate()));
    return idle.length;
  }

  report(): FunctionReport[] {
    return [...this.functions.values()].map((f) => ({
      id: f.spec.id,
      logicalId: f.spec.logicalId,
      assetHash: f.spec.assetHash,
      invocations: f.invocations,
      coldStarts: f.coldStarts,
      layers: f.setup.layers.map((l) => l.name),
      overrides: f.setup.overrides,
      ...(f.logError ? { logError: f.logError } : {}),
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
    const all: Promise<unknown>[] = [];
    for (const f of this.functions.values()) {
      for (const w of f.waiting.splice(0)) w(undefined);
      for (const env of f.environments) all.push(env.worker.terminate());
      f.environments.clear();
      all.push(new Promise((resolve) => f.log.end(resolve)));
    }
    await Promise.all(all);
  }

  private state(id: string): FunctionState {
    const f = this.functions.get(id);
    if (!f) {
      throw new MdsError(
        `the local Lambda runtime has no function ${id}; it has ${[...this.functions.keys()].join(', ')}`,
      );
    }
    return f;
  }

  private async acquire(f: FunctionState): Promise<Environment> {
    if (this.closed) throw new MdsError('the local Lambda runtime is closed');
    for (const env of f.environments) {
      if (!env.busy) {
        env.busy = true;
        return env;
      }
    }
    if (f.environments.size < (f.setup.concurrency ?? 2)) return this.startEnvironment(f);
    const env = await new Promise<Environment | undefined>((resolve) => f.waiting.push(resolve));
    if (!env) throw new MdsError('the local Lambda runtime is closed');
    return env;
  }

  private release(f: FunctionState, env: Environment): void {
    const next = f.waiting.shift();
    if (next) {
      env.busy = true;
      next(env);
    }
  }

  /** Ends an environment (after a timeout or a crash); a waiting invocation gets a fresh one. */
  private discard(f: FunctionState, env: Environment): void {
    f.environments.delete(env);
    void env.worker.terminate();
    const next = f.waiting.shift();
    if (next) this.startEnvironment(f).then(next, () => next(undefined));
  }

  private async startEnvironment(f: FunctionState): Promise<Environment> {
    const entry = await f.entry;
    const exportName = f.spec.handler.split('.').pop() ?? 'handler';
    const worker = new Worker(new URL('./bootstrap.mjs', import.meta.url), {
      env: { ...f.setup.environment },
      workerData: {
        entry,
        exportName,
        functionName: f.spec.id,
        memoryMiB: f.spec.memoryMiB,
        logGroupName: `/aws/lambda/${f.spec.id}`,
        region: this.options.region ?? 'us-east-1',
      },
      // The function's memory setting bounds its heap, as Lambda's memory bounds the process.
      resourceLimits: { maxOldGenerationSizeMb: f.spec.memoryMiB },
      execArgv: [
        ...(/--enable-source-maps/.test(f.setup.environment.NODE_OPTIONS ?? '')
          ? ['--enable-source-maps']
          : []),
        ...profilerFlags(process.execArgv),
      ],
      stdout: true,
      stderr: true,
    });
    worker.stdout.pipe(f.log, { end: false });
    worker.stderr.pipe(f.log, { end: false });
    let markReady!: () => void;
    let failInit!: (e: Error) => void;
    const env: Environment = {
      id: randomUUID().replace(/-/g, ''),
      worker,
      busy: true,
      ready: new Promise<void>((resolve, reject) => {
        markReady = resolve;
        failInit = reject;
      }),
    };
    env.ready.catch(() => undefined);
    f.environments.add(env);
    f.coldStarts++;
    worker.on('message', (m: WorkerMessage) => {
      switch (m.type) {
        case 'ready':
          return markReady();
        case 'initError':
          return failInit(initError(f.spec, m.error));
        case 'result':
          return env.current?.resolve(m.payload);
        case 'error':
          return env.current?.reject(
            new LambdaInvocationError(f.spec.id, m.error.errorType, m.error.errorMessage, m.error.trace),
          );
      }
    });
    const exited = (detail: string) => {
      const wasCurrent = env.current;
      failInit(new LambdaInitError(`${f.spec.id}: the execution environment ended during init: ${detail}`));
      if (f.environments.has(env)) this.discard(f, env);
      wasCurrent?.reject(
        new LambdaInvocationError(
          f.spec.id,
          'Runtime.ExitError',
          `RequestId: ${wasCurrent.requestId} Error: Runtime exited with error: ${detail}`,
        ),
      );
    };
    worker.on('error', (err) => exited(err.message));
    worker.on('exit', (code) => {
      if (f.environments.has(env) || env.current) exited(`exit status ${code}`);
    });
    try {
      await env.ready;
    } catch (err) {
      f.environments.delete(env);
      await worker.terminate();
      throw err;
    }
    return env;
  }

  /**
   * The function's code in a folder of its own, outside the project: the asset's files, and a node_modules
   * with only the runtime's modules and the layers' (links into the project's node_modules).
   */
  private async prepareCode(spec: LambdaFunctionSpec, layers: readonly LocalLayer[]): Promise<string> {
    assertNoNodeModulesAbove(this.codeRoot);
    const layerNames = layers.map((l) => l.name).sort();
    const dir = path.join(this.codeRoot, [spec.assetHash.slice(0, 16), ...layerNames].join('+'));
    const file = spec.handler.split('.').slice(0, -1).join('.') || 'index';
    const entry = ['.mjs', '.js'].map((ext) => path.join(dir, file + ext)).find((p) => existsSync(p));
    if (entry && existsSync(path.join(dir, '.complete'))) return entry;
    const tmp = `${dir}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;
    await rm(tmp, { recursive: true, force: true });
    await cp(spec.codeDir, tmp, { recursive: true });
    const modules = path.join(tmp, 'node_modules');
    await mkdir(modules, { recursive: true });
    for (const name of [...RUNTIME_MODULES, ...layers.flatMap((l) => l.modules)]) {
      const target = path.join(PROJECT_ROOT, 'node_modules', name);
      if (!existsSync(target)) {
        throw new LambdaInitError(
          `${spec.id}: ${name} is not installed in the project's node_modules, so the local runtime cannot provide it; run: bash scripts/setup.sh`,
        );
      }
      await mkdir(path.dirname(path.join(modules, name)), { recursive: true });
      await symlink(target, path.join(modules, name), 'dir');
    }
    await writeFile(path.join(tmp, '.complete'), '');
    if (!existsSync(path.join(dir, '.complete'))) await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      // Another process prepared the same code first: use that one.
      await rm(tmp, { recursive: true, force: true });
      if (!existsSync(path.join(dir, '.complete'))) throw err;
    });
    const placed = ['.mjs', '.js'].map((ext) => path.join(dir, file + ext)).find((p) => existsSync(p));
    if (!placed) throw new LambdaInitError(`${spec.id}: its asset ${spec.codeDir} has no ${file}.mjs`);
    return placed;
  }
}

/**
 * The CPU and heap profiler flags of this process (`node --cpu-prof --cpu-prof-dir=DIR ...`), which an
 * environment gets too: a worker given its own execArgv inherits none of the parent's, so without them the
 * Consumer's landing and the Loader's decoding, most of the land and load stages, would be missing from a
 * profile of the pipeline. Node writes an environment's profile when it ends, terminated or not.
 */
export function profilerFlags(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  execArgv.forEach((flag, i) => {
    if (!/^--(cpu|heap)-prof/.test(flag)) return;
    out.push(flag);
    // `--cpu-prof-dir DIR`: a flag that takes a value, given as the next argument.
    const next = execArgv[i + 1];
    if (/^--(cpu|heap)-prof-(dir|name|interval)$/.test(flag) && next !== undefined) out.push(next);
  });
  return out;
}

type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'initError'; readonly error: LambdaErrorPayload }
  | { readonly type: 'result'; readonly requestId: string; readonly payload: string }
  | { readonly type: 'error'; readonly requestId: string; readonly error: LambdaErrorPayload };

interface LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** An init failure with the module named and what to do about it. */
function initError(spec: LambdaFunctionSpec, error: LambdaErrorPayload): LambdaInitError {
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(error.errorMessage)?.[1];
  const fix = !missing
    ? 'see the function log for the stack trace'
    : missing.startsWith('@aws-sdk/')
      ? `the Lambda runtime provides ${missing}, but this project has not installed it; add it to devDependencies (npm install --save-dev ${missing})`
      : `the Lambda runtime provides only ${RUNTIME_MODULES.join(', ')}: bundle ${missing} into the function (remove it from externalModules in lib/constructs/mds-function.ts) or import it only where it is needed`;
  return new LambdaInitError(
    `${spec.id} (asset ${spec.assetHash.slice(0, 12)}) cannot start: ${error.errorType}: ${error.errorMessage.split('\n')[0]}. Fix: ${fix}`,
  );
}

/** ESM resolution walks up the folders: a node_modules above the code folder would hide a missing module. */
function assertNoNodeModulesAbove(dir: string): void {
  for (let d = path.dirname(path.resolve(dir)); ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'node_modules'))) {
      throw new MdsError(
        `the local Lambda runtime cannot isolate functions under ${dir}: ${path.join(d, 'node_modules')} would resolve modules the Lambda runtime does not provide; set TMPDIR to a folder outside any Node.js project`,
      );
    }
    if (path.dirname(d) === d) return;
  }
}
