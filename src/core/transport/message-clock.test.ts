// Message ids as hybrid logical clock timestamps: unique, derived from the send time, causal,
// and bounded against peers whose clocks (or ids) run far ahead.
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../shared/protocol/index.ts';
import { seededRandom } from '../../shared/random.ts';
import { LOGICAL_PER_MS, MAX_CLOCK_OFFSET_MS, MessageClock, sentAtOf } from './message-clock.ts';

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
      // This machine's clock is ahead, by half the max offset.
      const question = fast.next(now + MAX_CLOCK_OFFSET_MS / 2);
      slow.observe(question, now);
      const reply = slow.next(now);
      expect(reply).toBeGreaterThan(question);
      fast.observe(reply, now + MAX_CLOCK_OFFSET_MS / 2);
    }
  });

  it('resumes from a persisted value without reusing ids', () => {
    const c = new MessageClock();
    const last = c.next(9_000);
    expect(new MessageClock(c.current).next(8_000)).toBeGreaterThan(last);
  });
});

describe('ids from a peer far ahead', () => {
  const YEAR_MS = 365 * 24 * 3600 * 1000;
  const now = Date.UTC(2026, 11, 3);

  it('move our clock by at most the max offset', () => {
    const c = new MessageClock();
    c.observe((now + 10 * YEAR_MS) * LOGICAL_PER_MS, now);
    const id = c.next(now);
    expect(sentAtOf(id)).toBeLessThanOrEqual(now + MAX_CLOCK_OFFSET_MS);
    expect(sentAtOf(id)).toBeGreaterThanOrEqual(now);
  });

  it('leave the next id encodable after one near 2^53', () => {
    const c = new MessageClock();
    c.observe(Number.MAX_SAFE_INTEGER - 1, now);
    c.observe(Number.MAX_SAFE_INTEGER, now);
    const id = c.next(now);
    expect(Number.isSafeInteger(id)).toBe(true);
    expect(sentAtOf(id) - now).toBeLessThanOrEqual(MAX_CLOCK_OFFSET_MS);
    const frame = {
      type: 'data' as const,
      from: 'alice',
      fromDevice: 1,
      to: 'bob',
      toDevice: 0,
      messageId: id,
      transmission: 0,
      segmentCount: 1,
      segmentIndex: 0,
      payload: new Uint8Array(1),
    };
    expect(() => encodeFrame(frame)).not.toThrow();
  });

  it('are still taken in full within the max offset, so replies sort after them', () => {
    const c = new MessageClock();
    const question = (now + MAX_CLOCK_OFFSET_MS - 1) * LOGICAL_PER_MS + 5;
    c.observe(question, now);
    expect(c.next(now)).toBeGreaterThan(question);
  });

  it('do not survive in a saved clock: a poisoned value is bounded on restore', () => {
    const c = MessageClock.restore(Number.MAX_SAFE_INTEGER, 0, now);
    expect(sentAtOf(c.next(now))).toBe(now + MAX_CLOCK_OFFSET_MS);
  });

  it('never reuse an id of ours on restore, wherever the saved clock was', () => {
    const ours = (now + 10) * LOGICAL_PER_MS + 3;
    expect(MessageClock.restore(0, ours, now).next(now)).toBe(ours + 1);
  });
});
