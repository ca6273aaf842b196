import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../shared/random.ts';
import { LOGICAL_PER_MS, MessageClock, sentAtOf } from './message-clock.ts';
import { checkSegmentSize, segmentBounds, segmentCount } from './segments.ts';

describe('segments', () => {
  it('cover a message exactly, in order, with only the last one short', () => {
    for (const [length, size] of [
      [0, 64],
      [1, 64],
      [64, 64],
      [65, 64],
      [1000, 100],
      [100_000, 16_384],
    ] as const) {
      const n = segmentCount(length, size);
      let expected = 0;
      for (let i = 0; i < n; i++) {
        const [start, end] = segmentBounds(i, length, size);
        expect(start).toBe(expected);
        expect(end - start).toBe(i < n - 1 ? size : length - (n - 1) * size);
        expected = end;
      }
      expect(expected).toBe(length);
    }
  });

  it('accepts sizes from 64 B to 64 KiB only', () => {
    expect(() => checkSegmentSize(64)).not.toThrow();
    expect(() => checkSegmentSize(65_536)).not.toThrow();
    for (const bad of [63, 65_537, 100.5, Number.NaN])
      expect(() => checkSegmentSize(bad)).toThrow(RangeError);
  });
});

describe('MessageClock', () => {
  it('derives ids from the send time and keeps them unique within a millisecond', () => {
    const c = new MessageClock();
    const a = c.next(1_000);
    const b = c.next(1_000);
    expect(a).toBe(1_000 * LOGICAL_PER_MS);
    expect(b).toBe(a + 1);
    expect(sentAtOf(b)).toBe(1_000);
  });

  it('never goes backwards when the wall clock does', () => {
    const c = new MessageClock();
    const a = c.next(5_000);
    expect(c.next(4_000)).toBeGreaterThan(a);
  });

  it('orders a reply after the message it answers, even from a machine whose clock is behind', () => {
    const fast = new MessageClock();
    const slow = new MessageClock();
    const rand = seededRandom(1);
    let now = 1_000_000;
    for (let i = 0; i < 1000; i++) {
      now += Math.floor(rand() * 5);
      const question = fast.next(now + 60_000); // this machine's clock is a minute ahead
      slow.observe(question);
      const reply = slow.next(now);
      expect(reply).toBeGreaterThan(question);
      fast.observe(reply);
    }
  });

  it('resumes from a persisted value without reusing ids', () => {
    const c = new MessageClock();
    const last = c.next(9_000);
    expect(new MessageClock(c.current).next(8_000)).toBeGreaterThan(last);
  });
});
