import { describe, expect, it } from 'vitest';
import { buildRows, dayLabel, nextDayStart, RUN_GAP_MS, startOfDay, updateRows } from './rows.ts';
import { message } from './testing.ts';

const at = (y: number, mo: number, d: number, h = 12, mi = 0) =>
  new Date(y, mo - 1, d, h, mi).getTime();

describe('buildRows', () => {
  it('puts a day separator on the first message of each local day', () => {
    const msgs = [
      message({ id: 1, sentAt: at(2025, 3, 1, 9) }),
      message({ id: 2, sentAt: at(2025, 3, 1, 23, 59) }),
      message({ id: 3, sentAt: at(2025, 3, 2, 0, 1) }),
      message({ id: 4, sentAt: at(2025, 3, 5, 8) }),
    ];
    const rows = buildRows(msgs);
    expect(rows.map((r) => r.dayStart)).toEqual([
      at(2025, 3, 1, 0),
      null,
      at(2025, 3, 2, 0),
      at(2025, 3, 5, 0),
    ]);
    expect(rows.map((r) => r.key)).toEqual(msgs.map((m) => m.key));
  });

  it('keeps a message from a skewed clock under the current day', () => {
    const rows = buildRows([
      message({ id: 1, sentAt: at(2025, 3, 2, 0, 5) }),
      message({ id: 2, sentAt: at(2025, 3, 1, 23, 58) }),
    ]);
    expect(rows.filter((r) => r.dayStart !== null)).toHaveLength(1);
  });

  it('starts a new run on a change of side or a long pause', () => {
    const t0 = at(2025, 3, 1, 10);
    const rows = buildRows([
      message({ id: 1, sentAt: t0 }),
      message({ id: 2, sentAt: t0 + 1000 }),
      message({ id: 3, sentAt: t0 + 2000, direction: 'in' }),
      message({ id: 4, sentAt: t0 + 2000 + RUN_GAP_MS + 1, direction: 'in' }),
    ]);
    expect(rows.map((r) => r.runStart)).toEqual([true, false, true, true]);
  });

  it('handles 100,000 messages quickly', () => {
    const t0 = at(2025, 1, 1);
    const msgs = Array.from({ length: 100_000 }, (_, i) =>
      message({ id: i + 1, sentAt: t0 + i * 60_000 }),
    );
    const started = performance.now();
    const rows = buildRows(msgs);
    expect(performance.now() - started).toBeLessThan(500);
    // 100,000 minutes span 70 days (69.4 rounded up).
    expect(rows.filter((r) => r.dayStart !== null)).toHaveLength(70);
  });
});

describe('days', () => {
  it('finds local midnights, including across a daylight-saving change', () => {
    expect(startOfDay(at(2025, 3, 30, 15))).toBe(at(2025, 3, 30, 0));
    expect(nextDayStart(at(2025, 3, 30, 0))).toBe(at(2025, 3, 31, 0));
    expect(nextDayStart(at(2025, 10, 26, 0))).toBe(at(2025, 10, 27, 0));
  });

  it('labels today, yesterday, and other days by date', () => {
    const now = at(2025, 3, 10, 15);
    expect(dayLabel(at(2025, 3, 10, 0), now)).toEqual({ kind: 'today' });
    expect(dayLabel(at(2025, 3, 9, 0), now)).toEqual({ kind: 'yesterday' });
    expect(dayLabel(at(2025, 3, 8, 0), now)).toEqual({ kind: 'date', at: at(2025, 3, 8, 0) });
  });
});

describe('updateRows', () => {
  const t0 = at(2025, 3, 1, 23, 50);
  const list = Array.from({ length: 20 }, (_, i) =>
    message({ id: i + 1, sentAt: t0 + i * 60_000 }),
  );

  it('gives the same rows as building from scratch, for appends, updates and prepends', () => {
    const rows = buildRows(list);
    const appended = [...list, message({ id: 100, sentAt: t0 + 3 * 3600_000, direction: 'in' })];
    expect(updateRows(rows, appended)).toEqual(buildRows(appended));
    const updated = list.map((m, i) => (i === 12 ? { ...m, status: 'read' as const } : m));
    expect(updateRows(rows, updated)).toEqual(buildRows(updated));
    const prepended = [message({ id: 0, sentAt: t0 - 86_400_000 }), ...list];
    expect(updateRows(rows, prepended)).toEqual(buildRows(prepended));
    const shorter = list.slice(0, 5);
    expect(updateRows(rows, shorter)).toEqual(buildRows(shorter));
  });

  it('keeps the unchanged rows and returns the same array when nothing changed', () => {
    const rows = buildRows(list);
    expect(updateRows(rows, list)).toBe(rows);
    const appended = updateRows(rows, [...list, message({ id: 100, sentAt: t0 + 3600_000 })]);
    expect(appended[19]).toBe(rows[19]);
  });

  it('adds a message to 100,000 rows in a few milliseconds', () => {
    const big = Array.from({ length: 100_000 }, (_, i) =>
      message({ id: i + 1, sentAt: t0 + i * 60_000 }),
    );
    const rows = buildRows(big);
    const started = performance.now();
    const next = updateRows(rows, [...big, message({ id: 200_000, sentAt: t0 + 1e10 })]);
    expect(performance.now() - started).toBeLessThan(50);
    expect(next).toHaveLength(100_001);
  });
});
