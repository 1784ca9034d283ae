/**
 * `npm run bench -- dbt`: `dbt build` of the whole project with the embedded runner on DuckDB over 1,000,000
 * simulated events (with duplicates and late events): a full build (median of 3), and an incremental build
 * after one more hour of data. Prints seconds and Bronze rows per second, and how much of the time the
 * runner itself (parsing, Jinja, planning) takes next to the SQL it runs.
 */
import { rm, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runDbt, type DbtRunResult } from '../localstack/dbt/index.ts';
import { PROJECT_ROOT } from '../localstack/paths.ts';
import { bronzeRowStream, createBronze, insertBronze, type BronzeRow } from '../test/dbt/dataset.ts';

const EVENTS = Number(process.env.DBT_BENCH_EVENTS ?? 1_000_000);
const RUNS = 3;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export default async function (): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbt-bench-'));
  const instance = await DuckDBInstance.create(path.join(dir, 'warehouse.duckdb'));
  const connection = await instance.connect();
  try {
    await createBronze(connection);
    const rows = bronzeRowStream(
      {
        seed: 42,
        events: EVENTS,
        start: new Date('2026-06-01T00:00:00Z'),
        end: new Date('2026-06-08T00:00:00Z'),
        duplicateFraction: 0.02,
        lateFraction: 0.02,
      },
      false,
    );
    // Hold back the last hour of loads for the incremental build.
    const held: BronzeRow[] = [];
    let cutoff = '';
    const first = (function* () {
      for (const row of rows) {
        if (row.loaded_at >= '2026-06-07T23:00:00.000Z') held.push(row);
        else yield row;
      }
    })();
    let t = performance.now();
    const loaded = await insertBronze(connection, first);
    console.log(
      `bronze: ${loaded} rows generated and loaded in ${((performance.now() - t) / 1000).toFixed(1)} s (setup, not measured)`,
    );
    cutoff = '2026-06-07T23:00:00Z';

    const projectDir = path.join(PROJECT_ROOT, 'dbt');
    const build = (fullRefresh: boolean): Promise<DbtRunResult> =>
      runDbt({ projectDir, connection, command: 'build', fullRefresh, targetDir: path.join(dir, 'target') });
    const full: number[] = [];
    const sqlShare: number[] = [];
    let lastFull: DbtRunResult | undefined;
    for (let i = 0; i < RUNS; i++) {
      t = performance.now();
      const result = await build(true);
      const seconds = (performance.now() - t) / 1000;
      if (!result.success) throw new Error('dbt build failed in the benchmark');
      lastFull = result;
      full.push(seconds);
      sqlShare.push(result.runResults.results.reduce((s, r) => s + r.execution_time, 0) / seconds);
    }
    const fullMedian = median(full);
    const slowest = [...(lastFull?.runResults.results ?? [])]
      .sort((a, b) => b.execution_time - a.execution_time)
      .slice(0, 4)
      .map((r) => `${r.unique_id.split('.')[2]} ${r.execution_time.toFixed(2)} s`);
    console.log(
      `full build (15 models, ${RUNS} runs): median ${fullMedian.toFixed(2)} s [${full.map((s) => s.toFixed(2)).join(', ')}] = ${Math.round(loaded / fullMedian).toLocaleString('en-US')} bronze rows/s`,
    );
    console.log(`  slowest nodes (last run): ${slowest.join(', ')}`);
    console.log(
      `  SQL execution share of the build: ${(median(sqlShare) * 100).toFixed(1)} % (the rest is the runner: parse, Jinja, plan)`,
    );

    const added = await insertBronze(connection, held);
    t = performance.now();
    const incremental = await build(false);
    const incSeconds = (performance.now() - t) / 1000;
    if (!incremental.success) throw new Error('incremental dbt build failed in the benchmark');
    const silverSeconds = (r: DbtRunResult | undefined): string =>
      (
        r?.runResults.results.find((x) => x.unique_id.endsWith('.stg_spotify__events'))?.execution_time ?? NaN
      ).toFixed(2);
    console.log(
      `  Silver (stg_spotify__events): full ${silverSeconds(lastFull)} s, incremental ${silverSeconds(incremental)} s (Gold is rebuilt from Silver either way)`,
    );
    console.log(
      `incremental build after one more hour (${added} rows loaded after ${cutoff}): ${incSeconds.toFixed(2)} s; ratio to full build ${(incSeconds / fullMedian).toFixed(2)}`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
