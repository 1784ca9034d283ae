/**
 * `mds consume`: lands the topic in Bronze on a laptop. Runs the local event source mapping against the
 * local broker and invokes the consumer Lambda's handler, writing to the local S3-API server (started here
 * on the data directory unless --s3-endpoint points at a running one).
 */
import { Command, Option } from 'commander';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { createConsumerHandler, type ConsumerSummary } from '../../lambdas/consumer/handler.ts';
import { DEFAULT_GZIP_LEVEL } from '../../lambdas/consumer/land.ts';
import { BRONZE_PREFIX, QUARANTINE_PREFIX } from '../../lambdas/core/bronze.ts';
import { TransientError, UsageError, errorMessage } from '../../lambdas/core/errors.ts';
import { kafkaChatter } from './cli-util.ts';
import { localS3ClientConfig } from '../../lambdas/core/s3.ts';
import { externalS3ClientConfig } from '../../localstack/pipeline/endpoints.ts';
import { ESM_DEFAULTS, startEventSourceMapping } from '../../localstack/esm/index.ts';
import { ESM_FAILURES_PREFIX, s3OnFailure } from '../../localstack/esm/on-failure.ts';
import { DEFAULT_DATA_DIR, LOCAL_DEFAULTS, ensureDirectory, localPaths } from '../../localstack/paths.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';

interface ConsumeFlags {
  readonly brokers: string;
  readonly topic: string;
  readonly group: string;
  readonly dataDir: string;
  readonly bucket: string;
  readonly s3Endpoint?: string;
  readonly s3Port: string;
  readonly batchSize: string;
  readonly batchingWindowMs: string;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly maxAttempts: string;
  readonly untilDrained?: boolean;
  readonly drainTimeoutMs: string;
}

export function registerConsume(program: Command): void {
  program
    .command('consume')
    .description(
      'Land the Kafka topic in Bronze: the local event source mapping invokes the consumer handler, which writes ' +
        'bronze/ (valid events, by event hour) and quarantine/ (rejected records, with reasons).',
    )
    .option(
      '--brokers <list>',
      'comma-separated Kafka bootstrap brokers (env MDS_BROKERS)',
      process.env.MDS_BROKERS || `127.0.0.1:${LOCAL_DEFAULTS.brokerPort}`,
    )
    .option('--topic <name>', 'topic to consume', LOCAL_DEFAULTS.topic)
    .option('--group <id>', 'consumer group of the mapping', LOCAL_DEFAULTS.consumerGroup)
    .option(
      '--data-dir <dir>',
      'local data directory (the S3 server keeps its files under it)',
      DEFAULT_DATA_DIR,
    )
    .option(
      '--bucket <name>',
      'bucket for bronze/, quarantine/ and esm-failures/ (env MDS_BUCKET)',
      process.env.MDS_BUCKET || LOCAL_DEFAULTS.bucket,
    )
    .option(
      '--s3-endpoint <url>',
      "use a running S3-API server instead of starting the local one (env MDS_S3_ENDPOINT); credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE when set, else the local server's",
      process.env.MDS_S3_ENDPOINT || undefined,
    )
    .option(
      '--s3-port <port>',
      'port of the local S3 server started here (0 = a free port)',
      String(LOCAL_DEFAULTS.s3Port),
    )
    .option('--batch-size <n>', 'max records per invocation (1-10000)', String(ESM_DEFAULTS.batchSize))
    .option(
      '--batching-window-ms <ms>',
      'max time to gather a batch (0-300000)',
      String(ESM_DEFAULTS.batchingWindowMs),
    )
    .addOption(
      new Option('--starting-position <pos>', 'where a new consumer group starts')
        .choices(['TRIM_HORIZON', 'LATEST'])
        .default(ESM_DEFAULTS.startingPosition),
    )
    .option(
      '--max-attempts <n>',
      'invocations of a batch before it goes to esm-failures/',
      String(ESM_DEFAULTS.maxAttempts),
    )
    .option(
      '--until-drained',
      'exit once every record in the topic at start is committed (otherwise run until Ctrl-C)',
    )
    .option('--drain-timeout-ms <ms>', 'with --until-drained: give up after this long', '600000')
    .addHelpText('after', '\nExample:\n  mds consume --until-drained --batching-window-ms 5000')
    .action(async (flags: ConsumeFlags) => {
      await consume(flags);
    });
}

async function consume(flags: ConsumeFlags): Promise<void> {
  const brokers = flags.brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new UsageError('--brokers: give at least one host:port');
  const batchSize = integer('--batch-size', flags.batchSize, 1, 10_000);
  const batchingWindowMs = integer('--batching-window-ms', flags.batchingWindowMs, 0, 300_000);
  const maxAttempts = integer('--max-attempts', flags.maxAttempts, 1, 100);
  const drainTimeoutMs = integer('--drain-timeout-ms', flags.drainTimeoutMs, 1, 86_400_000);
  const s3Port = integer('--s3-port', flags.s3Port, 0, 65_535);

  let local: LocalS3 | undefined;
  let s3: S3Client;
  if (flags.s3Endpoint) {
    // An external server takes the caller's credentials (environment or profile); without any, the local
    // server's, as before.
    const own = process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE;
    s3 = new S3Client(
      own
        ? externalS3ClientConfig(flags.s3Endpoint, LOCAL_DEFAULTS.region)
        : localS3ClientConfig(flags.s3Endpoint),
    );
    await ensureBucket(s3, flags.bucket);
  } else {
    await ensureDirectory(localPaths(flags.dataDir).root, '--data-dir');
    local = await startLocalS3({
      directory: localPaths(flags.dataDir).s3,
      port: s3Port,
      buckets: [flags.bucket],
    });
    s3 = local.client();
  }

  // The CLI prints its own totals; Powertools' EMF lines would only clutter the terminal.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const handler = createConsumerHandler({
    s3,
    config: () => ({
      bucket: flags.bucket,
      bronzePrefix: BRONZE_PREFIX,
      quarantinePrefix: QUARANTINE_PREFIX,
      gzipLevel: DEFAULT_GZIP_LEVEL,
    }),
    logger: new Logger({ serviceName: 'consumer', logLevel: 'WARN' }),
    metrics: new Metrics({ namespace: 'SpotifyMds', serviceName: 'consumer' }),
  });
  const totals = {
    recordsIn: 0,
    landed: 0,
    quarantined: 0,
    objectsWritten: 0,
    markersWritten: 0,
    bytesWritten: 0,
  };
  const add = (s: ConsumerSummary): void => {
    for (const k of Object.keys(totals) as (keyof ConsumerSummary)[]) totals[k] += s[k];
  };

  let mapping: Awaited<ReturnType<typeof startEventSourceMapping>>;
  try {
    mapping = await startEventSourceMapping({
      brokers,
      topic: flags.topic,
      groupId: flags.group,
      batchSize,
      batchingWindowMs,
      startingPosition: flags.startingPosition,
      maxAttempts,
      onFailure: s3OnFailure(s3, flags.bucket, ESM_FAILURES_PREFIX),
      handler: async (event) => {
        add(await handler(event));
      },
      log: (line) => {
        if (!kafkaChatter(line)) console.error(line);
      },
    });
  } catch (err) {
    // Nothing may keep the process alive after this: the local S3 server is closed before the error is shown.
    s3.destroy();
    await local?.close();
    throw new TransientError(
      `cannot consume ${flags.topic} from Kafka at ${brokers.join(',')} (${errorMessage(err)}); check that the broker ` +
        'is running (locally: mds broker start, or mds local up) and reachable at that address, or pass --brokers',
      { cause: err },
    );
  }
  if (local) console.error(`local S3 server on ${local.endpoint}, bucket ${flags.bucket}`);
  console.error(`consuming ${flags.topic} from ${brokers.join(',')} as group ${flags.group}`);

  const stop = async (): Promise<void> => {
    await mapping.stop();
    s3.destroy();
    await local?.close();
    const st = mapping.stats();
    console.log(
      `batches ${st.batches}, records ${st.records} (landed ${totals.landed}, quarantined ${totals.quarantined}), ` +
        `objects ${totals.objectsWritten} (${totals.bytesWritten} bytes), failed invocations ${st.failures}, ` +
        `batches sent to ${ESM_FAILURES_PREFIX}: ${st.sentToOnFailure}`,
    );
  };

  if (flags.untilDrained) {
    try {
      await mapping.drained(drainTimeoutMs);
    } finally {
      await stop();
    }
    return;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await stop();
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: "${value}" is not an integer from ${min} to ${max}`);
  }
  return n;
}

async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const exists =
      err instanceof S3ServiceException &&
      ['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(err.name);
    if (!exists) throw err;
  }
}
