/** `mds local clean`: remove the local data directory. */
import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { MdsError } from '../../../lambdas/core/errors.ts';
import { DEFAULT_DATA_DIR, localPaths } from '../../../localstack/paths.ts';
import { liveHolder } from '../../../localstack/state.ts';

export function registerLocalClean(local: Command): void {
  local
    .command('clean')
    .description('Remove the local data directory (refuses while a local pipeline uses it).')
    .option('--data <dir>', 'local data directory', DEFAULT_DATA_DIR)
    .addHelpText(
      'after',
      `
Removes the broker logs, the S3 objects, the warehouse and the run summaries under --data. While an mds
process holds that directory (mds local up, mds run, ...), it exits 1 naming that process and removes nothing.
`,
    )
    .action(async (flags: { data: string }) => clean(flags));
}

async function clean(flags: { data: string }): Promise<void> {
  const root = localPaths(flags.data).root;
  const holder = await liveHolder(flags.data);
  if (holder) {
    throw new MdsError(`a local pipeline (pid ${holder.pid}) uses ${root}; stop it with Ctrl-C first`);
  }
  await rm(root, { recursive: true, force: true });
  process.stderr.write(`removed ${root}\n`);
}
