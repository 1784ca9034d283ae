/**
 * `mds produce`: simulated listening events to Kafka (the local broker by default). Either --events N as
 * fast as the broker takes them, or --rate R --duration D paced in real time. Takes the simulator flags of
 * `mds simulate`; shows a live progress bar with events/s when stderr is a terminal.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Producer } from 'kafkajs';
import { kafkaFailure, produceRecords } from '../../lambdas/core/produce.ts';
import { UsageError } from '../../lambdas/core/errors.ts';
import { createKafka, createProducer } from '../../lambdas/core/kafka.ts';
import { simulate, type SimulatedRecord } from '../../lambdas/core/simulator/index.ts';
import { LOCAL_DEFAULTS } from '../../localstack/paths.ts';
import { addPopulationOptions, simulationOptions, type SimulationFlags } from './simulate.ts';
import {
  cliKafkaLogger,
  parseDuration,
  parseInteger,
  parseIsoDate,
  parseNumber,
  printSummary,
} from './cli-util.ts';
import { floorHour, HOUR_MS } from '../../lambdas/core/window.ts';

const DEFAULT_EVENTS = 10_000;
const DEFAULT_WINDOW_MS = 6 * HOUR_MS;

interface ProduceFlags extends SimulationFlags {
  readonly brokers: string;
  readonly topic: string;
  readonly batchSize: number;
  readonly retries: number;
  readonly tls?: boolean;
  readonly iamRegion?: string;
  readonly env?: string;
  readonly quiet?: boolean;
}

export function registerProduce(program: Command): void {
  const command = program
    .command('produce')
    .description('Send simulated listening events to Kafka (key = user_id, gzip, acks=all).')
    .option(
      '--brokers <list>',
      'comma-separated bootstrap brokers (env MDS_BROKERS)',
      process.env.MDS_BROKERS || `127.0.0.1:${LOCAL_DEFAULTS.brokerPort}`,
    )
    .option('--topic <name>', 'topic to send to', LOCAL_DEFAULTS.topic)
    .option('--events <n>', `records to send, as fast as possible (default ${DEFAULT_EVENTS})`, (v) =>
      parseInteger(v, '--events'),
    )
    .option('--rate <r>', 'events per second in real time, with --duration', (v) =>
      parseNumber(v, '--rate', 0.001),
    )
    .option('--duration <d>', 'how long to send at --rate, like 90s, 10m, 1h', (v) =>
      parseDuration(v, '--duration'),
    )
    .option(
      '--start <iso>',
      'with --events: event-time window start, ISO-8601 or a date (default --end minus 6h)',
      (v) => parseIsoDate(v, '--start'),
    )
    .option('--end <iso>', 'with --events: event-time window end (default: start of the current hour)', (v) =>
      parseIsoDate(v, '--end'),
    );
  addPopulationOptions(command)
    .option('--batch-size <n>', 'records per send request', (v) => parseInteger(v, '--batch-size', 1), 1000)
    .option(
      '--retries <n>',
      'connection retries (with backoff) before giving up',
      (v) => parseInteger(v, '--retries'),
      5,
    )
    .option('--tls', 'connect with TLS')
    .option('--iam-region <region>', 'authenticate to Amazon MSK with IAM (SASL OAUTHBEARER, implies --tls)')
    .option(
      '--env <name>',
      "a deployed environment's MSK cluster: its brokers from GetBootstrapBrokers, IAM auth",
    )
    .option('--quiet', 'print no summary')
    .addHelpText(
      'after',
      `
Examples:
  mds produce --events 100000
  mds produce --rate 50 --duration 10m --late-fraction 0.02
  mds produce --brokers b-1.example.kafka.eu-west-1.amazonaws.com:9098 --iam-region eu-west-1 --events 1000
`,
    )
    .action(async (flags: ProduceFlags) => {
      await runProduce(flags, new Date());
    });
}

function plan(
  flags: ProduceFlags,
  now: Date,
): { events: number; start: Date; end: Date; rate: number | null } {
  if (flags.rate !== undefined || flags.duration !== undefined) {
    if (flags.rate === undefined || flags.duration === undefined) {
      throw new UsageError('--rate and --duration go together: events = rate x duration, sent in real time');
    }
    if (flags.events !== undefined)
      throw new UsageError('--events conflicts with --rate/--duration: pass one or the other');
    if (flags.start || flags.end)
      throw new UsageError('--start/--end go with --events; --rate sends events of now');
    const events = Math.round((flags.rate * flags.duration) / 1000);
    return { events, start: now, end: new Date(now.getTime() + flags.duration), rate: flags.rate };
  }
  const end = flags.end ?? floorHour(now);
  const start = flags.start ?? new Date(end.getTime() - DEFAULT_WINDOW_MS);
  if (start.getTime() >= end.getTime()) {
    throw new UsageError(`--end ${end.toISOString()} is not after --start ${start.toISOString()}`);
  }
  return { events: flags.events ?? DEFAULT_EVENTS, start, end, rate: null };
}

export async function runProduce(given: ProduceFlags, now: Date): Promise<void> {
  let flags = given;
  if (given.env !== undefined) {
    const { bootstrapBrokersOf } = await import('./kafka-brokers.ts');
    const msk = await bootstrapBrokersOf(given.env, given.iamRegion);
    flags = { ...given, brokers: msk.brokers.join(','), iamRegion: msk.region, tls: true };
  }
  const brokers = flags.brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new UsageError('--brokers: give at least one host:port');
  const { events, start, end, rate } = plan(flags, now);
  const run = simulate(simulationOptions(flags, { events, start, end }));
  const kafka = createKafka({
    brokers,
    clientId: 'mds-produce',
    tls: flags.tls,
    iamAuth: flags.iamRegion ? { region: flags.iamRegion } : undefined,
    retries: flags.retries,
    logger: cliKafkaLogger,
  });
  const producer = createProducer(kafka);
  const bar = rateBar(events);
  let sent = 0;
  const started = performance.now();
  try {
    await producer.connect();
    if (rate === null) {
      await produceRecords(producer, flags.topic, run.records(), {
        batchSize: flags.batchSize,
        onProgress: (n) => bar.update(n),
      });
      sent = events;
    } else {
      sent = await paced(producer, flags.topic, run.records(), rate, flags.batchSize, (n) => bar.update(n));
    }
  } catch (err) {
    throw kafkaFailure(err, brokers, flags.topic);
  } finally {
    bar.stop();
    await producer.disconnect().catch(() => undefined);
  }
  const seconds = (performance.now() - started) / 1000;
  if (!flags.quiet) {
    printSummary(`produced to ${flags.topic} at ${brokers.join(',')}`, [
      ['events', sent],
      ['seconds', seconds.toFixed(2)],
      ['events/s', Math.round(sent / Math.max(seconds, 1e-3))],
    ]);
  }
}

/** Sends at `rate` events/s: about ten sends a second, each waiting for its moment on the clock. */
async function paced(
  producer: Producer,
  topic: string,
  records: Iterable<SimulatedRecord>,
  rate: number,
  maxBatch: number,
  onProgress: (sent: number) => void,
): Promise<number> {
  const chunk = Math.max(1, Math.min(maxBatch, Math.round(rate / 10)));
  const t0 = performance.now();
  let sent = 0;
  let pending: SimulatedRecord[] = [];
  const flush = async (): Promise<void> => {
    const due = t0 + (sent * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await produceRecords(producer, topic, pending, { batchSize: pending.length });
    sent += pending.length;
    pending = [];
    onProgress(sent);
  };
  for (const r of records) {
    pending.push(r);
    if (pending.length >= chunk) await flush();
  }
  if (pending.length) await flush();
  return sent;
}

/** A progress bar with the live send rate, drawn only when stderr is a terminal. */
function rateBar(total: number): { update(sent: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        'produce [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const t0 = performance.now();
  bar.start(total, 0, { rate: 0 });
  return {
    update: (sent) =>
      bar.update(sent, { rate: Math.round(sent / Math.max((performance.now() - t0) / 1000, 1e-3)) }),
    stop: () => bar.stop(),
  };
}
