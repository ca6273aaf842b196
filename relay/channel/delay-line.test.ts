import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../../src/shared/random.ts';
import { DelayLine } from './delay-line.ts';

let out: string[];
let line: DelayLine<string>;

beforeEach(() => {
  vi.useFakeTimers();
  out = [];
  line = new DelayLine<string>(
    (item) => out.push(item),
    () => Date.now(),
  );
});

afterEach(() => {
  vi.useRealTimers();
});

describe('DelayLine', () => {
  it('delivers each item when it is due, not before', () => {
    line.schedule('a', 30, 1);
    line.schedule('b', 10, 1);
    line.schedule('c', 20, 1);
    expect(out).toEqual([]);
    vi.advanceTimersByTime(9);
    expect(out).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(out).toEqual(['b']);
    vi.advanceTimersByTime(9);
    expect(out).toEqual(['b']);
    vi.advanceTimersByTime(1);
    expect(out).toEqual(['b', 'c']);
    vi.advanceTimersByTime(10);
    expect(out).toEqual(['b', 'c', 'a']);
  });

  it('never delivers synchronously, even with no delay', () => {
    line.schedule('now', 0, 1);
    expect(out).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(out).toEqual(['now']);
  });

  it('keeps arrival order among items with equal delays', () => {
    const items = Array.from({ length: 50 }, (_, i) => `item${i}`);
    for (const item of items) line.schedule(item, 25, 1);
    vi.advanceTimersByTime(25);
    expect(out).toEqual(items);
  });

  it('orders many items by due time, then by arrival', () => {
    const random = seededRandom(42);
    const scheduled: { item: string; delay: number; seq: number }[] = [];
    for (let seq = 0; seq < 300; seq++) {
      // Few distinct delays, so there are many ties; all 2 ms apart.
      const delay = 2 * Math.floor(random() * 10);
      const item = `${delay}/${seq}`;
      scheduled.push({ item, delay, seq });
      line.schedule(item, delay, 1);
    }
    vi.advanceTimersByTime(100);
    const expected = [...scheduled]
      .sort((a, b) => a.delay - b.delay || a.seq - b.seq)
      .map((s) => s.item);
    expect(out).toEqual(expected);
  });

  it('an item scheduled later but due sooner overtakes', () => {
    line.schedule('slow', 100, 1);
    vi.advanceTimersByTime(40);
    line.schedule('fast', 10, 1); // due at 50
    vi.advanceTimersByTime(10);
    expect(out).toEqual(['fast']);
    vi.advanceTimersByTime(49);
    expect(out).toEqual(['fast']);
    vi.advanceTimersByTime(1);
    expect(out).toEqual(['fast', 'slow']);
  });

  it('a later item does not hold back an earlier one', () => {
    line.schedule('early', 10, 1);
    line.schedule('late', 1000, 1);
    vi.advanceTimersByTime(10);
    expect(out).toEqual(['early']);
  });

  it('uses one timer however many items it holds', () => {
    for (let i = 0; i < 100; i++) line.schedule(`x${i}`, 100 - i, 1);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(out).toHaveLength(100);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('accepts items from inside a delivery', () => {
    const chained = new DelayLine<string>(
      (item) => {
        out.push(item);
        if (item === 'first') chained.schedule('second', 5, 1);
      },
      () => Date.now(),
    );
    chained.schedule('first', 5, 1);
    vi.advanceTimersByTime(5);
    expect(out).toEqual(['first']);
    vi.advanceTimersByTime(5);
    expect(out).toEqual(['first', 'second']);
    expect(chained.size).toBe(0);
  });

  it('counts the items and bytes it holds', () => {
    expect(line.size).toBe(0);
    expect(line.bytes).toBe(0);
    line.schedule('a', 10, 100);
    line.schedule('b', 20, 250);
    line.schedule('c', 30, 7);
    expect(line.size).toBe(3);
    expect(line.bytes).toBe(357);
    vi.advanceTimersByTime(10);
    expect(line.size).toBe(2);
    expect(line.bytes).toBe(257);
    vi.advanceTimersByTime(20);
    expect(line.size).toBe(0);
    expect(line.bytes).toBe(0);
  });

  it('drain() returns everything held, in due order, and cancels the timer', () => {
    line.schedule('c', 300, 3);
    line.schedule('a', 100, 1);
    line.schedule('b1', 200, 2);
    line.schedule('b2', 200, 2);
    vi.advanceTimersByTime(50);
    expect(line.drain()).toEqual(['a', 'b1', 'b2', 'c']);
    expect(line.size).toBe(0);
    expect(line.bytes).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(out).toEqual([]);
  });

  it('drain() of an empty line returns nothing', () => {
    expect(line.drain()).toEqual([]);
  });

  it('works again after a drain', () => {
    line.schedule('old', 100, 1);
    line.drain();
    line.schedule('new', 10, 1);
    vi.advanceTimersByTime(10);
    expect(out).toEqual(['new']);
    expect(line.bytes).toBe(0);
  });

  describe('with a clock of its own', () => {
    let t: number;
    let clocked: DelayLine<string>;
    beforeEach(() => {
      t = 1000;
      clocked = new DelayLine<string>(
        (item) => out.push(item),
        () => t,
      );
    });

    it('waits again if its timer fires before the clock says an item is due', () => {
      clocked.schedule('x', 50, 1); // due at t = 1050
      t = 1020;
      vi.advanceTimersByTime(50); // the timer fires, but by the clock x is 30 ms early
      expect(out).toEqual([]);
      expect(clocked.size).toBe(1);
      t = 1050;
      vi.advanceTimersByTime(30);
      expect(out).toEqual(['x']);
    });

    it('treats an item due within a millisecond as due', () => {
      clocked.schedule('x', 50, 1);
      t = 1049;
      vi.advanceTimersByTime(50);
      expect(out).toEqual(['x']);
    });
  });
});
