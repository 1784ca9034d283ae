/**
 * The local pipeline commands, one module each under local/:
 *   mds local up      the whole pipeline on the embedded default (the main job)       local/up.ts
 *   mds local clean   remove the local data directory                                 local/clean.ts
 *   mds run           run the hourly workflow for a window (a backfill or a re-run)   local/run.ts
 *   mds status        what is running and the last runs                               local/status.ts
 */
import type { Command } from 'commander';
import { UsageError } from '../../lambdas/core/errors.ts';
import { registerLocalClean } from './local/clean.ts';
import { registerRun } from './local/run.ts';
import { registerStatus } from './local/status.ts';
import { registerLocalUp } from './local/up.ts';

export function registerLocal(program: Command): void {
  const local = program
    .command('local')
    .description('Run the whole pipeline on this machine, with no cloud account.');
  registerLocalUp(local);
  registerLocalClean(local);
  refuseUnknownSubcommand(program, local);
  registerRun(program);
  registerStatus(program);
}

/**
 * `mds local <name>` for a name that is no subcommand is an error, also with --help (which would otherwise
 * print the help of `mds local` as if the name were right).
 */
function refuseUnknownSubcommand(program: Command, group: Command): void {
  program.hook('preSubcommand', (parent, sub) => {
    if (sub !== group) return;
    const names = group.commands.map((c) => c.name());
    const name = parent.args[parent.args.indexOf(group.name()) + 1];
    if (name === undefined || name.startsWith('-') || name === 'help' || names.includes(name)) return;
    throw new UsageError(
      `unknown command 'local ${name}'; the local commands are ${names.map((n) => `'local ${n}'`).join(', ')}`,
    );
  });
}
