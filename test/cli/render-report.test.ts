/** What `mds local up` prints for its reconciliation: a failed check says what differs, a skipped one why. */
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../bin/commands/local/render-report.ts';
import type { LocalCheck, PipelineReport } from '../../localstack/pipeline/up.ts';

function report(checks: LocalCheck[]): PipelineReport {
  return {
    window: { start: '2026-11-23T06:00:00.000Z', end: '2026-11-23T12:00:00.000Z' },
    seed: 42,
    events: {
      produced: 3,
      valid: 3,
      distinct: 3,
      duplicates: 0,
      late: 0,
      invalid: 0,
      landed: 3,
      quarantined: 0,
    },
    bronze: { records: 3, objects: 1 },
    quarantine: { records: 0, objects: 0 },
    warehouse: { bronze_rows: 3 },
    silver: { rows: 3 },
    gold: {},
    runs: [],
    reconciliation: { ok: checks.every((c) => c.ok), checks },
    offsets: [],
    top: { tracks: [], artists: [] },
    stages: {},
    functions: [],
    mapping: {} as PipelineReport['mapping'],
    assembly: { dir: 'a', env: 'dev' },
    data: { dir: 'd', warehouse: 'w', runs: 'r' },
  };
}

describe('the local up summary', () => {
  it('prints a passed check with its counts, a failed one with what differs, a skipped one with why', () => {
    const text = renderReport(
      report([
        { name: 'produced = landed + quarantined', expected: 20_000, actual: 20_000, ok: true },
        {
          name: 'bronze rows = object records, per object',
          expected: 300,
          actual: 300,
          ok: false,
          detail: '2 of 18 objects differ: a (100 records, 99 rows); b (100 records, 101 rows)',
        },
        {
          name: 'distinct valid events simulated = silver rows in the window',
          expected: 10,
          actual: 12,
          ok: true,
          skipped:
            "the window holds 3 Bronze objects with records produced before this run (an earlier run's)",
        },
      ]),
    );
    const lines = text.split('\n');
    const at = lines.indexOf('reconciliation: MISMATCH');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 5)).toEqual([
      '  ✔ produced = landed + quarantined: 20,000 vs 20,000',
      '  ✖ bronze rows = object records, per object: 300 vs 300',
      '      2 of 18 objects differ: a (100 records, 99 rows); b (100 records, 101 rows)',
      "  – distinct valid events simulated = silver rows in the window: skipped: the window holds 3 Bronze objects with records produced before this run (an earlier run's)",
    ]);
  });
});
