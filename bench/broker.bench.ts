/**
 * `npm run bench -- broker`: 1,000,000 events of about 300 bytes through the local broker (run as its own
 * `mds broker start` process, as on a laptop), with kafkajs as the client on both sides. Produce goes
 * through produceRecords (batches of 1000, one request in flight, gzip, acks=all); consume is one kafkajs
 * consumer group member reading all three partitions. Prints events/s and MB/s (of uncompressed values) for each side, and the CPU
 * time the broker process and the client used, which depends less on what else the machine is doing.
 */
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { produceRecords } from '../lambdas/core/produce.ts';
import { createKafka, createProducer } from '../lambdas/core/kafka.ts';
import { PROJECT_ROOT } from '../localstack/paths.ts';

const EVENTS = 1_000_000;
const TOPIC = 'bench-events';

function* events(count: number): Generator<{ key: string; value: string; sendTime: Date }> {
  const base = Date.UTC(2026, 0, 1);
  for (let i = 0; i < count; i++) {
    const user = `user-${(i * 7919) % 50_000}`;
    const value = JSON.stringify({
      schema_version: 1,
      event_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      user_id: user,
      track_id: `track-${(i * 31) % 20_000}`,
      event_type: 'play',
      event_ts: new Date(base + i * 1000).toISOString(),
      device_type: 'mobile',
      country: 'SE',
      duration_ms: 180_000 + (i % 60_000),
      artist_name: 'Benchmark Artist Name',
      track_name: 'A Reasonably Long Benchmark Track Title',
    });
    yield { key: user, value, sendTime: new Date(base + i * 1000) };
  }
}

/**
 * CPU seconds a process has used, from /proc (Linux): on a shared machine, events per CPU-second of the broker
 * and of the client say more than wall-clock rates, which depend on what else runs.
 */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function clientCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Sends the records with `clients` producers on worker threads; returns the seconds from first send to last ack. */
async function produceInParallel(
  bootstrap: string,
  records: readonly { key: string; value: string; sendTime: Date }[],
  clients: number,
): Promise<number> {
  const topic = `${TOPIC}-parallel`;
  const shares = Array.from(
    { length: clients },
    () => [] as { key: string; value: string; sendTime: number }[],
  );
  for (const r of records) {
    shares[Number(r.key.slice(r.key.lastIndexOf('-') + 1)) % clients]!.push({
      ...r,
      sendTime: r.sendTime.getTime(),
    });
  }
  const workers = shares.map(
    (share) =>
      new Worker(new URL('./producer-worker.mjs', import.meta.url), {
        workerData: { bootstrap, topic, records: share },
      }),
  );
  const next = (w: Worker, type: string) =>
    new Promise<void>((resolve, reject) => {
      w.on('message', (m: { type: string }) => m.type === type && resolve());
      w.once('error', reject);
    });
  await Promise.all(workers.map((w) => next(w, 'ready')));
  const t0 = performance.now();
  const done = workers.map((w) => next(w, 'done'));
  for (const w of workers) w.postMessage('go');
  await Promise.all(done);
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(workers.map((w) => w.terminate()));
  return seconds;
}

export default async function (): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'broker-bench-'));
  const child = spawn(
    process.execPath,
    [path.join(PROJECT_ROOT, 'bin/mds.mjs'), 'broker', 'start', '--port', '0', '--data', dataDir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', () => reject(new Error(`broker exited: ${out}`)));
    });
    const kafka = createKafka({ brokers: [`127.0.0.1:${port}`], clientId: 'bench' });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }] });
    await admin.disconnect();

    // Generated up front, so the figures are about sending and receiving, not about making up events.
    const records = [...events(EVENTS)];
    let valueBytes = 0;
    for (const e of records) valueBytes += Buffer.byteLength(e.value);
    const avgBytes = valueBytes / EVENTS;

    const producer = createProducer(kafka);
    await producer.connect();
    const cpu0 = { broker: cpuSeconds(child.pid!), client: clientCpuSeconds() };
    const produced = await produceRecords(producer, TOPIC, records, { batchSize: 1000 });
    const cpu1 = { broker: cpuSeconds(child.pid!), client: clientCpuSeconds() };
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'bench', maxBytes: 10 * 1024 * 1024 });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    let consumed = 0;
    let started = 0;
    const seconds = await new Promise<number>((resolve) => {
      void consumer.run({
        autoCommitInterval: 1000,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          if (started === 0) started = performance.now();
          consumed += batch.messages.length;
          if (consumed >= EVENTS) resolve((performance.now() - started) / 1000);
        },
      });
    });
    const cpu2 = { broker: cpuSeconds(child.pid!), client: clientCpuSeconds() };
    await consumer.disconnect();

    const mb = (EVENTS * avgBytes) / 1e6;
    const line = (what: string, s: number): string =>
      `${what}: ${EVENTS.toLocaleString('en')} events (${avgBytes.toFixed(0)} B) in ${s.toFixed(2)} s = ` +
      `${Math.round(EVENTS / s).toLocaleString('en')} events/s, ${(mb / s).toFixed(1)} MB/s`;
    console.log(
      line('produce (kafkajs, gzip, acks=all, batches of 1000, one request in flight)', produced.seconds),
    );
    console.log(line('consume (kafkajs consumer group, 1 member, 3 partitions)', seconds));
    const perCpu = (what: string, a: typeof cpu0, b: typeof cpu0): string => {
      const broker = a.broker !== null && b.broker !== null ? b.broker - a.broker : null;
      const client = b.client - a.client;
      const brokerPart =
        broker === null
          ? 'broker CPU not measurable here'
          : `broker ${broker.toFixed(2)} CPU-s (${Math.round(EVENTS / Math.max(broker, 0.01)).toLocaleString('en')} events per broker CPU-second)`;
      return `${what}: ${brokerPart}; kafkajs client ${client.toFixed(2)} CPU-s`;
    };
    console.log(perCpu('produce CPU', cpu0, cpu1));
    console.log(perCpu('consume CPU', cpu1, cpu2));
    console.log(`consume/produce throughput ratio: ${(produced.seconds / seconds).toFixed(2)}`);

    // The broker with two producer clients at once (one per core, each sending the keys of half the users, so
    // per-key order holds): what the broker sustains when one kafkajs client is not the limit.
    const parallelSeconds = await produceInParallel(`127.0.0.1:${port}`, records, 2);
    console.log(line('produce, 2 producer clients in parallel (worker threads)', parallelSeconds));
    console.log('target: at least 50,000 events/s each way (noisy: a 2-core machine shared with other work)');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
