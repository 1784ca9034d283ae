/**
 * Runs a plan's nodes on `threads` workers, as dbt's graph queue does: a node starts once every node it
 * waits for is done, on the first free worker; among the nodes ready at once, the plan's order decides.
 * A node whose upstream errored, failed or was skipped is skipped; with `failFast`, the first error or
 * failure stops the run: the nodes still running are interrupted and every node not yet started is skipped
 * (https://docs.getdbt.com/reference/global-configs/failing-fast). Results come in the order the nodes
 * finish, as dbt appends them to run_results.json; the index of a node ("3 of 12") is the order it was taken.
 * With one worker the nodes run one at a time in the plan's order.
 */
import type { ExecNode } from './project.ts';
import type { Plan } from './graph.ts';

/** A worker: dbt's thread name (run_results' thread_id) and what it executes on. */
export interface Worker<C> {
  readonly threadId: string;
  readonly connection: C;
}

export interface ScheduleOptions<C, R> {
  readonly plan: Plan;
  readonly workers: readonly Worker<C>[];
  readonly failFast?: boolean;
  /** Executes a node on a worker; `index` is its 1-based position in the order nodes are taken. */
  readonly run: (node: ExecNode, index: number, worker: Worker<C>) => Promise<R>;
  /** The result of a node that does not run: its upstream did not succeed, or the run stopped (fail fast). */
  readonly skip: (node: ExecNode, index: number, cause: 'upstream' | 'fail-fast') => R;
  /** Whether a result stops what depends on it (error, fail, skipped). */
  readonly blocks: (result: R) => boolean;
  /** Stops the statement running on a worker (fail fast). */
  readonly interrupt?: (worker: Worker<C>) => void;
}

export async function schedule<C, R>(options: ScheduleOptions<C, R>): Promise<R[]> {
  const { plan, workers } = options;
  if (workers.length === 0) throw new Error('schedule: no worker to run the nodes on');
  const results: R[] = [];
  const pending = [...plan.nodes];
  const done = new Set<string>();
  const blocked = new Set<string>();
  const free = [...workers];
  const running = new Map<Worker<C>, Promise<void>>();
  let taken = 0;
  let stopped = false;
  const waitsFor = (node: ExecNode): readonly string[] => [...(plan.upstream.get(node.uniqueId) ?? [])];

  const finish = (node: ExecNode, result: R): void => {
    results.push(result);
    done.add(node.uniqueId);
    if (options.blocks(result)) {
      blocked.add(node.uniqueId);
      if (options.failFast && !stopped) {
        stopped = true;
        for (const w of running.keys()) options.interrupt?.(w);
      }
    }
  };

  /** Takes every ready node there is a worker for; skipped nodes need none. */
  const dispatch = (): void => {
    for (let i = 0; i < pending.length && !stopped;) {
      const node = pending[i] as ExecNode;
      const upstream = waitsFor(node);
      if (!upstream.every((d) => done.has(d))) {
        i++;
        continue;
      }
      if (upstream.some((d) => blocked.has(d))) {
        pending.splice(i, 1);
        finish(node, options.skip(node, ++taken, 'upstream'));
        i = 0;
        continue;
      }
      const worker = free.shift();
      if (!worker) return;
      pending.splice(i, 1);
      const index = ++taken;
      running.set(
        worker,
        options.run(node, index, worker).then((result) => {
          running.delete(worker);
          free.push(worker);
          finish(node, result);
        }),
      );
    }
  };

  dispatch();
  while (running.size > 0) {
    await Promise.race(running.values());
    dispatch();
  }
  // Fail fast: what never started is reported as skipped, in the plan's order.
  for (const node of pending) results.push(options.skip(node, ++taken, 'fail-fast'));
  return results;
}
