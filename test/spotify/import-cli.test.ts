/** `mds local up --source` and the summary header of a run on a streaming-history export. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lambdas/core/errors.ts';
import { historySource } from '../../bin/commands/local/up.ts';
import { historyWindows } from '../../localstack/pipeline/history.ts';

describe('mds local up --source', () => {
  it("takes 'simulator' or 'history:PATH', and names both otherwise", () => {
    expect(historySource('simulator')).toBeUndefined();
    expect(historySource('history:my_spotify_data.zip')).toEqual(['my_spotify_data.zip']);
    for (const bad of ['history:', 'spotify', 'HISTORY:x']) {
      expect(() => historySource(bad)).toThrow(UsageError);
      expect(() => historySource(bad)).toThrow(/expected 'simulator' or 'history:PATH'/);
    }
  });
});

describe('historyWindows', () => {
  const h = (iso: string) => new Date(iso).toISOString();
  it('covers the hours with events in windows of at most maxWindowDays, skipping the gaps between windows', () => {
    const hours = [
      h('2020-01-01T10:00Z'),
      h('2020-01-01T12:00Z'),
      h('2020-01-02T11:00Z'),
      h('2020-01-20T00:00Z'),
    ];
    expect(historyWindows(hours, 1)).toEqual([
      { start: h('2020-01-01T10:00Z'), end: h('2020-01-01T13:00Z') },
      { start: h('2020-01-02T11:00Z'), end: h('2020-01-02T12:00Z') },
      { start: h('2020-01-20T00:00Z'), end: h('2020-01-20T01:00Z') },
    ]);
    expect(historyWindows(hours, 31)).toEqual([
      { start: h('2020-01-01T10:00Z'), end: h('2020-01-20T01:00Z') },
    ]);
    // A window of exactly maxWindowDays is allowed; one hour more starts the next.
    const day = Array.from({ length: 25 }, (_, i) =>
      new Date(Date.UTC(2021, 0, 1) + i * 3_600_000).toISOString(),
    );
    expect(historyWindows(day, 1).map((w) => [w.start, w.end])).toEqual([
      [h('2021-01-01T00:00Z'), h('2021-01-02T00:00Z')],
      [h('2021-01-02T00:00Z'), h('2021-01-02T01:00Z')],
    ]);
    expect(historyWindows([], 31)).toEqual([]);
  });
});
