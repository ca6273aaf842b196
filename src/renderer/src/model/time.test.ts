import { describe, expect, it } from 'vitest';
import { describeLastSeen, formatClock } from './time.ts';

const at = (d: number, h: number, mi = 0) => new Date(2025, 2, d, h, mi).getTime();

describe('describeLastSeen', () => {
  const now = at(10, 15, 30);

  it('steps from just now to minutes, hours, yesterday and a date', () => {
    expect(describeLastSeen(null, now)).toEqual({ kind: 'unknown' });
    expect(describeLastSeen(now - 30_000, now)).toEqual({ kind: 'justNow' });
    expect(describeLastSeen(now - 5 * 60_000, now)).toEqual({ kind: 'minutes', n: 5 });
    expect(describeLastSeen(at(10, 12, 0), now)).toEqual({ kind: 'hours', n: 3 });
    expect(describeLastSeen(at(9, 23, 0), now)).toEqual({ kind: 'yesterday', at: at(9, 23, 0) });
    expect(describeLastSeen(at(3, 8, 0), now)).toEqual({ kind: 'date', at: at(3, 8, 0) });
  });

  it('treats a time slightly in the future (clock skew) as just now', () => {
    expect(describeLastSeen(now + 5000, now)).toEqual({ kind: 'justNow' });
  });
});

describe('formatClock', () => {
  it('is HH:MM in 24 hours', () => {
    expect(formatClock(at(1, 9, 5))).toBe('09:05');
    expect(formatClock(at(1, 23, 59))).toBe('23:59');
  });
});
