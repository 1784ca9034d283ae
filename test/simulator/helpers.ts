import { validateEvent, type ListeningEventV2 } from '../../lambdas/core/contract.ts';
import type { SimulatedRecord } from '../../lambdas/core/simulator/index.ts';

export const END = new Date('2026-11-23T12:00:00.000Z');
export const hoursBefore = (hours: number, end = END): Date => new Date(end.getTime() - hours * 3_600_000);

/** The simulator knows everything a version-2 event can say: nothing of its events is unknown (null). */
type KnownFields = 'album_name' | 'track_length_ms' | 'device_type' | 'country' | 'duration_ms';
export type SimulatedEvent = Omit<ListeningEventV2, KnownFields> & {
  readonly [K in KnownFields]: NonNullable<ListeningEventV2[K]>;
};

/**
 * The parsed event of a record the simulator says is valid; throws if the contract disagrees, or if it is not
 * a version-2 event of source `simulator` with every field known.
 */
export function eventOf(record: SimulatedRecord): SimulatedEvent {
  const result = validateEvent(JSON.parse(record.value));
  if (!result.ok) throw new Error(`valid record fails the contract: ${JSON.stringify(result.problems)}`);
  const e = result.event;
  if (e.schema_version !== 2 || e.source !== 'simulator') {
    throw new Error(`not a version-2 simulator event: ${record.value}`);
  }
  const unknown = (
    ['album_name', 'track_length_ms', 'device_type', 'country', 'duration_ms'] as const
  ).filter((f) => e[f] === null);
  if (unknown.length > 0)
    throw new Error(`simulated event with unknown ${unknown.join(', ')}: ${record.value}`);
  return e as SimulatedEvent;
}

/**
 * Why an invalid record fails, in the simulator's terms, judged only through JSON.parse and validateEvent:
 * the reason a consumer would record in quarantine.
 */
export function failureReason(value: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return ['malformed_json'];
  }
  const result = validateEvent(parsed);
  if (result.ok) return [];
  return result.problems.map((p) => {
    if (p.code === 'invalid_type' && p.message.startsWith('Missing required field')) return 'missing_field';
    if (p.code === 'invalid_type') return 'wrong_type';
    if (p.code === 'invalid_value') return 'unknown_enum';
    if (p.code === 'too_big' && p.path !== 'duration_ms') return 'oversize';
    return `other:${p.code}`;
  });
}
