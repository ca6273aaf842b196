import { describe, expect, it } from 'vitest';
import { PeerOutbound, type SegmentRef } from './outbound.ts';

const order = (out: PeerOutbound, done: (r: SegmentRef) => boolean = () => false) => {
  const seen: string[] = [];
  for (let next = out.next(done); next; next = out.next(done)) {
    seen.push(`${next.ref.messageId}:${next.ref.index}${next.retransmission ? 'r' : ''}`);
  }
  return seen;
};

describe('PeerOutbound scheduling', () => {
  it('sends retransmissions, then text, then files, one segment of each file in turn', () => {
    const out = new PeerOutbound('bob', 1024);
    out.enqueueStream(10, 0, 3);
    out.enqueueStream(20, 1, 3);
    out.enqueue({ messageId: 5, index: 0 }, false);
    out.enqueue({ messageId: 4, index: 2 }, true);
    expect(out.queued).toBe(2 + 3 + 2);
    expect(order(out)).toEqual(['4:2r', '5:0', '10:0', '20:1', '10:1', '20:2', '10:2']);
    expect(out.hasWork).toBe(false);
  });

  it('lets text overtake a file already in progress', () => {
    const out = new PeerOutbound('bob', 1024);
    out.enqueueStream(10, 0, 1_000_000);
    expect(out.next(() => false)!.ref).toEqual({ messageId: 10, index: 0 });
    out.enqueue({ messageId: 11, index: 0 }, false);
    expect(out.next(() => false)!.ref).toEqual({ messageId: 11, index: 0 });
    expect(out.next(() => false)!.ref).toEqual({ messageId: 10, index: 1 });
    expect(out.queued).toBe(1_000_000 - 2);
  });

  it('skips segments already settled (a resumed file) and drops stopped files', () => {
    const out = new PeerOutbound('bob', 1024);
    out.enqueueStream(10, 0, 6);
    out.enqueueStream(20, 0, 2);
    out.dropStream(20);
    const acked = new Set([0, 1, 2, 4]);
    expect(order(out, (r) => acked.has(r.index))).toEqual(['10:3', '10:5']);
  });

  it('restarts a stream from an earlier segment instead of queueing it twice', () => {
    const out = new PeerOutbound('bob', 1024);
    out.enqueueStream(10, 3, 5);
    out.enqueueStream(10, 1, 5);
    expect(order(out)).toEqual(['10:1', '10:2', '10:3', '10:4']);
  });
});

describe("PeerOutbound: congestion control and the peer's ack delay", () => {
  /**
   * Slow start, segment by segment: each acked `rtt` ms after it was sent, the peer saying
   * it held the ack back `delay` ms of that (storing and writing the segment).
   */
  function slowStart(rtt: number, delay: number): PeerOutbound {
    const out = new PeerOutbound('bob', 1024);
    let now = 0;
    for (let n = 1; n <= 40; n++) {
      out.onSent(n, { messageId: 1, index: n }, 1024, now);
      // The first sample is quick (an idle receiver); the rest take `rtt`.
      now += n === 1 ? 1 : rtt;
      out.onAck([[n, n]], n === 1 ? 0 : delay, now);
    }
    return out;
  }

  it("reads the receiver's own delay as no queue: slow start goes on", () => {
    const out = slowStart(30, 29);
    expect(out.cc.state).toBe('slow-start');
    expect(out.cc.window).toBeGreaterThan(40 * 1024);
  });

  it('reads the same RTT without that delay as a queue: slow start ends', () => {
    expect(slowStart(30, 0).cc.state).not.toBe('slow-start');
  });

  it('keeps the full delay for loss detection, capped as RFC 9002 says', () => {
    const out = slowStart(30, 29);
    // Smoothed RTT: 30 ms samples less at most max_ack_delay (25 ms).
    expect(out.loss.rtt.smoothedRtt).toBeGreaterThan(4);
  });
});
