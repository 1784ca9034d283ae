/** Shared set-up for the broker tests: a temporary data directory, a broker per suite and quiet kafkajs clients. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { createKafka } from '../../lambdas/core/kafka.ts';
import { startBroker, type RunningBroker } from '../../localstack/broker/index.ts';

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

/**
 * A broker for the tests of one describe block: started on a free port over a temporary data directory
 * before them, stopped and removed after them. Its address is read once the suite has started.
 */
export function suiteBroker(
  prefix: string,
  options: { readonly log?: (line: string) => void } = {},
): { readonly bootstrap: string; readonly port: number } {
  const data = tempDir(prefix);
  let running: RunningBroker | undefined;
  beforeAll(async () => {
    running = await startBroker({ dataDir: data.dir, port: 0, ...options });
  });
  afterAll(async () => {
    await running?.close();
    data.remove();
  });
  const started = (): RunningBroker => {
    if (!running) throw new Error('the suite broker is started in beforeAll');
    return running;
  };
  return {
    get bootstrap() {
      return started().bootstrap;
    },
    get port() {
      return started().port;
    },
  };
}

/** Creates a topic through the admin API (CreateTopics), as a deployment would. */
export async function createTopic(kafka: Kafka, topic: string, numPartitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions }] });
  } finally {
    await admin.disconnect();
  }
}
