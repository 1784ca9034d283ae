/**
 * `mds run --window START/END`: the hourly workflow for a window on the local services (a backfill or a
 * re-run). A thin name for `mds runs start --local --window START/END`: the same StartExecution on the local
 * Step Functions endpoint, followed to its end, then the run summary.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { formatTable } from '../cli-util.ts';
import { diskFullFailure } from '../disk-full.ts';
import { executionHistory, follow, openTarget, windowName } from '../runs.ts';
import { addServiceOptions, type ServiceFlags } from './services.ts';
import { parseWindow } from './window.ts';

interface RunFlags extends ServiceFlags {
  readonly window: string;
  readonly json?: boolean;
}

export function registerRun(program: Command): void {
  addServiceOptions(
    program
      .command('run')
      .description('Run the hourly workflow for a window on the local services (a backfill or a re-run).')
      .requiredOption(
        '--window <start/end>',
        'ISO-8601 instants with a zone on hour boundaries, e.g. 2026-11-23T08:00:00Z/2026-11-23T10:00:00Z',
      ),
  )
    .option('--json', 'print the run summary as JSON on stdout')
    .addHelpText(
      'after',
      `
The window is judged as the workflow's PlanWindow step judges it, before any service starts: an END before or
at START, an END in the future (or inside the current hour), an instant off the hour or without a zone, or a
window longer than the environment's workflow.maxWindowDays is refused (exit 2). Loading is idempotent:
re-running a window loads nothing twice and changes nothing.

Exit code: 0 when the run succeeded, 1 when it failed (the failed state and its cause are printed), 2 for bad
input. A second mds process on the same --data is refused. The run's summary.json, report.html and
history.json are written under --data/runs/<runId>/. The same as \`mds runs start --window START/END\`; the run
is listed by \`mds runs list\`.

Example:
  mds run --window 2026-11-23T06:00:00Z/2026-11-23T09:00:00Z
`,
    )
    .action(async (flags: RunFlags) => runWindow(flags));
}

async function runWindow(flags: RunFlags): Promise<void> {
  const { loadConfig } = await import('../../../lib/config/environments.ts');
  // Refused here, before services start, as PlanWindow would refuse it.
  const window = parseWindow(flags.window, new Date(), loadConfig('dev').workflow.maxWindowDays);
  const { serviceEndpoints } = await import('./services.ts');
  const t = await openTarget({ ...flags, local: true, endpoints: serviceEndpoints(flags) });
  try {
    const started = await t.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: t.stateMachineArn,
        name: windowName('backfill', window),
        input: JSON.stringify({ window }),
      }),
    );
    const d = await follow(t, started.executionArn as string, (line) => {
      if (!flags.json) process.stderr.write(`  ${line}\n`);
    });
    const runDir = await runDirOf(
      t.dataRoot as string,
      await executionHistory(t, d.executionArn as string),
      d.name,
    );
    const summary = runDir
      ? await readFile(path.join(runDir, 'summary.json'), 'utf8')
          .then(
            (text) =>
              JSON.parse(text) as {
                runId: string;
                counts: Record<'landed' | 'quarantined' | 'loaded' | 'modelled', number>;
              },
          )
          .catch(() => undefined)
      : undefined;
    if (flags.json) {
      const { $metadata: _m, ...execution } = await t.sfn.send(
        new DescribeExecutionCommand({ executionArn: d.executionArn }),
      );
      process.stdout.write(`${JSON.stringify(summary ?? execution)}\n`);
    } else {
      process.stderr.write(
        `\nrun ${summary?.runId ?? d.name}: ${d.status}\n` +
          (summary
            ? `${formatTable([
                ['landed', summary.counts.landed],
                ['quarantined', summary.counts.quarantined],
                ['loaded', summary.counts.loaded],
                ['modelled', summary.counts.modelled],
              ])}\n`
            : '') +
          (d.status === 'FAILED' ? `error: ${d.error}: ${d.cause}\n` : '') +
          (summary && runDir ? `summary, report and history: ${runDir}\n` : ''),
      );
    }
    if (d.status !== 'SUCCEEDED') process.exitCode = 1;
  } catch (err) {
    throw diskFullFailure(err, t.dataRoot as string, 'mds run') ?? err;
  } finally {
    await t.close();
  }
}

/** The run's folder under runs/, from the run id its history names. */
async function runDirOf(
  root: string,
  events: Awaited<ReturnType<typeof executionHistory>>,
  name: string | undefined,
): Promise<string | undefined> {
  const { runDir } = await import('../../../localstack/state.ts');
  const { runIdOfHistory } = await import('../../../lambdas/core/run-id.ts');
  const runId = runIdOfHistory(events, name);
  return runId ? runDir(root, runId) : undefined;
}
