/**
 * A Silver built before contract version 2 (no album_name, track_length_ms, source): the incremental run
 * stops instead of guessing (on_schema_change='fail'), and the documented path, one `--full-refresh`, rebuilds
 * it from Bronze with the new columns, version-1 rows as source 'simulator'.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDbt } from '../../localstack/dbt/index.ts';
import { bronzeRows, insertBronze, type BronzeRow } from './dataset.ts';
import { DBT_PROJECT, readTable, tempWarehouse, type TempWarehouse } from './helpers.ts';

describe('a Silver of the previous release', () => {
  let wh: TempWarehouse;
  let rows: BronzeRow[];

  beforeAll(async () => {
    wh = await tempWarehouse();
    // Bronze of version 1 only, as the previous release loaded it.
    rows = bronzeRows({
      seed: 5,
      events: 2_000,
      start: new Date('2026-05-01T00:00:00Z'),
      end: new Date('2026-05-01T06:00:00Z'),
      users: 30,
      songs: 100,
    }).rows.map((r) => {
      const {
        album_name: _a,
        track_length_ms: _t,
        source: _s,
        ...v1
      } = r as BronzeRow & {
        album_name: unknown;
        track_length_ms: unknown;
        source: unknown;
      };
      return { ...v1, schema_version: 1 } as BronzeRow;
    });
    await insertBronze(wh.connection, rows);
    const first = await runDbt({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      command: 'run',
      select: ['stg_spotify__events'],
      targetDir: wh.dir,
    });
    expect(first.success).toBe(true);
    // The previous release's Silver: the same table without the version-2 columns.
    for (const column of ['album_name', 'track_length_ms', 'source']) {
      await wh.connection.run(`alter table silver.stg_spotify__events drop column ${column}`);
    }
  });
  afterAll(async () => wh?.close());

  it('stops the incremental run rather than merge rows of another shape', async () => {
    // Act
    const result = await runDbt({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      command: 'run',
      select: ['stg_spotify__events'],
      targetDir: wh.dir,
    });
    // Assess
    expect(result.success).toBe(false);
    const [silverRun] = result.runResults.results;
    expect(silverRun?.status).toBe('error');
    expect(silverRun?.message).toMatch(/album_name|out of sync/);
  });

  it('is rebuilt by one --full-refresh with the new columns, version-1 rows from the simulator', async () => {
    // Act
    const result = await runDbt({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      command: 'run',
      select: ['stg_spotify__events'],
      fullRefresh: true,
      targetDir: wh.dir,
    });
    // Assess
    expect(result.success).toBe(true);
    const summary = await readTable(
      wh.connection,
      `(select source, count(*) as n, count(album_name) as albums, count(track_length_ms) as lengths
          from silver.stg_spotify__events group by source)`,
    );
    expect(summary).toEqual([
      { source: 'simulator', n: new Set(rows.map((r) => r.event_id)).size, albums: 0, lengths: 0 },
    ]);
    // And the next incremental run goes through again.
    const next = await runDbt({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      command: 'run',
      select: ['stg_spotify__events'],
      targetDir: wh.dir,
    });
    expect(next.success).toBe(true);
  });
});

describe('a Silver from before merged_at', () => {
  let wh: TempWarehouse;
  const runSilver = (fullRefresh = false) =>
    runDbt({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      command: 'run',
      select: ['stg_spotify__events'],
      fullRefresh,
      targetDir: wh.dir,
    });

  beforeAll(async () => {
    wh = await tempWarehouse();
    const { rows } = bronzeRows({
      seed: 6,
      events: 500,
      start: new Date('2026-05-01T00:00:00Z'),
      end: new Date('2026-05-01T03:00:00Z'),
      users: 10,
      songs: 30,
    });
    await insertBronze(wh.connection, rows);
    expect((await runSilver()).success).toBe(true);
    await wh.connection.run('alter table silver.stg_spotify__events drop column merged_at');
  });
  afterAll(async () => wh?.close());

  it('stops the incremental run with a message that names the full refresh to run', async () => {
    // Act
    const result = await runSilver();
    // Assess
    expect(result.success).toBe(false);
    const [silverRun] = result.runResults.results;
    expect(silverRun?.status).toBe('error');
    expect(silverRun?.message).toContain('has no merged_at column');
    expect(silverRun?.message).toContain('`mds dbt build --full-refresh`');
  });

  it('is rebuilt with merged_at by that full refresh', async () => {
    expect((await runSilver(true)).success).toBe(true);
    const [row] = (
      await wh.connection.runAndReadAll('select count(*), count(merged_at) from silver.stg_spotify__events')
    ).getRows();
    expect(row?.[1]).toBe(row?.[0]);
    expect((await runSilver()).success).toBe(true);
  });
});
