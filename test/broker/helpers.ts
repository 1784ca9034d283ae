/** Shared set-up for the broker tests: a temporary data directory and quiet kafkajs clients. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKafka } from '../../lambdas/shared/kafka.ts';

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** kafkajs warnings (expected reconnects while a broker restarts) are collected, not printed. */
export function testKafka(bootstrap: string, clientId = 'test') {
  const warnings: string[] = [];
  const logger = { warn: (m: string) => void warnings.push(m), error: (m: string) => void warnings.push(m) };
  return { kafka: createKafka({ brokers: [bootstrap], clientId, logger, retries: 8 }), warnings };
}

/** Polls until `check` holds; fails with `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
