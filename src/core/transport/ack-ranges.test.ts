import { describe, expect, it } from 'vitest';
import { encodeFrame, decodeFrame } from '../../shared/protocol/index.ts';
import { seededRandom } from '../../shared/random.ts';
import { AckScheduler, MAX_ACK_DELAY_MS, ReceivedRanges } from './ack-ranges.ts';

describe('ReceivedRanges', () => {
  it('merges adjacent numbers into ranges, largest first', () => {
    const r = new ReceivedRanges();
    for (const n of [1, 2, 3, 7, 8, 5, 0]) expect(r.add(n)).toBe(true);
    expect(r.ranges()).toEqual([
      [7, 8],
      [5, 5],
      [0, 3],
    ]);
    expect(r.add(6)).toBe(true);
    expect(r.ranges()).toEqual([
      [5, 8],
      [0, 3],
    ]);
    expect(r.add(4)).toBe(true);
    expect(r.ranges()).toEqual([[0, 8]]);
  });

  it('reports duplicates', () => {
    const r = new ReceivedRanges();
    expect(r.add(10)).toBe(true);
    expect(r.add(10)).toBe(false);
    expect(r.has(10)).toBe(true);
    expect(r.has(9)).toBe(false);
  });

  it('agrees with a plain set under random arrival order, and encodes as a valid ack', () => {
    const rand = seededRandom(5);
    const r = new ReceivedRanges(10_000);
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const n = Math.floor(rand() * 3000);
      expect(r.add(n)).toBe(!seen.has(n));
      seen.add(n);
    }
    const fromRanges = new Set<number>();
    for (const [low, high] of r.ranges()) for (let n = low; n <= high; n++) fromRanges.add(n);
    expect(fromRanges).toEqual(seen);
  });

  it('keeps only the newest ranges, treating older numbers as received', () => {
    const r = new ReceivedRanges(4);
    for (let n = 0; n < 20; n += 2) r.add(n);
    expect(r.size).toBe(4);
    expect(r.ranges()[0]).toEqual([18, 18]);
    expect(r.has(1)).toBe(true);
    expect(r.add(3)).toBe(false);
  });

  it('produces ranges the wire format accepts', () => {
    const r = new ReceivedRanges();
    for (let n = 0; n < 1000; n += 3) r.add(n);
    const bytes = encodeFrame({
      type: 'ack',
      from: 'bob',
      fromDevice: 1,
      to: 'alice',
      toDevice: 2,
      ackDelayMicros: 0,
      ranges: r.ranges(),
    });
    const back = decodeFrame(bytes);
    expect(back.ok && back.frame.type === 'ack' && back.frame.ranges).toEqual(r.ranges());
  });
});

describe('AckScheduler', () => {
  it('acks every second packet in order, and sets a delayed-ack deadline for the first', () => {
    const s = new AckScheduler();
    expect(s.onReceived(0, 100)).toEqual({ fresh: true, ackNow: false });
    expect(s.ackDeadline()).toBe(100 + MAX_ACK_DELAY_MS);
    expect(s.onReceived(1, 105)).toEqual({ fresh: true, ackNow: true });
    const ack = s.takeAck(106)!;
    expect(ack.ranges).toEqual([[0, 1]]);
    expect(ack.ackDelayMicros).toBe(1000);
    expect(s.ackDeadline()).toBeNull();
  });

  it('acks at once when a packet arrives out of order or twice', () => {
    const s = new AckScheduler();
    s.onReceived(0, 0);
    s.takeAck(0);
    expect(s.onReceived(2, 1).ackNow).toBe(true); // gap: 1 is missing
    s.takeAck(1);
    expect(s.onReceived(1, 2).ackNow).toBe(true); // fills the gap
    s.takeAck(2);
    expect(s.onReceived(1, 3)).toEqual({ fresh: false, ackNow: true });
  });
});
