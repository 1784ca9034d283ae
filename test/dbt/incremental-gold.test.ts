/**
 * Incremental Gold = full refresh, as a property: random simulated events arriving in random orders (events
 * held back to later loads, duplicates, better copies in a later load, a load repeated), a `dbt build` after
 * each load; after the last, Silver and every Gold table equal a full refresh of the same Bronze in another
 * warehouse, and the TypeScript reference. And every incremental Gold mart is built before gold_watermark,
 * whose relation says how far Gold has been built.
 *
 * MDS_PROPERTY_RUNS=n runs n random cases instead of the few CI runs (MDS_PROPERTY_SEED picks the seed).
 */
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDbt } from '../../localstack/dbt/index.ts';
import { loadProject } from '../../localstack/dbt/project.ts';
import { arrivals, type ArrivalOptions, type Load } from './arrivals.ts';
import { TOPIC, insertBronze } from './dataset.ts';
import {
  DBT_PROJECT,
  diffRows,
  projectCopy,
  readTable,
  tempWarehouse,
  unsuccessful,
  type TempWarehouse,
} from './helpers.ts';
import { GOLD, silver, type Row, type SilverEvent } from './reference.ts';

const RUNS = Number(process.env.MDS_PROPERTY_RUNS ?? 3);
const SEED = Number(process.env.MDS_PROPERTY_SEED ?? 20260401);
/** Per case: up to 5 loads and a repeated one, each built, then a full refresh: room for a slow machine. */
const CASE_TIMEOUT_MS = 60_000;

const silverReference = (events: readonly SilverEvent[]): Row[] =>
  events.map(({ ts: _ts, ...rest }) => ({ ...rest, kafka_topic: TOPIC }));

const TABLES: readonly {
  table: string;
  key: readonly string[];
  compute: (e: readonly SilverEvent[]) => Row[];
}[] = [
  { table: 'silver.stg_spotify__events', key: ['event_id'], compute: silverReference },
  ...Object.entries(GOLD).map(([t, { key, compute }]) => ({ table: `gold.${t}`, key, compute })),
];

const build = (projectDir: string, wh: TempWarehouse, fullRefresh = false) =>
  runDbt({ projectDir, connection: wh.connection, command: 'build', fullRefresh, targetDir: wh.dir });

/**
 * Inserts the loads one by one into a fresh warehouse, building the project after each, and a full refresh of
 * all of them into another; the differences of Silver and every Gold table from the full refresh and from the
 * TypeScript reference, and every node that did not succeed ([] when incremental Gold is right).
 */
async function incrementalDifferences(projectDir: string, loads: readonly Load[]): Promise<string[]> {
  const incremental = await tempWarehouse();
  const full = await tempWarehouse();
  try {
    const problems: string[] = [];
    for (const load of loads) {
      await insertBronze(incremental.connection, load.rows);
      problems.push(...unsuccessful(await build(projectDir, incremental)).map((l) => `${load.note}: ${l}`));
    }
    const all = loads.flatMap((l) => l.rows);
    await insertBronze(full.connection, all);
    problems.push(...unsuccessful(await build(projectDir, full, true)).map((l) => `full refresh: ${l}`));
    const events = silver(all);
    for (const { table, key, compute } of TABLES) {
      const built = await readTable(incremental.connection, table);
      const fromScratch = await readTable(full.connection, table);
      problems.push(...diffRows(built, fromScratch, key).map((p) => `${table} != full refresh: ${p}`));
      problems.push(...diffRows(built, compute(events), key).map((p) => `${table} != reference: ${p}`));
    }
    return problems;
  } finally {
    await incremental.close();
    await full.close();
  }
}

/** Small cases: a few hundred to a couple of thousand events, a few listeners and days, 2-5 loads. */
const cases: fc.Arbitrary<ArrivalOptions> = fc.record(
  {
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    events: fc.integer({ min: 300, max: 2_000 }),
    days: fc.integer({ min: 1, max: 4 }),
    users: fc.integer({ min: 3, max: 12 }),
    songs: fc.integer({ min: 10, max: 60 }),
    loads: fc.integer({ min: 2, max: 5 }),
    heldBackFraction: fc.constantFrom(0, 0.05, 0.2),
    betterCopies: fc.integer({ min: 0, max: 6 }),
    repeat: fc.option(
      fc.record({
        of: fc.integer({ min: 0, max: 4 }),
        after: fc.integer({ min: 0, max: 4 }),
        sameLoadTime: fc.boolean(),
      }),
      { nil: undefined },
    ),
  },
  { requiredKeys: ['seed', 'events', 'days', 'users', 'songs', 'loads', 'heldBackFraction', 'betterCopies'] },
);

/** The property on a project: no difference after any arrival order. */
const property = (projectDir: string) =>
  fc.asyncProperty(cases, async (options) => {
    const { summary, loads } = arrivals(options);
    const problems = await incrementalDifferences(projectDir, loads);
    if (problems.length > 0)
      throw new Error(
        [summary, ...loads.map((l) => l.note), ...problems.slice(0, 40), `(${problems.length} in all)`].join(
          '\n',
        ),
      );
  });

describe('incremental Gold after random arrival orders', () => {
  it(
    'equals a full refresh of the same Bronze and the TypeScript reference',
    async () => {
      // Shrinking would rebuild the project hundreds of times: a failure reports its case and seed instead.
      await fc.assert(property(DBT_PROJECT), { seed: SEED, numRuns: RUNS, endOnFailure: true });
    },
    CASE_TIMEOUT_MS * RUNS,
  );

  describe('on a copy whose device_mix rebuilds only the hours of the changed events, not their days', () => {
    let dir: string;
    let broken: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'dbt-broken-'));
      broken = await projectCopy(dir);
      const file = path.join(broken, 'models/marts/device_mix.sql');
      const sql = await readFile(file, 'utf8');
      const hourly = sql.replace(
        'and event_date in (select event_date from',
        'and event_hour in (select event_hour from',
      );
      expect(hourly).not.toBe(sql);
      await writeFile(file, hourly);
    });
    afterAll(async () => rm(dir, { recursive: true, force: true }));

    it(
      'the property fails, naming device_mix',
      async () => {
        const outcome = await fc.check(property(broken), { seed: SEED, numRuns: 3, endOnFailure: true });
        expect(outcome.failed).toBe(true);
        const message = String(outcome.errorInstance);
        expect(message).toMatch(/gold\.device_mix != full refresh/);
        expect(message).toMatch(/gold\.device_mix != reference/);
        expect(message).not.toMatch(/gold\.(?!device_mix)\w+ != /);
      },
      CASE_TIMEOUT_MS * 3,
    );
  });
});

/** The incremental Gold marts (models in marts/ materialized incremental) that gold_watermark is not built after. */
async function martsBuiltAfterWatermark(projectDir: string): Promise<string[]> {
  const project = await loadProject({ projectDir });
  const models = [...project.models.values()];
  const watermark = models.find((m) => m.name === 'gold_watermark');
  if (!watermark) return ['no model gold_watermark'];
  const ancestors = new Set<string>();
  const stack = [...watermark.dependsOn];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (ancestors.has(id)) continue;
    ancestors.add(id);
    stack.push(...(project.models.get(id)?.dependsOn ?? []));
  }
  return models
    .filter((m) => m.fqn.includes('marts') && m.config.materialized === 'incremental')
    .filter((m) => !ancestors.has(m.uniqueId))
    .map((m) => m.name);
}

describe('gold_watermark', () => {
  it('is built after every incremental Gold mart', async () => {
    const missing = await martsBuiltAfterWatermark(DBT_PROJECT);
    expect(
      missing,
      `add "-- depends_on: {{ ref('<mart>') }}" to dbt/models/marts/gold_watermark.sql for: ${missing.join(', ')}`,
    ).toEqual([]);
  });

  it('is reported when an incremental mart lacks its depends_on line (a copy without device_mix)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dbt-broken-'));
    try {
      const copy = await projectCopy(dir);
      const file = path.join(copy, 'models/marts/gold_watermark.sql');
      const sql = await readFile(file, 'utf8');
      const without = sql.replace(/^-- depends_on: \{\{ ref\('device_mix'\) \}\}\n/m, '');
      expect(without).not.toBe(sql);
      await writeFile(file, without);
      expect(await martsBuiltAfterWatermark(copy)).toEqual(['device_mix']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
