import { describe, expect, it } from 'vitest';
import { EVENT_ID_NAMESPACE, naturalEventId, uuidV5 } from '../../lambdas/core/event-id.ts';
import { validateEvent } from '../../lambdas/core/contract.ts';

describe('naturalEventId', () => {
  it('is the RFC 9562 version-5 UUID of the namespace and the joined key', () => {
    // RFC 9562 appendix A.4: the DNS namespace and the name "www.example.com".
    const dns = Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex');
    expect(uuidV5(dns, 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    const ns = Buffer.from(EVENT_ID_NAMESPACE.replaceAll('-', ''), 'hex');
    expect(naturalEventId('a', 'b')).toBe(uuidV5(ns, 'a\u001fb'));
    const id = naturalEventId('spotify_api', 'alice', '2026-11-30T10:00:00.000Z', '4uLU6hMCjMI75M1A2tKUQC');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(EVENT_ID_NAMESPACE).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives the same id for the same key and different ids for different keys', () => {
    const a = naturalEventId('spotify_history', 'u', '2020-01-01T00:00:00Z', 't');
    expect(naturalEventId('spotify_history', 'u', '2020-01-01T00:00:00Z', 't')).toBe(a);
    expect(naturalEventId('spotify_history', 'u', '2020-01-01T00:00:01Z', 't')).not.toBe(a);
    // Joining must not confuse part boundaries.
    expect(naturalEventId('ab', 'c')).not.toBe(naturalEventId('a', 'bc'));
  });

  it('is a UUID the contract accepts', () => {
    const id = naturalEventId('x', 'y');
    const v = validateEvent({
      event_id: id,
      user_id: 'u',
      song_id: 's',
      artist_name: 'a',
      song_name: 'n',
      event_type: 'play',
      device_type: 'web',
      country: 'US',
      timestamp: '2026-01-01T00:00:00Z',
      duration_ms: 1,
      schema_version: 1,
    });
    expect(v.ok).toBe(true);
  });

  it('refuses empty parts and parts holding the separator', () => {
    expect(() => naturalEventId()).toThrow(RangeError);
    expect(() => naturalEventId('a', '')).toThrow(/empty/);
    expect(() => naturalEventId('a\u001fb')).toThrow(/U\+001F/);
  });
});
