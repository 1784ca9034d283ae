import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSourceFreshness } from '../../localstack/dbt/index.ts';
import { DBT_PROJECT, tempWarehouse, type TempWarehouse } from './helpers.ts';

describe('source freshness (loaded_at_field loaded_at, warn after 2 h, error after 6 h)', () => {
  let wh: TempWarehouse;

  beforeAll(async () => {
    wh = await tempWarehouse();
    await wh.connection.run(
      "insert into bronze.listening_events (event_id, loaded_at) values ('e1', timestamp '2026-07-01 10:00:00'), ('e2', timestamp '2026-07-01 12:00:00')",
    );
  });
  afterAll(async () => wh?.close());

  it.each([
    ['2026-07-01T13:00:00Z', 'pass', 3600],
    ['2026-07-01T15:00:00Z', 'warn', 3 * 3600],
    ['2026-07-01T19:00:00Z', 'error', 7 * 3600],
  ])('at %s the source is %s', async (now, status, age) => {
    // Act
    const result = await runSourceFreshness({
      projectDir: DBT_PROJECT,
      connection: wh.connection,
      now: new Date(now),
      targetDir: wh.dir,
    });
    // Assess: measured from max(loaded_at), thresholds from _sources.yml; only an error fails the command.
    expect(result.results).toEqual([
      expect.objectContaining({
        unique_id: 'source.spotify_mds.bronze.listening_events',
        status,
        max_loaded_at: '2026-07-01T12:00:00.000Z',
        max_loaded_at_time_ago_in_s: age,
      }),
    ]);
    expect(result.success).toBe(status !== 'error');
    const written = JSON.parse(await readFile(path.join(wh.dir, 'sources.json'), 'utf8')) as {
      results: unknown[];
    };
    expect(written.results).toHaveLength(1);
  });
});
