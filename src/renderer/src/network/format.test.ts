import { describe, expect, it } from 'vitest';
import { formatAxis, formatClock, formatCount, formatPercent, formatValue } from './format.ts';

describe('network view formatting', () => {
  it('groups the digits of counters per language', () => {
    expect(formatCount('en', 1234567)).toBe('1,234,567');
    expect(formatCount('ru', 1234567).replace(/\s/g, ' ')).toBe('1 234 567');
  });

  it('keeps one decimal only for small values', () => {
    expect(formatValue('en', 2.345)).toBe('2.3');
    expect(formatValue('en', 123.6)).toBe('124');
    expect(formatValue('en', 0)).toBe('0');
  });

  it('shortens axis labels', () => {
    expect(formatAxis('en', 1500)).toBe('1.5k');
    expect(formatAxis('ru', 2500)).toBe('2,5k');
    expect(formatAxis('en', 100_000)).toBe('100k');
    expect(formatAxis('en', 2_000_000)).toBe('2M');
    expect(formatAxis('en', 0.5)).toBe('0.5');
    expect(formatAxis('en', 20)).toBe('20');
  });

  it('shows fractions as percentages', () => {
    expect(formatPercent('en', 0.0125)).toBe('1.25%');
    expect(formatPercent('en', 0)).toBe('0%');
  });

  it('shows local time to the millisecond', () => {
    const at = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();
    expect(formatClock(at)).toBe('03:04:05.006');
  });
});
