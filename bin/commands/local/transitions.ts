/** The state transitions `mds local up` and `mds run` print while the workflow runs. */
import type { HistoryEvent } from '../../../localstack/workflow/executor.ts';

/** One line per finished state, as the console's graph shows them. */
export function transitionLine(e: HistoryEvent): string | undefined {
  const name = e.details?.name as string | undefined;
  if (e.type.endsWith('StateEntered')) return name ? `→ ${name}` : undefined;
  if (e.type === 'TaskFailed') return `✖ ${name}: ${String(e.details?.error)}`;
  if (e.type === 'TaskRetried') return `↻ ${name} (retry)`;
  if (e.type === 'ExecutionSucceeded') return '✔ succeeded';
  if (e.type === 'ExecutionFailed') return `✖ failed: ${String(e.details?.error)}`;
  return undefined;
}
