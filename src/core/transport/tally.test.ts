import { describe, expect, it } from 'vitest';
import type { Sent } from './loss-detection.ts';
import type { SegmentRef } from './outbound.ts';
import { ReceiveTally, SendTally, transportStats } from './tally.ts';

const tx = (transmission: number, messageId: number, bytes = 100): Sent<SegmentRef> => ({
  transmission,
  sentAt: 0,
  bytes,
  meta: { messageId, index: transmission },
});

/** The sum every snapshot obeys, with nothing in flight. */
function balanced(s: SendTally): boolean {
  const v = transportStats('bob', s);
  const fates = v.segmentsAcked + v.segmentsLost + v.segmentsSuperseded;
  const rest = v.segmentsHeld + v.segmentsWithdrawn;
  const bytes = v.bytesAcked + v.bytesLost + v.bytesSuperseded + v.bytesHeld + v.bytesWithdrawn;
  return (
    v.segmentsSent + v.segmentsCarried === fates + rest && v.bytesSent + v.bytesCarried === bytes
  );
}

describe('SendTally', () => {
  it('moves a held transmission to acked when an ack names it, once', () => {
    const s = new SendTally();
    for (let n = 1; n <= 3; n++) s.sent(false, 100);
    s.hold([tx(1, 7), tx(2, 7), tx(3, 8)]);
    expect(s.deliverHeld([[1, 2]]).map((t) => t.transmission)).toEqual([1, 2]);
    expect(s.deliverHeld([[1, 2]])).toEqual([]);
    expect(transportStats('bob', s)).toMatchObject({ segmentsHeld: 1, segmentsAcked: 2 });
    expect(balanced(s)).toBe(true);
    // A message given up: its held transmissions are no longer followed, and stay held.
    expect(s.releaseHeld(8).map((t) => t.transmission)).toEqual([3]);
    expect(s.deliverHeld([[3, 3]])).toEqual([]);
    expect(transportStats('bob', s)).toMatchObject({ segmentsHeld: 1, segmentsAcked: 2 });
  });

  it('a reset starts from zero with what is in flight carried', () => {
    const s = new SendTally();
    s.sent(false, 100);
    s.sent(true, 100);
    s.settle('lost', [tx(1, 7)]);
    s.spurious++;
    s.reset({ segments: 1, bytes: 100 });
    expect(transportStats('bob', s)).toMatchObject({
      segmentsSent: 0,
      segmentsLost: 0,
      spuriousRetransmissions: 0,
      segmentsCarried: 1,
      bytesCarried: 100,
      lossRate: 0,
    });
    s.settle('acked', [tx(2, 7)]);
    expect(balanced(s)).toBe(true);
  });

  it('loss rate is declared lost over sent', () => {
    const s = new SendTally();
    for (let n = 0; n < 4; n++) s.sent(n > 0, 50);
    s.settle('lost', [tx(1, 7, 50)]);
    s.settle('acked', [tx(2, 7, 50), tx(3, 7, 50), tx(4, 7, 50)]);
    expect(transportStats('bob', s).lossRate).toBe(0.25);
    expect(balanced(s)).toBe(true);
  });
});

describe('ReceiveTally', () => {
  it('counts copies among the frames taken', () => {
    const r = new ReceiveTally();
    r.received(100, false);
    r.received(100, true);
    expect(transportStats('bob', undefined, r)).toMatchObject({
      segmentsReceived: 2,
      duplicatesDropped: 1,
      bytesReceived: 200,
    });
  });
});
