/** Chaining loadBronze calls as the workflow does: each call gets the previous result until one is complete. */
import { loadBronze, type LoadDeps, type LoadRequest, type LoadResult } from '../../lambdas/loader/load.ts';

export interface ChainedLoad {
  /** The last result: the window's total. */
  readonly result: LoadResult;
  /** Every call's result, as the state machine saw it (through JSON). */
  readonly steps: LoadResult[];
}

/**
 * Calls loadBronze with `deadline()` as each call's deadline and the previous result (serialized to JSON
 * and back, as Step Functions passes it) until a result is complete. `onReturn` sees each result as it
 * comes back. Gives up after `maxCalls`.
 */
export async function loadInSteps(
  deps: LoadDeps,
  req: LoadRequest,
  deadline: () => number,
  options: { maxCalls?: number; onReturn?: (result: LoadResult, deadlineMs: number) => void } = {},
): Promise<ChainedLoad> {
  const steps: LoadResult[] = [];
  let previous: LoadResult | null = null;
  for (let call = 0; call < (options.maxCalls ?? 1000); call++) {
    const deadlineMs = deadline();
    const returned = await loadBronze(deps, { ...req, previous, deadlineMs });
    options.onReturn?.(returned, deadlineMs);
    const result = JSON.parse(JSON.stringify(returned)) as LoadResult;
    steps.push(result);
    if (typeof result.complete !== 'boolean') throw new Error('loadBronze returned no `complete` flag');
    if (result.complete) return { result, steps };
    previous = result;
  }
  throw new Error(`the load did not complete in ${options.maxCalls ?? 1000} calls`);
}
