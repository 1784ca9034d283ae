/** The Warehouse.query value contract, checked on every engine that runs here. */
import { expect, it } from 'vitest';
import type { Warehouse } from '../../lambdas/core/warehouse/types.ts';

export function queryContract(open: () => Promise<Warehouse>): void {
  it('returns numbers, ISO timestamps, dates and nulls, with $n parameters', async () => {
    // Prepare
    const wh = await open();
    try {
      // Act
      const rows = await wh.query(
        `SELECT CAST($1 AS BIGINT) AS big, CAST(12.50 AS DECIMAL(10,2)) AS dec,
                CAST('2026-11-23 10:15:00.123456' AS TIMESTAMP) AS ts,
                CAST('2026-11-23' AS DATE) AS d, CAST(NULL AS VARCHAR) AS nothing, $2 AS text,
                CAST('9007199254740993' AS BIGINT) AS huge`,
        [42, "it's"],
      );

      // Assess
      expect(rows).toEqual([
        {
          big: 42,
          dec: 12.5,
          ts: '2026-11-23T10:15:00.123Z',
          d: '2026-11-23',
          nothing: null,
          text: "it's",
          huge: 9007199254740993n,
        },
      ]);
    } finally {
      await wh.close();
    }
  });

  it('creates the Bronze schemas, table and manifest idempotently', async () => {
    // Prepare
    const wh = await open();
    try {
      // Act
      await wh.ensureBronze();
      await wh.ensureBronze();
      const columns = await wh.query<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns
         WHERE table_schema = 'bronze' AND table_name = 'listening_events' ORDER BY ordinal_position`,
      );
      const schemas = await wh.query<{ schema_name: string }>(
        `SELECT DISTINCT schema_name FROM information_schema.schemata
         WHERE schema_name IN ('bronze', 'silver', 'gold') ORDER BY schema_name`,
      );

      // Assess
      expect(columns.map((c) => c.column_name)).toEqual([
        'event_id',
        'user_id',
        'song_id',
        'artist_name',
        'song_name',
        'event_type',
        'device_type',
        'country',
        'event_timestamp',
        'duration_ms',
        'schema_version',
        'kafka_topic',
        'kafka_partition',
        'kafka_offset',
        'kafka_timestamp',
        'source_file',
        'source_row',
        'loaded_at',
        'album_name',
        'track_length_ms',
        'source',
      ]);
      expect(columns.find((c) => c.column_name === 'event_timestamp')?.data_type).toMatch(/^TIMESTAMP/i);
      expect(schemas.map((s) => s.schema_name)).toEqual(['bronze', 'gold', 'silver']);
      expect(await wh.manifestEntries(['bronze/none'])).toEqual(new Map());
    } finally {
      await wh.close();
    }
  });
}
