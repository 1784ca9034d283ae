/**
 * A full disk. The S3 server on a 1 MiB tmpfs: a PUT that does not fit is refused (500), leaves no object
 * (no zero-byte file, no object without metadata) and the server keeps serving. Needs root to mount a tmpfs;
 * skipped with the reason otherwise. And on any disk: an object being written is not visible until it is whole.
 * `mds local up` with --data on a 30 MB tmpfs: one line naming the full disk and the fix, no stale lock, no
 * partial object.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import { PROJECT_ROOT } from '../../localstack/paths.ts';

/** Mounts a tmpfs of `size` at a new directory; the reason when that is not possible here. */
export async function mountTmpfs(size: string): Promise<{ dir: string } | { skip: string }> {
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root' };
  const dir = await mkdtemp(path.join(tmpdir(), 'mds-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    return { skip: `mount -t tmpfs failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}` };
  }
}

export async function unmount(dir: string): Promise<void> {
  execFileSync('umount', [dir]);
  await rm(dir, { recursive: true, force: true });
}

/** Every file under `dir`, relative. */
export async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

const mount = await mountTmpfs('1m');
const pipelineMount = await mountTmpfs('30m');
afterAll(async () => {
  for (const m of [mount, pipelineMount]) if ('dir' in m) await unmount(m.dir);
});

describe.skipIf('skip' in mount)(
  `the S3 server on a full disk${'skip' in mount ? ` (${mount.skip})` : ''}`,
  () => {
    const dir = 'dir' in mount ? mount.dir : '';
    let server: LocalS3;
    let s3: S3Client;
    beforeAll(async () => {
      server = await startLocalS3({ directory: path.join(dir, 's3'), buckets: ['b'] });
      s3 = server.client();
    });
    afterAll(async () => {
      s3?.destroy();
      await server?.close();
    });

    it('refuses a PUT that does not fit, leaves nothing visible and keeps serving', async () => {
      const big = randomBytes(2 * 1024 * 1024);
      const err = await s3
        .send(
          new PutObjectCommand({ Bucket: 'b', Key: 'bronze/date=2026-11-23/hour=10/x.ndjson.gz', Body: big }),
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(S3ServiceException);
      expect((err as S3ServiceException).$metadata.httpStatusCode).toBe(500);
      // Not visible: no listing entry, no HEAD, and no file at all (the partial bytes are gone).
      const list = await s3.send(new ListObjectsV2Command({ Bucket: 'b' }));
      expect(list.KeyCount).toBe(0);
      await expect(
        s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'bronze/date=2026-11-23/hour=10/x.ndjson.gz' })),
      ).rejects.toThrow();
      expect((await files(path.join(dir, 's3'))).filter((f) => !f.startsWith('b/._S3rver_'))).toEqual([]);

      // Room again: the same server takes an object, whole and with its metadata.
      await s3.send(
        new PutObjectCommand({
          Bucket: 'b',
          Key: 'small.json',
          Body: '{"ok":true}',
          ContentType: 'application/json',
        }),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'small.json' }));
      expect(got.ContentType).toBe('application/json');
      expect(await got.Body!.transformToString()).toBe('{"ok":true}');
      expect(await files(path.join(dir, 's3'))).toEqual(
        expect.arrayContaining([
          'b/small.json._S3rver_metadata.json',
          'b/small.json._S3rver_object',
          'b/small.json._S3rver_object.md5',
        ]),
      );
    });
  },
);

describe('an object being written', () => {
  let dir: string;
  let server: LocalS3;
  let s3: S3Client;
  let req: http.ClientRequest | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mds-s3-partial-'));
    server = await startLocalS3({ directory: dir, buckets: ['b'] });
    s3 = server.client();
  });
  afterAll(async () => {
    req?.destroy();
    s3?.destroy();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is not visible, in a listing or to HEAD, before it is whole with its metadata', async () => {
    const body = randomBytes(256 * 1024);
    const key = 'quarantine/date=2026-11-23/hour=10/slow.ndjson';
    req = http.request(`${server.endpoint}/b/${key}`, {
      method: 'PUT',
      headers: { 'content-length': body.length, 'content-type': 'application/x-ndjson' },
    });
    const put = req;
    const response = new Promise<number>((resolve, reject) => {
      put.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      put.on('error', reject);
    });
    put.write(body.subarray(0, 128 * 1024));
    // Wait until the server has started writing the object: a file for it exists under the bucket.
    const deadline = Date.now() + 30_000;
    while (!(await files(path.join(dir, 'b'))).some((f) => f.includes('slow.ndjson'))) {
      if (Date.now() > deadline) throw new Error('the server never started writing the object');
      await new Promise((r) => setTimeout(r, 20));
    }
    const list = await s3.send(new ListObjectsV2Command({ Bucket: 'b' }));
    expect(list.KeyCount).toBe(0);
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'b', Key: key }))).rejects.toThrow();

    put.end(body.subarray(128 * 1024));
    expect(await response).toBe(200);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'b', Key: key }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.ContentType).toBe('application/x-ndjson');
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'b' }))).KeyCount).toBe(1);
  });
});

describe.skipIf('skip' in pipelineMount)(
  `mds local up with --data on a 30 MB disk${'skip' in pipelineMount ? ` (${pipelineMount.skip})` : ''}`,
  () => {
    const dir = 'dir' in pipelineMount ? pipelineMount.dir : '';

    it('stops with one line naming the full disk and the fix, leaving no lock and no partial object', async () => {
      const res = await new Promise<{ code: number | null; signal: string | null; stderr: string }>(
        (resolve) => {
          const child = spawn(process.execPath, [
            path.join(PROJECT_ROOT, 'bin/mds.mjs'),
            'local',
            'up',
            '--once',
            '--data',
            dir,
            '--broker-port',
            '0',
            '--s3-port',
            '0',
          ]);
          let stderr = '';
          child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
          child.stdout.resume();
          child.on('close', (code, signal) => resolve({ code, signal, stderr }));
        },
      );
      expect(res.stderr).not.toMatch(/Unhandled 'error' event|\n\s+at /);
      // The failure is one line: no client's retry chatter before it.
      expect(res.stderr).not.toMatch(/kafkajs|"level":"ERROR"/);
      const errors = res.stderr.split('\n').filter((l) => l.startsWith('mds: '));
      expect(errors, `${res.code} ${res.signal} ${res.stderr.slice(-3000)}`).toEqual([
        expect.stringMatching(
          new RegExp(
            `^mds: disk full at ${dir} \\([\\d,]+ KiB free\\): .+\\. Free space there or pass another --data directory, then run mds local up again$`,
          ),
        ),
      ]);
      expect(res.stderr.trim().split('\n').at(-1)).toBe(errors[0]);
      expect(res.code).toBe(1);

      // No stale lock: the next run is not refused.
      await expect(stat(path.join(dir, 'local-up.lock'))).rejects.toThrow(/ENOENT/);
      // Every object is whole: it has its metadata, no temporary file is left, and each Bronze or quarantine
      // object decompresses to records that parse (the arrival markers are empty by design).
      const all = await files(path.join(dir, 's3'));
      expect(all.filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const objects = all.filter((f) => f.endsWith('._S3rver_object'));
      for (const o of objects) expect(all).toContain(o.replace(/_object$/, '_metadata.json'));
      const data = objects.filter((o) => !o.startsWith('mds-local/arrivals/'));
      for (const o of data) {
        const bytes = await readFile(path.join(dir, 's3', o));
        expect(bytes.length, o).toBeGreaterThan(0);
        const text = o.includes('.gz.') ? gunzipSync(bytes).toString() : bytes.toString();
        for (const line of text.split('\n').filter(Boolean)) expect(() => JSON.parse(line), o).not.toThrow();
      }
    }, 300_000);
  },
);
