/**
 * The run id an execution's summary is published under (runs/<runId>/summary.json), read from its history as
 * GetExecutionHistory returns it: the planner's run id, in the input of every state entered after PlanWindow
 * (a redrive's too, since a redrive keeps the plan), or the execution name when no state got a plan (planning
 * failed), which is the publisher's fallback (lambdas/publisher/publish.ts).
 */
export interface RunIdHistoryEvent {
  readonly type?: string;
  readonly stateEnteredEventDetails?: { readonly name?: string; readonly input?: string };
}

export function runIdOfHistory(
  events: readonly RunIdHistoryEvent[],
  executionName: string | undefined,
): string | undefined {
  for (const e of events) {
    const input = e.stateEnteredEventDetails?.input;
    if (!input || !input.includes('"runId"')) continue;
    try {
      const runId = (JSON.parse(input) as { plan?: { runId?: unknown } }).plan?.runId;
      if (typeof runId === 'string') return runId;
    } catch {
      // an input the console cut short: the next state's has the plan too
    }
  }
  return executionName;
}
