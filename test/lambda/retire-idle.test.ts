/**
 * LocalLambdaRuntime.retireIdle: a function's idle execution environments end (as Lambda reclaims unused
 * ones), a busy one is left to finish, and the next invocation gets a fresh environment.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambdaRuntime } from '../../localstack/lambda/runtime.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mds-retire-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A bundle that counts its invocations per environment and can be made to wait. */
async function counter(name: string) {
  const codeDir = path.join(dir, name);
  await mkdir(codeDir, { recursive: true });
  await writeFile(
    path.join(codeDir, 'index.mjs'),
    'let calls = 0;\nexport const handler = async (event) => { calls++; if (event.waitMs) await new Promise((r) => setTimeout(r, event.waitMs)); return calls; };\n',
  );
  return {
    id: name,
    stack: 'Test',
    logicalId: name,
    handler: 'index.handler',
    runtime: 'nodejs24.x',
    timeoutSeconds: 30,
    memoryMiB: 256,
    assetHash: `${name}-${Date.now().toString(16)}`.padEnd(64, '0'),
    codeDir,
    environment: {},
  };
}

describe('LocalLambdaRuntime.retireIdle', () => {
  it('ends the idle environments; the next invocation starts a fresh one', async () => {
    const rt = new LocalLambdaRuntime({
      logDir: path.join(dir, 'logs'),
      codeRoot: path.join(dir, 'code'),
    });
    try {
      rt.register(await counter('idle'), { environment: {}, overrides: [], layers: [], concurrency: 1 });
      expect(await rt.invoke('idle', {})).toBe(1);
      expect(await rt.invoke('idle', {})).toBe(2); // warm: the same environment
      expect(await rt.retireIdle('idle')).toBe(1);
      expect(await rt.invoke('idle', {})).toBe(1); // cold: initialised again
      expect(rt.report()[0]?.coldStarts).toBe(2);
    } finally {
      await rt.close();
    }
  });

  it('leaves a busy environment to finish its invocation', async () => {
    const rt = new LocalLambdaRuntime({
      logDir: path.join(dir, 'logs'),
      codeRoot: path.join(dir, 'code'),
    });
    try {
      rt.register(await counter('busy'), { environment: {}, overrides: [], layers: [], concurrency: 1 });
      await rt.preflight();
      const running = rt.invoke('busy', { waitMs: 500 });
      await new Promise((r) => setTimeout(r, 100));
      expect(await rt.retireIdle('busy')).toBe(0);
      expect(await running).toBe(1);
      expect(await rt.invoke('busy', {})).toBe(2); // still the same environment
    } finally {
      await rt.close();
    }
  });
});
