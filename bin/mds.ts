/**
 * `mds`: the command-line interface of the Spotify modern data stack.
 * Each command lives in bin/commands/<name>.ts (the local pipeline's, one per module, under bin/commands/local/)
 * and registers itself on the program.
 */
import '../lambdas/core/polyfills.ts';
import { Command, CommanderError } from 'commander';
import { UsageError, errorMessage } from '../lambdas/core/errors.ts';
import { registerConsume } from './commands/consume.ts';
import { registerBroker } from './commands/broker.ts';
import { registerProduce } from './commands/produce.ts';
import { registerDashboard } from './commands/dashboard.ts';
import { registerSimulate } from './commands/simulate.ts';
import { registerDbt } from './commands/dbt.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerLocal } from './commands/local.ts';
import { registerSnowflake } from './commands/snowflake.ts';
import { registerSpotify } from './commands/spotify.ts';
import { registerRuns } from './commands/runs.ts';
import { registerSchedule } from './commands/schedule.ts';
import { diskFullFailure } from './commands/disk-full.ts';
import { heldDataDirs } from '../localstack/state.ts';

const program = new Command('mds')
  .description('Spotify modern data stack: simulate, stream, land, load, model and show listening events.')
  .showSuggestionAfterError(true)
  .exitOverride()
  .configureOutput({
    outputError: (str, write) => write(`mds: ${str.replace(/^error: /, '').trim()}\n`),
  });

registerConsume(program);
registerSimulate(program);
registerBroker(program);
registerProduce(program);
registerDashboard(program);
registerDbt(program);
registerDoctor(program);
registerLocal(program);
registerSnowflake(program);
registerSpotify(program);
registerRuns(program);
registerSchedule(program);

// An error no command caught (a stand-in's stream failing, say) ends the process with one line, as every other
// error does; locks this process holds are removed on exit (localstack/state.ts). MDS_DEBUG shows the stack.
process.on('uncaughtException', (err) => {
  const dir = heldDataDirs()[0];
  const failure = (dir && diskFullFailure(err, dir, 'the command')) || err;
  if (process.env.MDS_DEBUG) console.error(err);
  else console.error(`mds: ${errorMessage(failure)}`);
  process.exit(1);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = exitCodeFor(err);
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed its one-line message (or the help text, which exits 0).
    return err.exitCode === 0 ? 0 : 2;
  }
  if (process.env.MDS_DEBUG) console.error(err);
  else console.error(`mds: ${errorMessage(err)}`);
  if (err instanceof UsageError) return 2;
  return 1;
}
