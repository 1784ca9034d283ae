/**
 * The model gold_plan decides per run whether incremental Gold recomputes the changed keys or rebuilds whole:
 * its reach_rows are the Silver rows the listener marts would recompute, from the start of each changed
 * listener's session before their earliest change, so a new event at the end of a session that spans the
 * history reaches all of it, and one after short sessions reaches only the last one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListeningEventV2 } from '../../lambdas/core/contract.ts';
import { asBronzeRow, insertBronze, type BronzeRow } from './dataset.ts';
import { buildProject, readTable, tempWarehouse, unsuccessful, type TempWarehouse } from './helpers.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const T0 = Date.parse('2026-03-02T12:00:00Z');

let offset = 0;
function play(id: string, user: string, at: number, loadedAt: string): BronzeRow {
  const e: ListeningEventV2 = {
    event_id: id,
    user_id: user,
    song_id: `song_${id}`,
    artist_name: 'Artist A',
    song_name: `Song ${id}`,
    album_name: null,
    track_length_ms: 200_000,
    event_type: 'play',
    device_type: 'mobile',
    country: 'GB',
    timestamp: new Date(at).toISOString(),
    duration_ms: 60_000,
    source: 'simulator',
    schema_version: 2,
  };
  offset += 1;
  return asBronzeRow(e, { partition: 0, offset, loadedAt, file: 'bronze/gold-plan-test.ndjson.gz' });
}

describe('gold_plan: recompute the changed keys, or rebuild Gold whole', () => {
  let wh: TempWarehouse;
  // The default share (dbt_project.yml), as a deployment runs it.
  const build = async () => {
    const result = await buildProject(wh, false, {});
    expect(unsuccessful(result)).toEqual([]);
    const [plan] = await readTable(wh.connection, 'gold.gold_plan');
    return plan;
  };

  beforeAll(async () => {
    wh = await tempWarehouse();
  });
  afterAll(async () => wh?.close());

  it('reaches from the session before the change: the last of short sessions, or all of a long one', async () => {
    // Prepare: u_daily plays once a day for 10 days (10 sessions); u_long plays every 10 minutes for 6 hours
    // on day 10 (one session of 36 plays); 46 Silver rows.
    const load1 = '2026-03-20T00:00:00Z';
    await insertBronze(wh.connection, [
      ...Array.from({ length: 10 }, (_, d) => play(`d${d}`, 'u_daily', T0 + d * DAY, load1)),
      ...Array.from({ length: 36 }, (_, i) => play(`l${i}`, 'u_long', T0 + 9 * DAY + i * 10 * MIN, load1)),
    ]);
    const first = await build();
    // A first build: everything is changed and there are no stored sessions to start from.
    expect(first).toMatchObject({ changed_rows: 46, reach_rows: 46, silver_rows: 46 });

    // Act + Assess: a play of u_daily on day 11 reaches its session on day 10 and itself: 2 of 47 rows.
    await insertBronze(wh.connection, [play('d10', 'u_daily', T0 + 10 * DAY, '2026-03-21T00:00:00Z')]);
    // (readTable gives booleans as text.)
    expect(await build()).toMatchObject({
      changed_rows: 1,
      reach_rows: 2,
      silver_rows: 47,
      rebuild_whole: 'false',
    });

    // A play of u_long 10 minutes after its last one joins its 6-hour session: the whole session is
    // recomputed, 37 of 48 rows, more than half: Gold rebuilds whole.
    await insertBronze(wh.connection, [
      play('l36', 'u_long', T0 + 9 * DAY + 36 * 10 * MIN, '2026-03-22T00:00:00Z'),
    ]);
    const whole = await build();
    expect(whole).toMatchObject({ changed_rows: 1, reach_rows: 37, silver_rows: 48, rebuild_whole: 'true' });
    // And the rebuild left every event once in listener_events, u_long's in one session.
    const sessions = await readTable(
      wh.connection,
      `(select user_id, count(*) as events, count(distinct session_id) as sessions
        from gold.listener_events group by user_id order by user_id)`,
    );
    expect(sessions).toEqual([
      { user_id: 'u_daily', events: 11, sessions: 11 },
      { user_id: 'u_long', events: 37, sessions: 1 },
    ]);
  });
});
