import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeObject, validateLines } from '../../lambdas/core/warehouse/bronze-lines.ts';

const line = JSON.stringify({
  event_id: 'e',
  timestamp: '2026-11-23T10:00:00.000Z',
  duration_ms: 5,
  _partition: 1,
});

describe('Bronze object decoding', () => {
  it('counts lines and tells regular NDJSON from text with empty lines', async () => {
    const decode = async (text: string) => {
      const d = await decodeObject(gzipSync(text));
      return d.ok ? { lines: d.lines, regular: d.regular } : d;
    };
    expect(await decode(`${line}\n${line}\n`)).toEqual({ lines: 2, regular: true });
    expect(await decode(`${line}\n${line}`)).toEqual({ lines: 2, regular: true });
    expect(await decode('')).toEqual({ lines: 0, regular: true });
    expect(await decode(`${line}\n\n${line}\n`)).toEqual({ lines: 3, regular: false });
    expect(await decode(`\n${line}\n`)).toEqual({ lines: 2, regular: false });
    expect(await decode(`${line}\n\n`)).toEqual({ lines: 2, regular: false });
  });

  it('reports a truncated gzip instead of loading part of it', async () => {
    const gz = gzipSync(`${line}\n`.repeat(100));
    expect(await decodeObject(gz.subarray(0, gz.length - 10))).toEqual({
      ok: false,
      error: expect.stringMatching(/truncated/),
    });
  });

  it('validates each line against the Bronze column types with 1-based line numbers', () => {
    // Prepare
    const text = [
      line,
      '{"event_id": ',
      JSON.stringify({ event_id: 7 }),
      JSON.stringify({ duration_ms: 1.5 }),
      JSON.stringify({ _kafka_timestamp: '23/11/2026' }),
      '[1]',
      '',
      line,
    ].join('\n');

    // Act
    const v = validateLines('bronze/k', Buffer.from(text));

    // Assess
    expect(v.valid.map((l) => l.line)).toEqual([1, 8]);
    expect(v.valid[0]?.values).toContain('2026-11-23T10:00:00.000Z');
    expect(v.badLines).toBe(6);
    expect(v.errors.map((e) => [e.line, e.message.split(':')[0]])).toEqual([
      [2, 'malformed JSON'],
      [3, 'event_id'],
      [4, 'duration_ms'],
      [5, '_kafka_timestamp'],
      [6, 'not a JSON object'],
      [7, 'malformed JSON'],
    ]);
  });
});
