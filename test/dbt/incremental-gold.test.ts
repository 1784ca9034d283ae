/**
 * Incremental Gold = full refresh, as a property: random simulated events arriving in random orders (events
 * held back to later loads, duplicates, better copies in a later load, a load repeated), a `dbt build` after
 * each load; after the last, Silver and every Gold table equal a full refresh of the same Bronze in another
 * warehouse, and the TypeScript reference. And every incremental Gold mart is built before gold_watermark,
 * whose relation says how far Gold has been built.
 *
 * Each case runs on one of Gold's two paths (gold_rebuild_share: recompute the changed keys, or rebuild whole),
 * and the run's gold_plan must say so. CI runs a fixed case with every kind of arrival on both paths, then
 * random cases of a fixed seed, 3 cases in all (fast-check counts the fixed ones); MDS_PROPERTY_RUNS=n runs n
 * cases, MDS_PROPERTY_SEED=s draws them from another seed.
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

/**
 * gold_rebuild_share (model gold_plan): 1 never rebuilds Gold whole, so every run recomputes the changed keys;
 * 0 rebuilds it whole in every run that changed anything. Both paths must give the same tables.
 */
type RebuildShare = 0 | 1;

const build = (projectDir: string, wh: TempWarehouse, share: RebuildShare, fullRefresh = false) =>
  runDbt({
    projectDir,
    connection: wh.connection,
    command: 'build',
    fullRefresh,
    targetDir: wh.dir,
    vars: { gold_rebuild_share: share },
  });

/**
 * Inserts the loads one by one into a fresh warehouse, building the project after each and comparing Silver and
 * every Gold table with the TypeScript reference of the Bronze so far; after the last, also with a full refresh
 * of all the loads in another warehouse. Returns the differences and every node that did not succeed ([] when
 * incremental Gold is right).
 */
async function incrementalDifferences(
  projectDir: string,
  loads: readonly Load[],
  share: RebuildShare,
): Promise<string[]> {
  const incremental = await tempWarehouse();
  const full = await tempWarehouse();
  try {
    const problems: string[] = [];
    const loaded: BronzeRow[] = [];
    const built = new Map<string, Row[]>();
    for (const load of loads) {
      await insertBronze(incremental.connection, load.rows);
      loaded.push(...load.rows);
      problems.push(
        ...unsuccessful(await build(projectDir, incremental, share)).map((l) => `${load.note}: ${l}`),
      );
      problems.push(...(await planDifferences(incremental, share)).map((p) => `${load.note}: ${p}`));
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
    problems.push(
      ...unsuccessful(await build(projectDir, full, share, true)).map((l) => `full refresh: ${l}`),
    );
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

/** The plan the run followed is the one its share asks for: never whole with 1, whole with 0 when anything changed. */
async function planDifferences(wh: TempWarehouse, share: RebuildShare): Promise<string[]> {
  const reader = await wh.connection.runAndReadAll('select changed_rows, rebuild_whole from gold.gold_plan');
  const [changed, whole] = reader.getRows()[0] ?? [];
  const expected = share === 0 ? Number(changed) > 0 : false;
  return whole === expected
    ? []
    : [`gold_plan.rebuild_whole is ${String(whole)} with share ${share} and ${String(changed)} changed rows`];
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

/**
 * fast-check's parameters: the fixed case first, on both paths (keys, then whole); no shrinking (it would rebuild
 * the project hundreds of times).
 */
const PARAMETERS = {
  seed: SEED,
  endOnFailure: true,
  examples: [
    [EVERY_KIND, 1],
    [EVERY_KIND, 0],
  ] as [ArrivalOptions, RebuildShare][],
};

/** The property on a project: no difference after any arrival order, on the path(s) `shares` allows. */
const property = (projectDir: string, shares: readonly RebuildShare[] = [1, 0]) =>
  fc.asyncProperty(cases, fc.constantFrom(...shares), async (options, share) => {
    const { summary, loads } = arrivals(options);
    const problems = await incrementalDifferences(projectDir, loads, share);
    if (problems.length > 0)
      throw new Error(
        [
          `${summary}; gold_rebuild_share ${share}`,
          ...loads.map((l) => l.note),
          ...problems.slice(0, 40),
          `(${problems.length} in all)`,
        ].join('\n'),
      );
  });

describe('incremental Gold after random arrival orders', () => {
  it(
    'equals a full refresh of the same Bronze and the TypeScript reference',
    async () => {
      // A failure reports its case and the seed instead of shrinking it.
      await fc.assert(property(DBT_PROJECT), { ...PARAMETERS, numRuns: RUNS });
    },
    CASE_TIMEOUT_MS * Math.max(RUNS, PARAMETERS.examples.length),
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
        // The keys path: a whole rebuild would not read the changed hours at all.
        const outcome = await fc.check(property(broken, [1]), {
          ...PARAMETERS,
          examples: [[EVERY_KIND, 1]],
          numRuns: 2,
        });
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
