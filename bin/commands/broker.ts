/**
 * `mds broker start`: runs the local Kafka-protocol broker in the foreground until SIGINT/SIGTERM,
 * then closes it cleanly (pending writes finished, logs synced, offsets saved).
 */
import { Command } from 'commander';
import { UsageError } from '../../lambdas/core/errors.ts';
import { startBroker } from '../../localstack/broker/index.ts';
import { LOCAL_DEFAULTS, localPaths } from '../../localstack/paths.ts';
import { parseInteger } from './cli-util.ts';

interface BrokerFlags {
  readonly port: number;
  readonly host: string;
  readonly data: string;
  readonly partitions: number;
  readonly autoCreate: boolean;
}

function parsePort(value: string): number {
  const port = parseInteger(value, '--port');
  if (port > 65535) throw new UsageError(`--port: must be at most 65535, got ${port}`);
  return port;
}

export function registerBroker(program: Command): void {
  const broker = program
    .command('broker')
    .description('The local Kafka-protocol broker (stands in for Amazon MSK).');
  broker
    .command('start')
    .description(
      'Start the broker in the foreground; Ctrl-C stops it. Topics and committed offsets persist in --data.',
    )
    .option(
      '--port <port>',
      'port to listen on (0 = a free port, printed at start)',
      parsePort,
      LOCAL_DEFAULTS.brokerPort as number,
    )
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'directory for partition logs and group offsets', localPaths().broker)
    .option(
      '--partitions <n>',
      'partitions of topics created on first use',
      (v) => parseInteger(v, '--partitions', 1),
      LOCAL_DEFAULTS.partitions as number,
    )
    .option(
      '--no-auto-create',
      'answer UNKNOWN_TOPIC_OR_PARTITION for unknown topics instead of creating them',
    )
    .action(async (flags: BrokerFlags) => {
      const running = await startBroker({
        dataDir: flags.data,
        port: flags.port,
        host: flags.host,
        defaultPartitions: flags.partitions,
        autoCreateTopics: flags.autoCreate,
        log: (line) => console.log(`${new Date().toISOString()} ${line}`),
      });
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          console.log(`${new Date().toISOString()} broker: ${signal}, shutting down`);
          process.once(signal, () => process.exit(130));
          void running.close().then(resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
