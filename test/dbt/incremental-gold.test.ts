/**
 * Incremental Gold = full refresh, as a property: random simulated events arriving in random orders (events
 * held back to later loads, duplicates, better copies in a later load, a load repeated), a `dbt build` after
 * each load; after the last, Silver and every Gold table equal a full refresh of the same Bronze in another
 * warehouse, and the TypeScript reference. And every incremental Gold mart is built before gold_watermark,
 * whose relation says how far Gold has been built.
 *
 * CI runs a fixed case with every kind of arrival and 2 random cases of a fixed seed; MDS_PROPERTY_RUNS=n runs
 * n cases (the fixed one first), MDS_PROPERTY_SEED=s draws them from another seed.
 */
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDbt } from '../../localstack/dbt/index.ts';
import { loadProject } from '../../localstack/dbt/project.ts';
import { arrivals, type ArrivalOptions, type Load } from './arrivals.ts';
import { TOPIC, insertBronze, type BronzeRow } from './dataset.ts';
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

/** Cases per run, the fixed one (EVERY_KIND) among them. */
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
 * Inserts the loads one by one into a fresh warehouse, building the project after each and comparing Silver and
 * every Gold table with the TypeScript reference of the Bronze so far; after the last, also with a full refresh
 * of all the loads in another warehouse. Returns the differences and every node that did not succeed ([] when
 * incremental Gold is right).
 */
async function incrementalDifferences(projectDir: string, loads: readonly Load[]): Promise<string[]> {
  const incremental = await tempWarehouse();
  const full = await tempWarehouse();
  try {
    const problems: string[] = [];
    const loaded: BronzeRow[] = [];
    const built = new Map<string, Row[]>();
    for (const load of loads) {
      await insertBronze(incremental.connection, load.rows);
      loaded.push(...load.rows);
      problems.push(...unsuccessful(await build(projectDir, incremental)).map((l) => `${load.note}: ${l}`));
      const events = silver(loaded);
      for (const { table, key, compute } of TABLES) {
        built.set(table, await readTable(incremental.connection, table));
        problems.push(
          ...diffRows(built.get(table) ?? [], compute(events), key).map(
            (p) => `${load.note}: ${table} != reference: ${p}`,
          ),
        );
      }
    }
    await insertBronze(full.connection, loaded);
    problems.push(...unsuccessful(await build(projectDir, full, true)).map((l) => `full refresh: ${l}`));
    for (const { table, key } of TABLES) {
      const fromScratch = await readTable(full.connection, table);
      problems.push(
        ...diffRows(built.get(table) ?? [], fromScratch, key).map(
          (p) => `last load: ${table} != full refresh: ${p}`,
        ),
      );
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
      { nil: undefined, freq: 2 },
    ),
  },
  { requiredKeys: ['seed', 'events', 'days', 'users', 'songs', 'loads', 'heldBackFraction', 'betterCopies'] },
);

/** A case with every kind of arrival, run first whatever the seed. */
const EVERY_KIND: ArrivalOptions = {
  seed: 7,
  events: 1_200,
  days: 3,
  users: 8,
  songs: 40,
  loads: 5,
  heldBackFraction: 0.2,
  betterCopies: 6,
  repeat: { of: 1, after: 3, sameLoadTime: false },
};

/** fast-check's parameters: the fixed case first; no shrinking (it would rebuild the project hundreds of times). */
const PARAMETERS = { seed: SEED, endOnFailure: true, examples: [[EVERY_KIND]] as [ArrivalOptions][] };

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
      // A failure reports its case and the seed instead of shrinking it.
      await fc.assert(property(DBT_PROJECT), { ...PARAMETERS, numRuns: RUNS });
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
        const outcome = await fc.check(property(broken), { ...PARAMETERS, numRuns: 2 });
        expect(outcome.failed).toBe(true);
        const message = String(outcome.errorInstance);
        expect(message).toMatch(/: gold\.device_mix != reference: /);
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
