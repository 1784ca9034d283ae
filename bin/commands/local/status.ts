/** `mds status`: what the local pipeline is running and its last workflow runs. */
import type { Command } from 'commander';
import { DEFAULT_DATA_DIR, localPaths } from '../../../localstack/paths.ts';
import { listRuns, liveHolder } from '../../../localstack/state.ts';
import { parseInteger } from '../cli-util.ts';
import { existsSync } from 'node:fs';
import { executionsDir } from '../../../localstack/workflow/execution-store.ts';
import { listExecutions, openTarget } from '../runs.ts';

interface StatusFlags {
  readonly data: string;
  readonly limit: number;
  readonly json?: boolean;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show what the local pipeline is running and its last workflow runs.')
    .option('--data <dir>', 'local data directory', DEFAULT_DATA_DIR)
    .option('--limit <n>', 'runs to show', (v) => parseInteger(v, '--limit', 1), 10)
    .option('--json', 'print as JSON')
    .action(async (flags: StatusFlags) => status(flags));
}

async function status(flags: StatusFlags): Promise<void> {
  const running = await liveHolder(flags.data);
  const runs = (await listRuns(flags.data)).slice(0, flags.limit);
  const executions = await localExecutions(flags.data, flags.limit);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ running: running ?? null, runs, executions })}\n`);
    return;
  }
  const out = process.stdout;
  out.write(
    running
      ? `local pipeline running (pid ${running.pid}, since ${running.startedAt})\n  broker ${running.broker ?? '-'}  S3 ${running.s3 ?? '-'}  dashboard ${running.dashboard ?? '-'}\n`
      : `no local pipeline is running (data: ${localPaths(flags.data).root})\n`,
  );
  if (runs.length === 0 && executions.length === 0) {
    out.write('no workflow runs yet: start one with `mds local up` or `mds run --window START/END`\n');
    return;
  }
  if (executions.length > 0) {
    out.write(`\nlast ${executions.length} executions (mds runs list, mds runs show NAME):\n`);
    for (const e of executions) {
      out.write(`  ${e.status.padEnd(9)} ${e.name}${e.error ? `  ${e.error}` : ''}\n`);
    }
  }
  if (runs.length > 0) out.write(`\nlast ${runs.length} runs:\n`);
  for (const r of runs) {
    const secs = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
    out.write(
      `  ${r.status.padEnd(9)} ${r.window.start} .. ${r.window.end}  loaded ${r.counts.loaded.toLocaleString('en-US')}  modelled ${r.counts.modelled.toLocaleString('en-US')}  ${secs.toFixed(1)}s  ${r.runId}` +
        (r.failure ? `\n            ${r.failure.state}: ${r.failure.error}: ${r.failure.cause}` : '') +
        '\n',
    );
  }
}

/** The executions of the local Step Functions endpoint (the same ListExecutions as `mds runs list`). */
async function localExecutions(
  data: string,
  limit: number,
): Promise<{ name: string; status: string; error?: string }[]> {
  if (!existsSync(executionsDir(localPaths(data).root))) return [];
  const t = await openTarget({ data, local: true });
  try {
    return (await listExecutions(t, limit)).map((d) => ({
      name: d.name ?? '',
      status: d.status ?? '',
      error: d.error,
    }));
  } finally {
    await t.close();
  }
}
