/** The planner's environment (PlanWindow): written by the pipeline stack from `workflow`, read by the handler. */
import { envContract, envInt } from '../core/env.ts';

export const plannerEnv = envContract('the planner function', {
  MAX_WINDOW_DAYS: envInt(
    'the longest window a backfill may ask for, in days (workflow.maxWindowDays)',
    1,
    366,
  ),
  LOOKBACK_HOURS: envInt(
    'the hours before the window the loader also lists (workflow.lookbackHours)',
    0,
    168,
  ),
});
