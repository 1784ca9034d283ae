/**
 * `mds produce` and `mds consume` against a broker that is not there: one line naming the address and the fix,
 * a non-zero exit, and the process ends by itself (before, consume printed the error and never exited, and
 * produce printed kafkajs's stack traces first).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../localstack/paths.ts';

/** Runs mds; a process still running after `guardMs` is killed, and the test then fails on `signal`. */
function mds(args: string[], guardMs = 45_000) {
  return new Promise<{ status: number | null; signal: string | null; stderr: string; stdout: string }>(
    (resolve) => {
      const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/mds.mjs'), ...args], {
        env: { ...process.env, MDS_DEBUG: '' },
      });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      const guard = setTimeout(() => child.kill('SIGKILL'), guardMs);
      child.on('close', (status, signal) => {
        clearTimeout(guard);
        resolve({ status, signal, stderr, stdout });
      });
    },
  );
}

let data: string;
let closedPort: number;
beforeAll(async () => {
  data = await mkdtemp(path.join(tmpdir(), 'mds-unreachable-'));
  // A port that was free a moment ago and that nothing listens on: connections to it are refused.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
});
afterAll(async () => {
  await rm(data, { recursive: true, force: true });
});

describe('an unreachable broker', () => {
  it('mds consume --until-drained: one line, exit 1, and it exits', async () => {
    const res = await mds([
      'consume',
      '--brokers',
      `127.0.0.1:${closedPort}`,
      '--until-drained',
      '--data-dir',
      data,
      '--s3-port',
      '0',
    ]);
    expect(res.signal).toBeNull();
    expect(res.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^mds: cannot consume spotify-events from Kafka at 127\\.0\\.0\\.1:${closedPort} \\(.*ECONNREFUSED.*\\); check that the broker is running .* or pass --brokers$`,
        ),
      ),
    ]);
    expect(res.status).toBe(1);
    expect(res.stdout).toBe('');
    // Nothing landed: the bucket holds no object.
    expect(await readdir(path.join(data, 's3', 'mds-local'))).toEqual([]);
  });

  it('mds produce: one line without kafkajs stack traces, exit 1', async () => {
    const res = await mds([
      'produce',
      '--brokers',
      `127.0.0.1:${closedPort}`,
      '--events',
      '10',
      '--retries',
      '2',
    ]);
    expect(res.signal).toBeNull();
    expect(res.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^mds: Kafka at 127\\.0\\.0\\.1:${closedPort} did not accept the records after retries \\(.*ECONNREFUSED.*\\)\\. Check that the broker is running`,
        ),
      ),
    ]);
    expect(res.status).toBe(1);
  });
});
