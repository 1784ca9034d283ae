/** `mds run --window START/END`: the hourly workflow for a window on the local services (a backfill or a re-run). */
import type { Command } from 'commander';
import { formatTable } from '../cli-util.ts';
import { addServiceOptions, withServices, type ServiceFlags } from './services.ts';
import { transitionLine } from './transitions.ts';
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
history.json are written under --data/runs/<runId>/.

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
  const { runWorkflowLocally } = await import('../../../localstack/pipeline/workflow.ts');
  await withServices(flags, 'mds run', async (services) => {
    await services.mapping.drained(5 * 60_000);
    const run = await runWorkflowLocally(services, {
      window,
      executionName: `backfill-${Date.now().toString(36)}`,
      onEvent: (e) => {
        const line = transitionLine(e);
        if (line && !flags.json) process.stderr.write(`  ${line}\n`);
      },
    });
    if (flags.json) process.stdout.write(`${JSON.stringify(run.summary ?? run.execution)}\n`);
    else {
      const s = run.summary;
      process.stderr.write(
        `\nrun ${s?.runId ?? run.execution.executionName}: ${run.execution.status}\n` +
          (s
            ? `${formatTable([
                ['landed', s.counts.landed],
                ['quarantined', s.counts.quarantined],
                ['loaded', s.counts.loaded],
                ['modelled', s.counts.modelled],
              ])}\n`
            : '') +
          (run.execution.status === 'FAILED'
            ? `error: ${run.execution.error}: ${run.execution.cause}\n`
            : '') +
          (run.runDir ? `summary, report and history: ${run.runDir}\n` : ''),
      );
    }
    if (run.execution.status !== 'SUCCEEDED') process.exitCode = 1;
  });
}
