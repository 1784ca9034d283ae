/** PlanWindow: the window and run id of a workflow run. The logic is in plan.ts, the settings in env.ts. */
import { plannerEnv } from './env.ts';
import { planWindow, type PlanEvent, type RunPlan } from './plan.ts';

let settings: ReturnType<typeof plannerEnv.read> | undefined;

export const handler = async (event: PlanEvent): Promise<RunPlan> => {
  // Read on the first invocation, so a bad setting fails the invocation with its ConfigError, not the import.
  settings ??= plannerEnv.read(process.env);
  return planWindow(event, new Date(), {
    maxWindowDays: settings.MAX_WINDOW_DAYS,
    lookbackHours: settings.LOOKBACK_HOURS,
  });
};
