// The transport's recent-segment log: a fixed-size ring of what happened to segments (sent,
// retransmitted, acknowledged, declared lost, received, dropped as duplicate), for the network
// view. Recording is one object write into a preallocated ring, so it costs nothing measurable
// on the hot path, and memory stays bounded whatever the traffic.
import type { SegmentLogEntry } from '../../shared/contract.ts';

export class SegmentLog {
  private readonly ring: (SegmentLogEntry | undefined)[];
  private seq = 0;
  /** Entries up to this sequence number are cleared, for every peer or for one. */
  private clearedAll = 0;
  private readonly cleared = new Map<string, number>();
  private readonly now: () => number;

  constructor(capacity: number, now: () => number = Date.now) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be ≥ 1');
    this.ring = new Array<SegmentLogEntry | undefined>(capacity);
    this.now = now;
  }

  get capacity(): number {
    return this.ring.length;
  }

  /** The sequence number of the newest entry (0 before the first). */
  get last(): number {
    return this.seq;
  }

  record(
    peer: string,
    event: SegmentLogEntry['event'],
    messageId: number,
    index: number,
    segmentCount: number,
    bytes: number,
  ): void {
    const seq = ++this.seq;
    this.ring[seq % this.ring.length] = {
      seq,
      at: this.now(),
      peer,
      event,
      messageId,
      index,
      segmentCount,
      bytes,
    };
  }

  /** Forgets the entries so far, of `peer` or of every peer (the counters were reset). */
  clear(peer?: string): void {
    if (peer === undefined) {
      this.clearedAll = this.seq;
      this.cleared.clear();
    } else this.cleared.set(peer, this.seq);
  }

  /** Entries after `since` (for `peer` if given), oldest first; at most the ring's capacity. */
  since(since: number, peer?: string): SegmentLogEntry[] {
    const from = Math.max(since + 1, this.seq - this.ring.length + 1, this.clearedAll + 1, 1);
    const out: SegmentLogEntry[] = [];
    for (let s = from; s <= this.seq; s++) {
      const e = this.ring[s % this.ring.length]!;
      if (e.seq <= (this.cleared.get(e.peer) ?? 0)) continue;
      if (peer === undefined || e.peer === peer) out.push(e);
    }
    return out;
  }
}
