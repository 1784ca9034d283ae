/**
 * `mds schedule show|pause|resume|set`: the workflow's EventBridge Scheduler schedule, changed without a deploy
 * (GetSchedule, then UpdateSchedule with every field it read, as UpdateSchedule replaces the whole schedule).
 * The schedule is a resource of the Pipeline stack: the next `cdk deploy` sets it back to the configuration's
 * `schedule` (lib/config/environments.ts), which every change here says.
 */
import {
  GetScheduleCommand,
  UpdateScheduleCommand,
  type GetScheduleCommandOutput,
} from '@aws-sdk/client-scheduler';
import type { Command } from 'commander';
import { MdsError, UsageError } from '../../lambdas/core/errors.ts';
import { addTargetOptions, openTarget, type TargetFlags, type WorkflowTarget } from './runs.ts';

export interface ScheduleChange {
  readonly state?: 'ENABLED' | 'DISABLED';
  readonly expression?: string;
  readonly timeZone?: string;
}

export async function getSchedule(t: WorkflowTarget): Promise<GetScheduleCommandOutput> {
  if (!t.scheduleName) {
    throw new MdsError(
      `the ${t.where} Pipeline stack has no WorkflowScheduleName output; deploy it again with ` +
        `\`npx cdk deploy -c env=${t.where} Mds-${t.where}-Pipeline\``,
    );
  }
  return t.scheduler.send(new GetScheduleCommand({ Name: t.scheduleName, GroupName: t.scheduleGroup }));
}

/** Changes the schedule's state or expression, keeping every other field as it is. */
export async function changeSchedule(
  t: WorkflowTarget,
  change: ScheduleChange,
): Promise<GetScheduleCommandOutput> {
  const s = await getSchedule(t);
  await t.scheduler.send(
    new UpdateScheduleCommand({
      Name: s.Name,
      GroupName: s.GroupName,
      Description: s.Description,
      ScheduleExpression: change.expression ?? s.ScheduleExpression,
      ScheduleExpressionTimezone: change.timeZone ?? s.ScheduleExpressionTimezone,
      StartDate: s.StartDate,
      EndDate: s.EndDate,
      State: change.state ?? s.State,
      KmsKeyArn: s.KmsKeyArn,
      FlexibleTimeWindow: s.FlexibleTimeWindow,
      Target: s.Target,
      ActionAfterCompletion: s.ActionAfterCompletion,
    }),
  );
  return getSchedule(t);
}

function describeSchedule(s: GetScheduleCommandOutput): string {
  return `${s.Name}: ${s.State}  ${s.ScheduleExpression} (${s.ScheduleExpressionTimezone ?? 'UTC'})`;
}

const RESTORE =
  'the next `cdk deploy` sets the schedule back to the configured one (schedule in lib/config/environments.ts, ' +
  'or an mds:<env> context override) unless that configuration changes';

async function withTarget(flags: TargetFlags, fn: (t: WorkflowTarget) => Promise<void>): Promise<void> {
  const t = await openTarget(flags);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description("The workflow's schedule: show, pause, resume or set it without a deploy.");

  addTargetOptions(
    schedule.command('show').description('The schedule: state, expression, time zone.'),
  ).action((flags: TargetFlags) =>
    withTarget(flags, async (t) => {
      process.stdout.write(`${describeSchedule(await getSchedule(t))}\n`);
    }),
  );

  for (const [name, state, what] of [
    ['pause', 'DISABLED', 'Pause the schedule: it starts no run until resumed.'],
    ['resume', 'ENABLED', 'Resume a paused schedule.'],
  ] as const) {
    addTargetOptions(schedule.command(name).description(what)).action((flags: TargetFlags) =>
      withTarget(flags, async (t) => {
        const s = await changeSchedule(t, { state });
        process.stdout.write(`${describeSchedule(s)}\n`);
        process.stderr.write(`note: ${RESTORE}\n`);
      }),
    );
  }

  addTargetOptions(
    schedule
      .command('set <expression>')
      .description('Set the schedule expression: cron(...), rate(...) or at(...).')
      .option('--time-zone <zone>', 'IANA time zone the expression is read in'),
  ).action((expression: string, flags: TargetFlags & { timeZone?: string }) => {
    if (!/^(cron|rate|at)\(.+\)$/.test(expression.trim())) {
      throw new UsageError(
        `schedule set ${JSON.stringify(expression)}: expected cron(...), rate(...) or at(...), e.g. "cron(5 * * * ? *)"`,
      );
    }
    return withTarget(flags, async (t) => {
      const s = await changeSchedule(t, { expression: expression.trim(), timeZone: flags.timeZone });
      process.stdout.write(`${describeSchedule(s)}\n`);
      process.stderr.write(`note: ${RESTORE}\n`);
    });
  });
}
