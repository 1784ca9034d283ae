/**
 * A full disk under the broker's data directory (a small tmpfs): a produce gets KAFKA_STORAGE_ERROR (56), as
 * from a Kafka broker whose log directory fails, an offset commit NOT_COORDINATOR, the connection and the
 * broker keep serving, nothing of the failed batch is kept, and once there is room again the next batch lands at the next offset, also after a
 * restart. Mounting needs root: elsewhere the test is skipped, saying so.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../localstack/broker/index.ts';
import { kcat } from './kcat.ts';
import { tempDir, testKafka, createTopic } from './helpers.ts';
import { frame, i32, i64, produceFrame, produceResult, RawClient, recordBatch, str } from './raw.ts';

const KAFKA_STORAGE_ERROR = 56;

/** Writes a file until the file system is full; returns its path. */
function fillDisk(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (let i = 0; i < 1_000_000; i++) writeSync(fd, chunk);
    throw new Error('the file system never filled up');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return file;
}

describe('broker on a full disk', () => {
  const mount = tempDir('broker-full');
  let mounted = false;
  let mountError = '';

  beforeAll(() => {
    if (process.getuid?.() !== 0) {
      mountError = 'not root, so no tmpfs can be mounted';
      return;
    }
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mount.dir], { stdio: 'pipe' });
      mounted = true;
    } catch (err) {
      mountError = `mount -t tmpfs failed: ${(err as Error).message}`;
    }
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [mount.dir]);
    mount.remove();
  });

  it('answers KAFKA_STORAGE_ERROR, keeps serving, and goes on at the next offset once there is room', async (ctx) => {
    if (!mounted) ctx.skip(`skipped: ${mountError}`);
    // Prepare
    const dataDir = path.join(mount.dir, 'data');
    const logs: string[] = [];
    let broker: RunningBroker = await startBroker({ dataDir, port: 0, log: (l) => logs.push(l) });
    try {
      await createTopic(testKafka(broker.bootstrap).kafka, 'full', 1);
      const c = new RawClient(broker.port);
      await c.send(produceFrame(7, 1, 'full', 0, recordBatch({ values: ['a0', 'a1', 'a2'] })));
      const first = produceResult((await c.response())!.body, 'full');
      const filler = fillDisk(mount.dir);

      // Act
      const big = recordBatch({ values: ['b'.repeat(64 * 1024), 'b1'] });
      await c.send(produceFrame(7, 2, 'full', 0, big));
      const full = await c.response();
      await c.send(frame(18, 2, 3, []));
      const stillServing = await c.response();
      // OffsetCommit v2 of a standalone consumer (generation -1): offset 3 of full-0.
      await c.send(
        frame(8, 2, 5, [
          str('g-full'),
          i32(-1),
          str(''),
          i64(-1),
          i32(1),
          str('full'),
          i32(1),
          i32(0),
          i64(3),
          str(''),
        ]),
      );
      const commit = await c.response();
      rmSync(filler);
      await c.send(produceFrame(7, 4, 'full', 0, recordBatch({ values: ['c0', 'c1'] })));
      const afterRoom = produceResult((await c.response())!.body, 'full');
      c.end();
      await broker.close();
      broker = await startBroker({ dataDir, port: 0, log: (l) => logs.push(l) });
      const out = await kcat([
        '-b',
        broker.bootstrap,
        '-C',
        '-t',
        'full',
        '-o',
        'beginning',
        '-e',
        '-f',
        '%o=%s\n',
      ]);

      // Assess
      expect(first).toEqual({ error: 0, baseOffset: 0 });
      expect(full).not.toBeNull();
      expect(produceResult(full!.body, 'full')).toEqual({ error: KAFKA_STORAGE_ERROR, baseOffset: -1 });
      expect(stillServing?.correlationId).toBe(3);
      // [topics: name, [partition, error]]: NOT_COORDINATOR (16), as Kafka's coordinator answers a failed write.
      expect(commit?.body.readInt16BE(4 + 2 + 'full'.length + 4 + 4)).toBe(16);
      expect(afterRoom).toEqual({ error: 0, baseOffset: 3 });
      expect(out.trim().split('\n')).toEqual(['0=a0', '1=a1', '2=a2', '3=c0', '4=c1']);
      expect(
        logs.some((l) => /full-0 failed: KAFKA_STORAGE_ERROR: cannot write .*0\.log \(ENOSPC\)/.test(l)),
      ).toBe(true);
      expect(logs.some((l) => l.includes('torn tail'))).toBe(false);
    } finally {
      await broker.close();
    }
  });
});
