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
