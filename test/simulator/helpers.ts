import { validateEvent, type ListeningEventV1 as ListeningEvent } from '../../lambdas/core/contract.ts';
import type { SimulatedRecord } from '../../lambdas/core/simulator/index.ts';

export const END = new Date('2026-11-23T12:00:00.000Z');
export const hoursBefore = (hours: number, end = END): Date => new Date(end.getTime() - hours * 3_600_000);

/** The parsed event of a record the simulator says is valid; throws if the contract disagrees. */
export function eventOf(record: SimulatedRecord): ListeningEvent {
  const result = validateEvent(JSON.parse(record.value));
  if (!result.ok) throw new Error(`valid record fails the contract: ${JSON.stringify(result.problems)}`);
  return result.event as ListeningEvent;
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
