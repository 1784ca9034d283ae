import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import { landBatch, planBatch, type MskEvent } from '../../lambdas/consumer/land.ts';
import { consumerConfigFromEnv, createConsumerHandler } from '../../lambdas/consumer/handler.ts';
import { startLocalS3, type LocalS3 } from '../../localstack/s3-server.ts';
import { getObjectBytes, headObjectMetadata, listAllObjects } from '../../lambdas/core/s3.ts';
import { ConfigError, TransientError } from '../../lambdas/core/errors.ts';
import {
  ListeningEventV1Schema as ListeningEventSchema,
  ListeningEventV2Schema,
  validateEvent,
} from '../../lambdas/core/contract.ts';
import { bronzeKeyOfArrival, type QuarantineRecord } from '../../lambdas/core/bronze.ts';
import { listeningEvent, mskBatch } from '../helpers/msk-batch.ts';

/** The event as the contract returns it (in its version's field order). */
function validated(record: unknown): unknown {
  const result = validateEvent(record);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.event;
}

const BUCKET = 'bronze-test';

// Each test file runs in its own process: keep Powertools' metric lines out of the test output.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

async function fixture(name: string): Promise<MskEvent> {
  return JSON.parse(
    await readFile(path.join(import.meta.dirname, '..', 'fixtures', name), 'utf8'),
  ) as MskEvent;
}

function lines(body: Uint8Array): Record<string, unknown>[] {
  const text = gunzipSync(body).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

let dir: string;
let server: LocalS3;
let s3: S3Client;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'consumer-test-'));
  server = await startLocalS3({ directory: dir, buckets: [BUCKET] });
  s3 = server.client();
});

afterAll(async () => {
  s3?.destroy();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('planBatch', () => {
  it('groups valid records by event hour and topic-partition, named by the offsets in each object', async () => {
    // Prepare
    const event = await fixture('msk-event.json');

    // Act
    const plan = planBatch(event);

    // Assess
    expect(plan).toMatchObject({ recordsIn: 8, landed: 8, quarantined: 0 });
    expect(plan.objects.map((o) => [o.key, o.records])).toEqual([
      ['bronze/date=2026-11-23/hour=09/spotify-events-0-102-102.ndjson.gz', 1],
      ['bronze/date=2026-11-23/hour=10/spotify-events-0-100-104.ndjson.gz', 2],
      ['bronze/date=2026-11-23/hour=11/spotify-events-0-101-103.ndjson.gz', 2],
      ['bronze/date=2026-11-23/hour=11/spotify-events-1-7-9.ndjson.gz', 3],
    ]);
  });

  it('writes each line as the event in contract order plus the Kafka lineage', async () => {
    // Prepare: offset 9 of partition 1 has its fields in reverse order
    const event = await fixture('msk-event.json');

    // Act
    const plan = planBatch(event);

    // Assess
    const obj = plan.objects.find((o) => o.key.endsWith('spotify-events-1-7-9.ndjson.gz'))!;
    const rows = lines(obj.body);
    const contractKeys = Object.keys(ListeningEventSchema.shape);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual([
        ...contractKeys,
        '_topic',
        '_partition',
        '_offset',
        '_kafka_timestamp',
      ]);
    }
    expect(rows.map((r) => r._offset)).toEqual([7, 8, 9]);
    expect(rows[2]).toMatchObject({
      _topic: 'spotify-events',
      _partition: 1,
      _kafka_timestamp: '2026-11-23T11:02:03.004Z',
      timestamp: '2026-11-23T11:01:31.000Z',
      schema_version: 1,
    });
  });

  it('is deterministic: the same batch gives the same keys and bytes, whatever the record order in the event', async () => {
    // Prepare
    const event = await fixture('msk-event.json');
    const shuffled: MskEvent = {
      ...event,
      records: Object.fromEntries(
        Object.entries(event.records)
          .reverse()
          .map(([k, v]) => [k, [...v].reverse()]),
      ),
    };

    // Act
    const a = planBatch(event);
    const b = planBatch(shuffled);

    // Assess
    expect(b.objects.map((o) => o.key)).toEqual(a.objects.map((o) => o.key));
    b.objects.forEach((o, i) => expect(o.body.equals(a.objects[i]!.body)).toBe(true));
  });

  it('quarantines every bad record with its reasons under the arrival hour, and lands the rest', async () => {
    // Prepare
    const event = await fixture('msk-event-bad.json');

    // Act
    const plan = planBatch(event);

    // Assess
    expect(plan).toMatchObject({ recordsIn: 9, landed: 2, quarantined: 7 });
    const [bronze, quarantine] = plan.objects;
    expect(bronze!.key).toBe('bronze/date=2026-11-23/hour=10/spotify-events-0-10-18.ndjson.gz');
    expect(lines(bronze!.body).map((r) => r._offset)).toEqual([10, 18]);
    expect(quarantine!.key).toBe('quarantine/date=2026-11-23/hour=11/spotify-events-0-11-17.ndjson.gz');
    const q = lines(quarantine!.body) as unknown as QuarantineRecord[];
    expect(q.map((r) => [r.offset, r.problems.map((p) => `${p.path}:${p.code}`).sort()])).toEqual([
      [11, [':invalid_utf8']],
      [12, [':invalid_json']],
      [13, [':not_an_object']],
      [14, [':not_an_object']],
      [15, ['country:invalid_value', 'duration_ms:invalid_type', 'event_type:invalid_value']],
      [16, [':missing_value']],
      [17, ['timestamp:invalid_format']],
    ]);
    const original = event.records['spotify-events-0']!;
    for (const r of q) {
      const raw = original.find((o) => o.offset === r.offset)!;
      expect(r).toMatchObject({
        topic: 'spotify-events',
        partition: 0,
        kafka_timestamp: '2026-11-23T11:02:03.004Z',
      });
      expect(r.value_base64).toBe(raw.value ?? null);
      expect(r.key_base64).toBe(raw.key ?? null);
    }
  });

  it('lands events of contract versions 1 and 2 as validated, and names the field of a bad version-2 record', () => {
    // Prepare: a version-1 event, a Web API play (no device, country, ms listened) with its keys reversed,
    // a history entry, and version-2 records each broken in one field.
    const ts = '2026-11-23T10:15:00.000Z';
    const v1 = listeningEvent(0, ts);
    const api = {
      ...listeningEvent(1, ts),
      album_name: 'Discovery',
      track_length_ms: 320_357,
      device_type: null,
      country: null,
      duration_ms: null,
      source: 'spotify_api',
      schema_version: 2,
    };
    const history = {
      ...api,
      ...listeningEvent(2, ts),
      track_length_ms: null,
      source: 'spotify_history',
      schema_version: 2,
    };
    const values: Record<string, unknown>[] = [
      v1,
      Object.fromEntries(Object.entries(api).reverse()),
      history,
      { ...api, event_id: listeningEvent(3, ts).event_id, source: 'spotify' },
      { ...api, event_id: listeningEvent(4, ts).event_id, track_length_ms: 0 },
      { ...v1, event_id: listeningEvent(5, ts).event_id, device_type: null },
      { ...api, event_id: listeningEvent(6, ts).event_id, schema_version: 3 },
    ];
    const batch = mskBatch(
      values.map(() => ts),
      { produced: Date.parse('2026-11-23T10:16:00Z') },
    );
    const event: MskEvent = {
      ...batch,
      records: {
        'spotify-events-0': batch.records['spotify-events-0']!.map((r, k) => ({
          ...r,
          value: Buffer.from(JSON.stringify(values[k])).toString('base64'),
        })),
      },
    };

    // Act
    const plan = planBatch(event);

    // Assess
    expect(plan).toMatchObject({ recordsIn: 7, landed: 3, quarantined: 4 });
    const [bronze, quarantine] = plan.objects;
    const landed = lines(bronze!.body).map(({ _topic, _partition, _offset, _kafka_timestamp, ...e }) => e);
    // In each version's contract order, nulls kept as null (unknown), nothing added or dropped.
    expect(landed.map((e) => JSON.stringify(e))).toEqual(
      [v1, api, history].map((e) => JSON.stringify(validated(e))),
    );
    expect(Object.keys(landed[1]!)).toEqual(Object.keys(ListeningEventV2Schema.shape));
    const q = lines(quarantine!.body) as unknown as QuarantineRecord[];
    expect(q.map((r) => r.problems.map((p) => `${p.path}:${p.code}`))).toEqual([
      ['source:invalid_value'],
      ['track_length_ms:too_small'],
      ['device_type:invalid_value'],
      ['schema_version:invalid_value'],
    ]);
  });

  it('quarantines a 1 MB value as too big without decoding it', () => {
    // Prepare
    const big = Buffer.alloc(1024 * 1024, 0x61).toString('base64');
    const event: MskEvent = {
      eventSource: 'aws:kafka',
      records: {
        't-3': [
          { topic: 't', partition: 3, offset: 5, timestamp: 0, timestampType: 'CREATE_TIME', value: big },
        ],
      },
    };

    // Act
    const plan = planBatch(event);

    // Assess
    expect(plan).toMatchObject({ recordsIn: 1, landed: 0, quarantined: 1 });
    const [row] = lines(plan.objects[0]!.body) as unknown as QuarantineRecord[];
    expect(plan.objects[0]!.key).toBe('quarantine/date=1970-01-01/hour=00/t-3-5-5.ndjson.gz');
    expect(row!.problems).toEqual([expect.objectContaining({ code: 'too_big' })]);
    expect(row!.value_base64).toBe(big);
  });

  it('writes the Kafka timestamp as toISOString would, for any instant of the years 0000-9999', () => {
    // Prepare / Act / Assess
    fc.assert(
      fc.property(
        fc.array(
          fc.integer({
            min: Date.parse('0000-01-01T00:00:00Z'),
            max: Date.parse('9999-12-31T23:59:59.999Z'),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        (stamps) => {
          const records = stamps.map((timestamp, offset) => ({
            topic: 't',
            partition: 0,
            offset,
            timestamp,
            timestampType: 'CREATE_TIME' as const,
          }));
          const plan = planBatch({ eventSource: 'aws:kafka', records: { 't-0': records } });
          const rows = plan.objects.flatMap((o) => lines(o.body)) as unknown as QuarantineRecord[];
          expect(rows.map((r) => r.kafka_timestamp).sort()).toEqual(
            stamps.map((t) => new Date(t).toISOString()).sort(),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('quarantines event times outside the plausible range with the setting that refuses them', () => {
    // Prepare: records produced at one instant, stamped at the edges of the range and beyond.
    const produced = Date.parse('2026-11-23T11:00:00.000Z');
    const stamps = [
      '2008-10-06T23:59:59.999Z', // before the earliest accepted
      '2008-10-07T00:00:00.000Z', // the earliest accepted
      '2026-11-23T12:00:00.000Z', // exactly 60 minutes ahead of the Kafka timestamp: accepted
      '2026-11-23T12:00:00.001Z', // beyond it
      '9999-12-31T23:59:59.000Z', // a placeholder date
    ];
    const event = mskBatch(stamps, { produced, topic: 't' });

    // Act
    const plan = planBatch(event);
    const narrower = planBatch(event, { eventTimeEarliest: '2026-01-01T00:00:00Z', maxEventAheadMinutes: 0 });

    // Assess
    expect(plan).toMatchObject({ recordsIn: 5, landed: 2, quarantined: 3 });
    const rejected = plan.objects
      .filter((o) => o.kind === 'quarantine')
      .flatMap((o) => lines(o.body)) as unknown as QuarantineRecord[];
    expect(rejected.map((r) => [r.offset, r.problems.map((p) => `${p.path}:${p.code}`)])).toEqual([
      [0, ['timestamp:too_early']],
      [3, ['timestamp:too_far_ahead']],
      [4, ['timestamp:too_far_ahead']],
    ]);
    expect(rejected[0]!.problems[0]!.message).toMatch(/before 2008-10-07T00:00:00.000Z.*EVENT_TIME_EARLIEST/);
    expect(rejected[1]!.problems[0]!.message).toMatch(
      /60 minutes after.*at most 60.*EVENT_TIME_MAX_AHEAD_MINUTES/,
    );
    expect(narrower).toMatchObject({ landed: 0, quarantined: 5 });
  });

  it('plans nothing for an empty batch', () => {
    // Act
    const plan = planBatch({ eventSource: 'aws:kafka', records: {} });

    // Assess
    expect(plan).toEqual({ recordsIn: 0, landed: 0, quarantined: 0, objects: [] });
  });
});

describe('landBatch against the local S3 server', () => {
  it('writes the objects with a records count, and re-delivery rewrites the same bytes', async () => {
    // Prepare
    const event = await fixture('msk-event.json');
    const options = { bronzePrefix: 'run1/bronze/', quarantinePrefix: 'run1/quarantine/' };

    // Act
    const first = await landBatch(s3, BUCKET, event, options);
    const keys = (await listAllObjects(s3, BUCKET, 'run1/')).map((o) => o.key);
    const before = await Promise.all(keys.map((k) => getObjectBytes(s3, BUCKET, k)));
    const again = await landBatch(s3, BUCKET, event, options);
    const after = await Promise.all(keys.map((k) => getObjectBytes(s3, BUCKET, k)));

    // Assess
    expect(first).toMatchObject({ recordsIn: 8, landed: 8, objectsWritten: 4 });
    expect(again.bytesWritten).toBe(first.bytesWritten);
    expect(keys).toEqual(first.objects.map((o) => o.key).sort());
    after.forEach((bytes, i) => expect(Buffer.from(bytes).equals(Buffer.from(before[i]!))).toBe(true));
    for (const o of first.objects) {
      expect(await headObjectMetadata(s3, BUCKET, o.key)).toMatchObject({ records: String(o.records) });
      expect(lines(await getObjectBytes(s3, BUCKET, o.key))).toHaveLength(o.records);
    }
  });

  it('lands a self-managed Kafka event the same way', async () => {
    // Prepare
    const event = await fixture('msk-event-self-managed.json');

    // Act
    const result = await landBatch(s3, BUCKET, event, {
      bronzePrefix: 'sm/bronze/',
      quarantinePrefix: 'sm/q/',
    });

    // Assess
    expect(result).toMatchObject({ recordsIn: 2, landed: 2, quarantined: 0, objectsWritten: 1 });
    expect((await listAllObjects(s3, BUCKET, 'sm/')).map((o) => o.key)).toEqual([
      'sm/bronze/date=2026-11-23/hour=11/spotify-events-2-0-1.ndjson.gz',
    ]);
  });

  it('writes an arrival marker after each object whose events are not of the hour it lands in', async () => {
    // Prepare: events of 09:00 to 11:00 landing during 11:xx, and the same batch landing days later.
    const event = await fixture('msk-event.json');
    const options = { bronzePrefix: 'bronze/', quarantinePrefix: 'run3/quarantine/' };
    const hours = [...new Set(planBatch(event).objects.map((o) => o.key.split('/').slice(1, 3).join('/')))];
    expect(hours).toContain('date=2026-11-23/hour=11');
    expect(hours.length).toBeGreaterThan(1);

    // Act
    const onTime = await landBatch(s3, BUCKET, event, options, () => Date.parse('2026-11-23T11:30:00Z'));
    const late = await landBatch(s3, BUCKET, event, options, () => Date.parse('2026-11-26T08:15:00Z'));
    const markers = [
      ...(await listAllObjects(s3, BUCKET, 'arrivals/date=2026-11-23/')),
      ...(await listAllObjects(s3, BUCKET, 'arrivals/date=2026-11-26/')),
    ].map((o) => o.key);

    // Assess: on time, only the objects of earlier hours are marked, under 11:00; days late, every one is.
    const bronze = onTime.objects.filter((o) => o.kind === 'bronze').map((o) => o.key);
    const earlier = bronze.filter((k) => !k.includes('hour=11/'));
    expect(earlier.length).toBeGreaterThan(0);
    expect(onTime.markersWritten).toBe(earlier.length);
    expect(late.markersWritten).toBe(bronze.length);
    expect(markers.sort()).toEqual(
      [
        ...earlier.map((k) => `arrivals/date=2026-11-23/hour=11/${k}`),
        ...bronze.map((k) => `arrivals/date=2026-11-26/hour=08/${k}`),
      ].sort(),
    );
    for (const m of markers) expect(bronzeKeyOfArrival(m)).toMatch(/^bronze\/date=2026-11-23\/hour=\d\d\//);
  });

  it('writes no marker when an object cannot be written', async () => {
    // Prepare
    const event = await fixture('msk-event.json');
    const before = (await listAllObjects(s3, BUCKET, 'arrivals/')).length;
    let writes = 0;
    const failing = {
      send: async (command: { input: { Key: string } }) => {
        writes++;
        if (command.input.Key.includes('hour=11/')) throw new Error('disk full');
        return s3.send(command as never);
      },
    } as unknown as S3Client;

    // Act
    const attempt = landBatch(failing, BUCKET, event, {}, () => Date.parse('2026-11-30T00:00:00Z'));

    // Assess
    await expect(attempt).rejects.toThrow(/objects could not be written.*disk full/);
    expect(writes).toBe(4);
    expect((await listAllObjects(s3, BUCKET, 'arrivals/')).length).toBe(before);
  });

  it('fails the whole call when a write fails, so the mapping retries the batch', async () => {
    // Prepare
    const event = await fixture('msk-event.json');

    // Act
    const attempt = landBatch(s3, 'no-such-bucket', event);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(TransientError);
    await expect(attempt).rejects.toThrow(/4 of 4 objects could not be written/);
  });
});

describe('consumer handler', () => {
  const quiet = () => ({
    logger: new Logger({ serviceName: 'consumer', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Test', serviceName: 'consumer', singleMetric: false }),
  });

  it('names BUCKET_NAME when it is missing, and rejects a bad prefix', () => {
    // Act / Assess
    expect(() => consumerConfigFromEnv({})).toThrow(ConfigError);
    expect(() => consumerConfigFromEnv({})).toThrow(/BUCKET_NAME/);
    expect(() => consumerConfigFromEnv({ BUCKET_NAME: 'b', BRONZE_PREFIX: '/abs' })).toThrow(/BRONZE_PREFIX/);
    expect(consumerConfigFromEnv({ BUCKET_NAME: 'b' })).toEqual({
      bucket: 'b',
      bronzePrefix: 'bronze/',
      quarantinePrefix: 'quarantine/',
      gzipLevel: 1,
      eventTimeEarliest: '2008-10-07T00:00:00.000Z',
      maxEventAheadMinutes: 60,
    });
    expect(() => consumerConfigFromEnv({ BUCKET_NAME: 'b', EVENT_TIME_EARLIEST: '2008-10-07' })).toThrow(
      /EVENT_TIME_EARLIEST.*ISO-8601 instant with a zone/,
    );
  });

  it('fails an invocation with a ConfigError, not at import, when BUCKET_NAME is missing', async () => {
    // Prepare
    const handler = createConsumerHandler({ s3, config: () => consumerConfigFromEnv({}), ...quiet() });

    // Act / Assess
    await expect(handler({ eventSource: 'aws:kafka', records: {} })).rejects.toBeInstanceOf(ConfigError);
  });

  it('lands a batch and reports what it did; an S3 failure makes the invocation fail', async () => {
    // Prepare
    const event = await fixture('msk-event-bad.json');
    const ok = createConsumerHandler({
      s3,
      config: () =>
        consumerConfigFromEnv({ BUCKET_NAME: BUCKET, BRONZE_PREFIX: 'h/b/', QUARANTINE_PREFIX: 'h/q/' }),
      ...quiet(),
    });
    const broken = createConsumerHandler({
      s3,
      config: () => consumerConfigFromEnv({ BUCKET_NAME: 'missing' }),
      ...quiet(),
    });

    // Act
    const summary = await ok(event);

    // Assess
    expect(summary).toMatchObject({ recordsIn: 9, landed: 2, quarantined: 7, objectsWritten: 2 });
    expect((await listAllObjects(s3, BUCKET, 'h/')).length).toBe(2);
    await expect(broken(event)).rejects.toBeInstanceOf(TransientError);
  });
});
