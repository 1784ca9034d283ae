/**
 * The services of the compose file as separate processes, for tests of `mds local up` against external
 * endpoints: the broker (`mds broker start`) and the S3-API server, each started and waited for until it
 * prints where it listens, and stopped by its pid (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../localstack/paths.ts';

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  stop(): Promise<void>;
}

async function startService(args: readonly string[], what: string): Promise<ServiceProcess> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  let m: RegExpExecArray | null = null;
  while (!(m = /listening on (?:http:\/\/)?127\.0\.0\.1:(\d+)/.exec(out))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    port: Number(m[1]),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** `mds broker start` on a free port; `autoCreate: false` makes a client create the topic itself. */
export function startBrokerProcess(dataDir: string, options: { autoCreate?: boolean } = {}) {
  return startService(
    [
      path.join(PROJECT_ROOT, 'bin/mds.mjs'),
      'broker',
      'start',
      '--port',
      '0',
      '--data',
      dataDir,
      ...(options.autoCreate === false ? ['--no-auto-create'] : []),
    ],
    'the broker',
  );
}

/** The S3-API server (s3rver, credentials S3RVER/S3RVER) on a free port, with no bucket. */
export function startS3Process(directory: string) {
  return startService(
    [path.join(PROJECT_ROOT, 'test/helpers/s3-server-process.mjs'), directory, '0'],
    'the S3 server',
  );
}

/** Runs `mds ARGS` to its end without blocking this process (the services above keep being read). */
export function runMds(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
  timeoutMs = 600_000,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
