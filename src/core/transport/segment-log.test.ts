import { describe, expect, it } from 'vitest';
import { SegmentLog } from './segment-log.ts';

describe('SegmentLog', () => {
  it('returns the entries after a sequence number, oldest first', () => {
    let t = 1000;
    const log = new SegmentLog(8, () => t++);
    log.record('bob', 'sent', 7, 0, 2, 100);
    log.record('bob', 'sent', 7, 1, 2, 50);
    log.record('bob', 'acked', 7, 0, 2, 100);
    expect(log.since(0).map((e) => [e.seq, e.event, e.index, e.at])).toEqual([
      [1, 'sent', 0, 1000],
      [2, 'sent', 1, 1001],
      [3, 'acked', 0, 1002],
    ]);
    expect(log.since(2).map((e) => e.seq)).toEqual([3]);
    expect(log.since(3)).toEqual([]);
    expect(log.last).toBe(3);
  });

  it('keeps only the newest entries once full, without losing order', () => {
    const log = new SegmentLog(4);
    for (let i = 0; i < 10; i++) log.record('bob', 'sent', 1, i, 10, 64);
    expect(log.since(0).map((e) => e.index)).toEqual([6, 7, 8, 9]);
    expect(log.since(8).map((e) => e.index)).toEqual([8, 9]);
  });

  it('filters by peer', () => {
    const log = new SegmentLog(16);
    log.record('bob', 'sent', 1, 0, 1, 10);
    log.record('carol', 'received', 2, 0, 1, 10);
    log.record('bob', 'lost', 1, 0, 1, 10);
    expect(log.since(0, 'bob').map((e) => e.event)).toEqual(['sent', 'lost']);
    expect(log.since(0, 'carol').map((e) => e.event)).toEqual(['received']);
  });

  it("clears one peer's entries or everyone's, and keeps what comes after", () => {
    const log = new SegmentLog(16);
    log.record('bob', 'sent', 1, 0, 1, 10);
    log.record('carol', 'sent', 2, 0, 1, 10);
    log.clear('bob');
    log.record('bob', 'acked', 1, 0, 1, 10);
    expect(log.since(0).map((e) => [e.peer, e.event])).toEqual([
      ['carol', 'sent'],
      ['bob', 'acked'],
    ]);
    log.clear();
    expect(log.since(0)).toEqual([]);
    log.record('carol', 'acked', 2, 0, 1, 10);
    expect(log.since(0, 'carol').map((e) => e.event)).toEqual(['acked']);
    expect(log.last).toBe(4);
  });

  it('refuses a capacity below one', () => {
    expect(() => new SegmentLog(0)).toThrow(RangeError);
  });
});
