// The sender's side of the transport towards one peer: the queue of segments to send, the
// transmissions in flight (one LossDetector, so one collection and one timer), the
// congestion window, and which segments the relay holds and the peer has acknowledged.
// Durable state lives in SQLite (out_segments); this object is rebuilt from it at start.
import type { AckRange } from '../../shared/protocol/index.ts';
import {
  CongestionController,
  INITIAL_WINDOW_SEGMENTS,
  MIN_WINDOW_SEGMENTS,
} from './congestion.ts';
import { LossDetector, type Sent } from './loss-detection.ts';

/** Window floors in bytes, whatever the segment size. */
export const MIN_WINDOW_BYTES = 32 * 1024;
export const INITIAL_WINDOW_BYTES = 64 * 1024;

export interface SegmentRef {
  messageId: number;
  index: number;
}

/** Counters for the network view. */
export interface OutboundCounters {
  segmentsSent: number;
  segmentsAcked: number;
  retransmissions: number;
  /** Payload bytes sent, retransmissions included. */
  bytesSent: number;
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
  readonly counters: OutboundCounters = {
    segmentsSent: 0,
    segmentsAcked: 0,
    retransmissions: 0,
    bytesSent: 0,
  };
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

  get hasWork(): boolean {
    return this.retransmit.length > 0 || this.fresh.length > 0;
  }

  get queued(): number {
    return this.retransmit.length + this.fresh.length;
  }

  enqueue(ref: SegmentRef, isRetransmission: boolean): void {
    (isRetransmission ? this.retransmit : this.fresh).push(ref);
  }

  /** The next segment to send, skipping any that `done` says no longer need sending. */
  next(done: (ref: SegmentRef) => boolean): { ref: SegmentRef; retransmission: boolean } | null {
    for (const [queue, retransmission] of [
      [this.retransmit, true],
      [this.fresh, false],
    ] as const) {
      while (queue.length > 0) {
        const ref = queue.shift()!;
        if (!done(ref)) return { ref, retransmission };
      }
    }
    return null;
  }

  /** Probe sends granted by a probe timeout; they go whatever the window says. */
  probeCredit = 0;

  canSend(socketBuffered: number): boolean {
    return this.probeCredit > 0 || this.cc.canSend(this.loss.bytesInFlight, socketBuffered);
  }

  onSent(transmission: number, ref: SegmentRef, bytes: number, now: number): void {
    if (this.probeCredit > 0) this.probeCredit--;
    this.loss.onPacketSent({ transmission, sentAt: now, bytes, meta: ref });
    this.cc.onPacketSent(bytes);
    this.transmissions.set(transmission, ref);
  }

  /** Feeds an ack to loss detection and congestion control; returns what it settled. */
  onAck(ranges: readonly AckRange[], ackDelayMs: number, now: number) {
    const result = this.loss.onAckReceived(ranges, ackDelayMs, now);
    const rtt = this.loss.rtt;
    // One RTT sample per ack: hand it over with the last acknowledged transmission.
    result.acked.forEach((p, i) => {
      const sample = i === result.acked.length - 1 ? result.rttSample : null;
      this.cc.onAcked(p.bytes, sample, rtt.smoothedRtt, rtt.minRtt, now);
    });
    for (const p of result.lost) this.cc.onLost(p.bytes, now);
    return result;
  }

  /** Forgets the segment behind transmission numbers that need no more lookups. */
  release(transmissions: Iterable<number>): void {
    for (const n of transmissions) this.transmissions.delete(n);
  }

  /** Drops every transmission of segments `gone` says are settled (acked, or failed). */
  forget(gone: (ref: SegmentRef) => boolean): Sent<SegmentRef>[] {
    for (const [n, ref] of this.transmissions) if (gone(ref)) this.transmissions.delete(n);
    return this.loss.forget((p) => gone(p.meta));
  }

  /** The link went down: whatever was in flight will be sent again when it is back. */
  requeueInFlight(): void {
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
  }
}
