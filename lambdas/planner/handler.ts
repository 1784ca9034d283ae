/** PlanWindow: the window and run id of a workflow run. The logic is in plan.ts. */
import { planWindow, type PlanEvent, type RunPlan } from './plan.ts';

const options = {
  maxWindowDays: Number(process.env.MAX_WINDOW_DAYS ?? '31'),
  lookbackHours: Number(process.env.LOOKBACK_HOURS ?? '24'),
};

export const handler = async (event: PlanEvent): Promise<RunPlan> => planWindow(event, new Date(), options);
