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

  it("holds a file's chunks until its header is in, and sends other files meanwhile", () => {
    const out = new PeerOutbound('bob', 1024);
    out.enqueueStream(10, 0, 3);
    out.enqueueStream(20, 0, 2);
    const headerIn = new Set<number>([20]);
    const next = () =>
      out.next(
        () => false,
        (id) => headerIn.has(id),
      )?.ref ?? null;
    expect(next()).toEqual({ messageId: 10, index: 0 });
    expect(next()).toEqual({ messageId: 20, index: 0 });
    expect(next()).toEqual({ messageId: 20, index: 1 });
    // File 10's header is not acknowledged yet: nothing more of it goes.
    expect(next()).toBeNull();
    expect(out.hasWork).toBe(true);
    // Waiting work, but none a probe could carry: the probe must resend instead.
    expect(out.hasReady((id) => headerIn.has(id))).toBe(false);
    headerIn.add(10);
    expect(out.hasReady((id) => headerIn.has(id))).toBe(true);
    expect(next()).toEqual({ messageId: 10, index: 1 });
    expect(next()).toEqual({ messageId: 10, index: 2 });
    expect(next()).toBeNull();
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

describe('PeerOutbound: one count of bytes in flight', () => {
  const SEGMENT = 1024;

  /** Sends `count` segments of message `messageId` from transmission `first`, at `now`. */
  function sendMany(out: PeerOutbound, first: number, count: number, messageId: number, now = 0) {
    for (let i = 0; i < count; i++) {
      out.onSent(first + i, { messageId, index: i }, SEGMENT, now);
    }
    return first + count;
  }

  /**
   * Rounds of a window of segments each, acked 40 ms after they left: what a flow whose
   * earlier segments were parked, forgotten or requeued does next.
   */
  function runRounds(out: PeerOutbound, first: number, rounds: number, start: number) {
    let n = first;
    let now = start;
    for (let r = 0; r < rounds; r++) {
      const batch = 8;
      const from = n;
      n = sendMany(out, n, batch, 1000 + r, now);
      now += 40;
      for (let t = from; t < n; t++) out.onAck([[t, t]], 0, now);
    }
    return now;
  }

  it('still ends rounds after 2,000 segments were parked with the relay (peer away)', () => {
    const out = new PeerOutbound('bob', SEGMENT);
    const next = sendMany(out, 0, 2000, 1);
    out.park((ref) => ref.messageId === 1);
    expect(out.loss.bytesInFlight).toBe(0);
    const before = out.cc.stats.rounds;
    runRounds(out, next, 20, 10);
    expect(out.cc.stats.rounds - before).toBeGreaterThanOrEqual(10);
  });

  it('still ends rounds after the segments in flight were forgotten (message cancelled)', () => {
    const out = new PeerOutbound('bob', SEGMENT);
    const next = sendMany(out, 0, 2000, 1);
    out.forget((ref) => ref.messageId === 1);
    const before = out.cc.stats.rounds;
    runRounds(out, next, 20, 10);
    expect(out.cc.stats.rounds - before).toBeGreaterThanOrEqual(10);
  });

  it('still ends rounds after the link dropped and what was in flight was requeued', () => {
    const out = new PeerOutbound('bob', SEGMENT);
    const next = sendMany(out, 0, 2000, 1);
    out.requeueInFlight();
    const before = out.cc.stats.rounds;
    runRounds(out, next, 20, 10);
    expect(out.cc.stats.rounds - before).toBeGreaterThanOrEqual(10);
  });

  it('does not grow a window it does not use because parked bytes still count as in use', () => {
    const out = new PeerOutbound('bob', SEGMENT);
    let n = sendMany(out, 0, 2000, 1);
    out.park((ref) => ref.messageId === 1);
    // One segment at a time, far below the window: an application-limited sender. The
    // rounds under way when the segments were parked did use the window; later ones do not.
    let now = 10;
    let settled = 0;
    for (let i = 0; i < 200; i++) {
      if (i === 20) settled = out.cc.window;
      out.onSent(n, { messageId: 2, index: i }, SEGMENT, now);
      now += 40;
      out.onAck([[n, n]], 0, now);
      n++;
    }
    expect(out.cc.window).toBe(settled);
  });
});

describe('PeerOutbound: persistent congestion (RFC 9002 §7.6)', () => {
  it('collapses the window when everything sent over three PTOs was lost', () => {
    const out = new PeerOutbound('bob', 1024);
    let now = 0;
    let n = 0;
    // A first RTT sample, then a window that grows in slow start.
    for (; n < 64; n++) {
      out.onSent(n, { messageId: 1, index: n }, 1024, now);
      out.onAck([[n, n]], 0, now + 40);
      now += 1;
    }
    now += 40;
    expect(out.cc.window).toBeGreaterThan(out.cc.minWindow);
    // A blackout: every transmission over ten seconds is lost; then one gets through.
    const lostFrom = n;
    for (; n < lostFrom + 100; n++) {
      out.onSent(n, { messageId: 2, index: n }, 1024, now);
      now += 100;
    }
    out.onSent(n, { messageId: 3, index: 0 }, 1024, now);
    const result = out.onAck([[n, n]], 0, now + 40);
    expect(result.lost).toHaveLength(100);
    expect(out.cc.stats.persistentCongestions).toBe(1);
    expect(out.cc.window).toBeLessThanOrEqual(2 * out.cc.minWindow);
  });

  it('does not call losses spread between acknowledged transmissions persistent', () => {
    const out = new PeerOutbound('bob', 1024);
    let now = 0;
    let n = 0;
    out.onSent(n, { messageId: 1, index: 0 }, 1024, now);
    out.onAck([[n, n]], 0, now + 40);
    n++;
    const acked: number[] = [];
    for (let i = 0; i < 100; i++, n++) {
      out.onSent(n, { messageId: 2, index: i }, 1024, now);
      // Two lost, one acknowledged: each run of losses spans 100 ms, under three PTOs.
      if (i % 3 === 2) acked.push(n);
      now += 100;
    }
    out.onAck(
      acked.map((t) => [t, t] as const),
      0,
      now + 40,
    );
    expect(out.cc.stats.persistentCongestions).toBe(0);
  });
});
