import { describe, expect, it } from 'vitest';
import {
  formatCount,
  formatDate,
  formatDateTime,
  formatHourLabel,
  formatMinutes,
  formatPercent,
  formatSeconds,
} from '../../lambdas/core/charts/format.js';

describe('formatting for people', () => {
  it('separates thousands and marks missing numbers', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(0)).toBe('0');
    expect(formatCount(null)).toBe('–');
  });

  it('shows minutes below 100 hours as minutes, longer totals as hours with one decimal', () => {
    expect(formatMinutes(1234.4)).toBe('1,234 min');
    expect(formatMinutes(5999)).toBe('5,999 min');
    expect(formatMinutes(6000)).toBe('100.0 h');
    expect(formatMinutes(123_456)).toBe('2,057.6 h');
  });

  it('shows ratios as percentages with one decimal', () => {
    expect(formatPercent(0.1234)).toBe('12.3%');
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatPercent(null)).toBe('–');
  });

  it('labels dates and times as UTC whatever the local time zone', () => {
    expect(formatDate('2026-11-23')).toBe('23 Nov 2026');
    expect(formatDateTime('2026-11-23T23:05:00.000Z')).toBe('23 Nov 2026 23:05 UTC');
    expect(formatHourLabel('2026-11-23T07:00:00.000Z')).toBe('23 Nov 07:00');
  });

  it('reads durations in seconds or minutes', () => {
    expect(formatSeconds(0.42)).toBe('0.4 s');
    expect(formatSeconds(125)).toBe('2 min 5 s');
  });
});
