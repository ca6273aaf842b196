// The sender's side of the transport towards one peer: the queue of segments to send, the
// transmissions in flight (one LossDetector, so one collection and one timer), the
// congestion window, and which segments the relay holds and the peer has acknowledged.
// Durable state lives in SQLite (out_segments); this object is rebuilt from it at start.
//
// Transmission numbers: one sequence per peer, as QUIC has a packet number space per path,
// so that the peer's receiver sees its frames numbered 1, 2, 3... (no gap reads as
// reordering, acks come every second frame, ack ranges stay few) and loss detection's
// packet threshold counts this peer's frames only. The sequences of different peers are
// disjoint blocks of one device-wide range (TransmissionSpaces): the relay's `held` frames
// name numbers without naming the peer, and the numbers only grow across restarts.
import type { AckRange } from '../../shared/protocol/index.ts';
import {
  CongestionController,
  INITIAL_WINDOW_SEGMENTS,
  MIN_WINDOW_SEGMENTS,
} from './congestion.ts';
import { LossDetector, type Sent } from './loss-detection.ts';

/** Numbers in one peer's block of transmission numbers. */
export const TRANSMISSION_SPACE = 2 ** 32;
/**
 * A peer gets a new block when fewer numbers than this are left in its own: far more than
 * one burst sends (a window of 16 MiB is 262,144 segments of 64 B).
 */
const MIN_SPACE_ROOM = 2 ** 31;

/** Window floors in bytes, whatever the segment size. */
export const MIN_WINDOW_BYTES = 32 * 1024;
export const INITIAL_WINDOW_BYTES = 64 * 1024;

export interface SegmentRef {
  messageId: number;
  index: number;
}

export class PeerOutbound {
  readonly peer: string;
  readonly loss = new LossDetector<SegmentRef>();
  readonly cc: CongestionController;
  /** Segments waiting to be (re)sent; retransmissions go first. */
  private readonly retransmit: SegmentRef[] = [];
  private readonly fresh: SegmentRef[] = [];
  /** Transmission number -> segment, for the relay's `held` frames, which may come late. */
  readonly transmissions = new Map<number, SegmentRef>();
  /**
   * Segments the relay holds for this peer while it is away, by transmission number: out of
   * the window, but an ack for one (the relay's stored copy reached the peer) still counts.
   */
  private readonly parked = new Map<number, SegmentRef>();
  /** The next transmission number of this peer's sequence, and the end of its block. */
  private nextNumber = 0;
  private spaceEnd = 0;

  constructor(peer: string, segmentSize: number) {
    this.peer = peer;
    // The course's segments (100 to 2000 bytes) are far smaller than a network packet, so
    // floors counted in segments would starve small-segment transfers: floor them in bytes.
    this.cc = new CongestionController({
      segmentSize,
      minWindow: Math.max(MIN_WINDOW_SEGMENTS * segmentSize, MIN_WINDOW_BYTES),
      initialWindow: Math.max(INITIAL_WINDOW_SEGMENTS * segmentSize, INITIAL_WINDOW_BYTES),
    });
  }

  /**
   * Files in flight, sent a segment from each in turn: their segments are produced as they
   * are needed (a cursor each), never queued one by one, so a file of a million segments
   * costs a few numbers here and text never waits behind it.
   */
  private readonly streams: { messageId: number; next: number; count: number }[] = [];
  private streamTurn = 0;

  get hasWork(): boolean {
    return this.retransmit.length > 0 || this.fresh.length > 0 || this.streams.length > 0;
  }

  /**
   * Whether `next` has a segment to give now: queued ones, or a file whose header is in (or
   * not yet sent). A file waiting for its header is work, but not work a probe can carry.
   */
  hasReady(headerIn: (messageId: number) => boolean): boolean {
    if (this.retransmit.length > 0 || this.fresh.length > 0) return true;
    return this.streams.some((s) => s.next === 0 || headerIn(s.messageId));
  }

  get queued(): number {
    let n = this.retransmit.length + this.fresh.length;
    for (const s of this.streams) n += s.count - s.next;
    return n;
  }

  enqueue(ref: SegmentRef, isRetransmission: boolean): void {
    (isRetransmission ? this.retransmit : this.fresh).push(ref);
  }

  /** Queues segments `from .. count-1` of a file, behind any text (and retransmission). */
  enqueueStream(messageId: number, from: number, count: number): void {
    const existing = this.streams.find((s) => s.messageId === messageId);
    if (existing) existing.next = Math.min(existing.next, from);
    else if (from < count) this.streams.push({ messageId, next: from, count });
  }

  /** Stops producing segments of a file (paused, cancelled, failed). */
  dropStream(messageId: number): void {
    const i = this.streams.findIndex((s) => s.messageId === messageId);
    if (i !== -1) this.streams.splice(i, 1);
  }

  /**
   * The next segment to send, skipping any that `done` says no longer need sending:
   * retransmissions first, then text, then the files in turn. A file's chunks wait until
   * `headerIn` says its header (segment 0) is acknowledged or held by the relay: the receiver
   * takes no chunk before it has opened the header, and chunks it had to drop would read to
   * this end as heavy loss (a collapsed window, backed-off timers) for one round trip saved.
   */
  next(
    done: (ref: SegmentRef) => boolean,
    headerIn: (messageId: number) => boolean = () => true,
  ): { ref: SegmentRef; retransmission: boolean } | null {
    for (const [queue, retransmission] of [
      [this.retransmit, true],
      [this.fresh, false],
    ] as const) {
      while (queue.length > 0) {
        const ref = queue.shift()!;
        if (!done(ref)) return { ref, retransmission };
      }
    }
    // Each stream once at most: those waiting for their header are passed over.
    for (let tries = this.streams.length; tries > 0 && this.streams.length > 0; tries--) {
      this.streamTurn %= this.streams.length;
      const s = this.streams[this.streamTurn]!;
      if (s.next > 0 && !headerIn(s.messageId)) {
        this.streamTurn++;
        continue;
      }
      while (s.next < s.count) {
        const ref = { messageId: s.messageId, index: s.next++ };
        if (!done(ref)) {
          if (s.next >= s.count) this.streams.splice(this.streamTurn, 1);
          else this.streamTurn++;
          return { ref, retransmission: false };
        }
      }
      this.streams.splice(this.streamTurn, 1);
    }
    return null;
  }

  /** Probe sends granted by a probe timeout; they go whatever the window says. */
  probeCredit = 0;

  canSend(socketBuffered: number): boolean {
    return this.probeCredit > 0 || this.cc.canSend(this.loss.bytesInFlight, socketBuffered);
  }

  /** The number the next transmission to this peer takes (see TransmissionSpaces). */
  get nextTransmission(): number {
    return this.nextNumber;
  }

  /** Numbers left in this peer's block. */
  get transmissionRoom(): number {
    return this.spaceEnd - this.nextNumber;
  }

  /** Numbers this peer's transmissions from `first` on, up to `first + size`. */
  useSpace(first: number, size: number): void {
    this.nextNumber = first;
    this.spaceEnd = first + size;
  }

  onSent(transmission: number, ref: SegmentRef, bytes: number, now: number): void {
    if (this.probeCredit > 0) this.probeCredit--;
    this.nextNumber = Math.max(this.nextNumber, transmission + 1);
    this.loss.onPacketSent({ transmission, sentAt: now, bytes, meta: ref });
    this.cc.onPacketSent({ transmission, bytes }, this.loss.bytesInFlight);
    this.transmissions.set(transmission, ref);
  }

  /** Feeds an ack to loss detection and congestion control; returns what it settled. */
  onAck(ranges: readonly AckRange[], ackDelayMs: number, now: number) {
    const result = this.loss.onAckReceived(ranges, ackDelayMs, now);
    const rtt = this.loss.rtt;
    // Congestion control reads queues on the path from its RTT samples, so it takes them net
    // of the delay the peer reports between receiving and acknowledging (storing, writing to
    // disk): that time is the receiver's, not the path's. Never below the smallest RTT seen.
    // Loss detection's estimator keeps RFC 9002's rule (the delay capped at max_ack_delay).
    const sample =
      result.rttSample === null ? null : Math.max(rtt.minRtt, result.rttSample - ackDelayMs);
    // One RTT sample per ack: hand it over with the last acknowledged transmission.
    const bytesInFlight = this.loss.bytesInFlight;
    // RFC 9002 A.7: losses (and the collapse of persistent congestion) before acks.
    if (result.persistentCongestion) this.cc.onPersistentCongestion();
    result.acked.forEach((p, i) => {
      this.cc.onAcked(p, {
        bytesInFlight,
        rttSample: i === result.acked.length - 1 ? sample : null,
        smoothedRtt: rtt.smoothedRtt,
        now,
      });
    });
    for (const p of result.lost) this.cc.onLost(p, bytesInFlight, now);
    return result;
  }

  /** The loss detection timer fired: feeds what it declared lost to congestion control. */
  onLossTimeout(now: number) {
    const result = this.loss.onLossDetectionTimeout(now);
    if (result.kind === 'loss') {
      if (result.persistentCongestion) this.cc.onPersistentCongestion();
      for (const p of result.lost) this.cc.onLost(p, this.loss.bytesInFlight, now);
    }
    return result;
  }

  /** Forgets the segment behind transmission numbers that need no more lookups. */
  release(transmissions: Iterable<number>): void {
    for (const n of transmissions) this.transmissions.delete(n);
  }

  /** Drops every transmission of segments `gone` says are settled (acked, or failed). */
  forget(gone: (ref: SegmentRef) => boolean): Sent<SegmentRef>[] {
    for (const [n, ref] of this.transmissions) if (gone(ref)) this.transmissions.delete(n);
    for (const [n, ref] of this.parked) if (gone(ref)) this.parked.delete(n);
    return this.loss.forget((p) => gone(p.meta));
  }

  /**
   * Takes segments `held` names out of the window (no loss detection, no probes) while the
   * peer is away and the relay holds them; their transmissions stay known for `unpark`.
   * Returns those that left the window.
   */
  park(held: (ref: SegmentRef) => boolean): Sent<SegmentRef>[] {
    for (const [n, ref] of this.transmissions) {
      if (!held(ref)) continue;
      this.transmissions.delete(n);
      this.parked.set(n, ref);
    }
    return this.loss.forget((p) => held(p.meta));
  }

  /** The parked segments an ack names; they leave the parking. */
  unpark(ranges: readonly AckRange[]): SegmentRef[] {
    if (this.parked.size === 0) return [];
    const out: SegmentRef[] = [];
    for (const [low, high] of ranges) {
      for (const n of numbersIn(this.parked, low, high)) {
        out.push(this.parked.get(n)!);
        this.parked.delete(n);
      }
    }
    return out;
  }

  /**
   * The link went down: whatever was in flight will be sent again when it is back. Returns
   * the transmissions that left the window.
   */
  requeueInFlight(): Sent<SegmentRef>[] {
    const inFlight = this.loss.forget(() => true);
    const seen = new Set<string>();
    const again: SegmentRef[] = [];
    for (const p of inFlight) {
      const key = `${p.meta.messageId}:${p.meta.index}`;
      if (!seen.has(key)) {
        seen.add(key);
        again.push(p.meta);
      }
    }
    this.retransmit.unshift(...again);
    return inFlight;
  }
}

/**
 * Hands out the blocks of transmission numbers of a device's peers. The end of the blocks
 * handed out is persisted (by `persist`, committed on its own) before any number of a new
 * block is used, and the next run starts there (`load`), so each peer's numbers only grow
 * across restarts. At one block per active peer and run, 2^53 / 2^32 allows two million.
 */
export class TransmissionSpaces {
  private end: number | null = null;
  private readonly load: () => number;
  private readonly persist: (end: number) => void;

  constructor(load: () => number, persist: (end: number) => void) {
    this.load = load;
    this.persist = persist;
  }

  /** Gives `out` a new block when its own runs low. */
  ensure(out: PeerOutbound): void {
    if (out.transmissionRoom >= MIN_SPACE_ROOM) return;
    const first = this.end ?? this.load();
    const end = first + TRANSMISSION_SPACE;
    if (!Number.isSafeInteger(end)) throw new RangeError('transmission numbers exhausted');
    this.persist(end);
    this.end = end;
    out.useSpace(first, TRANSMISSION_SPACE);
  }
}

/** The keys of `map` from `low` to `high`: looked up one by one, or scanned, whichever is less. */
export function numbersIn(map: ReadonlyMap<number, unknown>, low: number, high: number): number[] {
  const out: number[] = [];
  if (high - low < map.size) {
    for (let n = low; n <= high; n++) if (map.has(n)) out.push(n);
  } else {
    for (const n of map.keys()) if (n >= low && n <= high) out.push(n);
  }
  return out;
}
