/**
 * `mds spotify import PATH...`: a Spotify Extended Streaming History export (its zip, its folder, or its
 * Streaming_History_Audio_*.json files) into Kafka (the local broker by default) as version-2 events, one file
 * at a time; a progress bar over the files; a summary whose counts add up (entries = imported + left out +
 * rejected). Exits 1 when a file, zip or path was refused (the others are imported). See docs/streaming-history.md.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { DataError, UsageError } from '../../lambdas/core/errors.ts';
import { createKafka, createProducer } from '../../lambdas/core/kafka.ts';
import { kafkaFailure, produceRecords } from '../../lambdas/core/produce.ts';
import {
  describeImport,
  importHistory,
  type ImportSummary,
} from '../../lambdas/core/spotify/history-import.ts';
import { localItems } from '../../lambdas/core/spotify/history-source.ts';
import { LOCAL_DEFAULTS } from '../../localstack/paths.ts';
import { cliKafkaLogger, parseInteger } from './cli-util.ts';

export interface SpotifyImportFlags {
  readonly brokers: string;
  readonly topic: string;
  readonly user?: string;
  readonly retries: number;
  readonly tls?: boolean;
  readonly iamRegion?: string;
  readonly quiet?: boolean;
}

export function registerSpotifyImport(spotify: Command): void {
  spotify
    .command('import')
    .description(
      'Import a Spotify Extended Streaming History export (zip, folder or Streaming_History_Audio_*.json files) into Kafka.',
    )
    .argument('<path...>', "the export's zip, its folder, or its JSON files")
    .option('--brokers <list>', 'comma-separated bootstrap brokers', `127.0.0.1:${LOCAL_DEFAULTS.brokerPort}`)
    .option('--topic <name>', 'topic to send to', LOCAL_DEFAULTS.topic)
    .option('--user <id>', 'the user id of entries without "username" (exports since 2023 leave it out)')
    .option(
      '--retries <n>',
      'connection retries (with backoff) before giving up',
      (v) => parseInteger(v, '--retries'),
      5,
    )
    .option('--tls', 'connect with TLS')
    .option('--iam-region <region>', 'authenticate to Amazon MSK with IAM (SASL OAUTHBEARER, implies --tls)')
    .option('--quiet', 'print no summary')
    .addHelpText(
      'after',
      `
Examples:
  mds spotify import ~/Downloads/my_spotify_data.zip --user alice
  mds spotify import "Spotify Extended Streaming History/"
`,
    )
    .action(async (paths: string[], flags: SpotifyImportFlags) => {
      const summary = await runSpotifyImport(paths, flags);
      if (summary.refused.length > 0) {
        throw new DataError(
          `${summary.refused.length === 1 ? '1 file was' : `${summary.refused.length} files were`} refused (listed above); ` +
            'the others were imported. ' +
            'Fix or replace them and import again: what was imported already is not duplicated.',
        );
      }
    });
}

/** Imports `paths` into Kafka; prints the summary on stderr unless quiet. Used by `mds local up --source history:`. */
export async function runSpotifyImport(
  paths: readonly string[],
  flags: SpotifyImportFlags,
  out: NodeJS.WritableStream = process.stderr,
): Promise<ImportSummary> {
  const brokers = flags.brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new UsageError('--brokers: give at least one host:port');
  if (paths.length === 0) throw new UsageError('give the export: its zip, its folder or its JSON files');
  if (flags.user !== undefined && (flags.user.length === 0 || flags.user.length > 64)) {
    throw new UsageError('--user: give a user id of 1 to 64 characters');
  }
  // A first pass lists the files (a zip's central directory only) so the bar has its total.
  let files = 0;
  for await (const item of localItems(paths)) if (item.kind === 'file') files += 1;
  const kafka = createKafka({
    brokers,
    clientId: 'mds-spotify-import',
    tls: flags.tls,
    iamAuth: flags.iamRegion ? { region: flags.iamRegion } : undefined,
    retries: flags.retries,
    logger: cliKafkaLogger,
  });
  const producer = createProducer(kafka);
  const bar = fileBar(files);
  let entries = 0;
  let summary: ImportSummary;
  try {
    await producer.connect();
    summary = await importHistory(localItems(paths), {
      user: flags.user,
      send: async (records) => {
        await produceRecords(producer, flags.topic, records);
      },
      onItem: (item, file) => {
        if (item.kind !== 'file') return;
        entries += file?.counts.entries ?? 0;
        bar.update(entries);
      },
    });
  } catch (err) {
    throw kafkaFailure(err, brokers, flags.topic);
  } finally {
    bar.stop();
    await producer.disconnect().catch(() => undefined);
  }
  if (!flags.quiet) {
    out.write(`imported into ${flags.topic} at ${brokers.join(',')}\n`);
    for (const line of describeImport(summary)) out.write(`${line}\n`);
  }
  return summary;
}

/** A bar over the export's files with the entries read so far, drawn only when stderr is a terminal. */
function fileBar(total: number): { update(entries: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'import [{bar}] {value}/{total} files | {entries} entries | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { entries: 0 });
  return {
    update: (entries) => bar.increment(1, { entries }),
    stop: () => bar.stop(),
  };
}
