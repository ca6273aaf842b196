// The network view's counters, defined so that they add up (docs/transport.md, "Counters").
// A transmission is one data frame sent: a segment's first transmission or a retransmission.
// Every transmission ends in exactly one fate, or is still in flight:
//   acked      the peer acknowledged it (by an ack, or by a delivery receipt for its message
//              while it was in flight and its segment not yet acknowledged);
//   lost       loss detection declared it lost while its segment was unacknowledged (its
//              segment goes again; a late ack for it adds to `spurious`, not to `acked`);
//   superseded declared lost, or still in flight when its message was done, after its segment
//              had been acknowledged through another transmission: no loss;
//   held       the relay took it into custody for a peer who is away, and the peer has not
//              acknowledged the relay's copy yet (when it does, the transmission moves to acked);
//   withdrawn  the sender stopped waiting for it: its message was paused, cancelled or failed,
//              or the link to the relay went down (then its segment goes again).
// So first + retransmissions = sent, and sent + carried = the fates + in flight, in segments
// and in bytes alike. Bytes are a segment's payload, as the frame carries it (a file chunk's
// offset included), the same number wherever a segment is counted or logged.
import type { TransportStats } from '../../shared/api.ts';
import type { AckRange } from '../../shared/protocol/index.ts';
import type { Sent } from './loss-detection.ts';
import { numbersIn, type SegmentRef } from './outbound.ts';

export const FATES = ['acked', 'lost', 'superseded', 'held', 'withdrawn'] as const;
export type Fate = (typeof FATES)[number];

export interface Count {
  segments: number;
  bytes: number;
}

const zero = (): Count => ({ segments: 0, bytes: 0 });

/** What the sender towards one peer did with its transmissions since the last reset. */
export class SendTally {
  firstTransmissions = 0;
  retransmissions = 0;
  bytesSent = 0;
  /** Transmissions declared lost that an ack later showed had arrived. */
  spurious = 0;
  /** Transmissions already in flight at the last reset: their fates still count. */
  carried = zero();
  readonly fates = Object.fromEntries(FATES.map((f) => [f, zero()])) as Record<Fate, Count>;
  /** The held transmissions, by number, until the peer acknowledges them. */
  private readonly held = new Map<number, Sent<SegmentRef>>();

  sent(retransmission: boolean, bytes: number): void {
    if (retransmission) this.retransmissions++;
    else this.firstTransmissions++;
    this.bytesSent += bytes;
  }

  settle(fate: Fate, transmissions: Iterable<{ bytes: number }>): void {
    const c = this.fates[fate];
    for (const t of transmissions) {
      c.segments++;
      c.bytes += t.bytes;
    }
  }

  move(from: Fate, to: Fate, t: { bytes: number }): void {
    this.fates[from].segments--;
    this.fates[from].bytes -= t.bytes;
    this.settle(to, [t]);
  }

  /** The relay took these into custody. */
  hold(transmissions: readonly Sent<SegmentRef>[]): void {
    this.settle('held', transmissions);
    for (const t of transmissions) this.held.set(t.transmission, t);
  }

  /** The held transmissions an ack names: the relay's copies reached the peer (now acked). */
  deliverHeld(ranges: readonly AckRange[]): Sent<SegmentRef>[] {
    if (this.held.size === 0) return [];
    const out: Sent<SegmentRef>[] = [];
    for (const [low, high] of ranges) {
      for (const n of numbersIn(this.held, low, high)) {
        const t = this.held.get(n)!;
        this.held.delete(n);
        this.move('held', 'acked', t);
        out.push(t);
      }
    }
    return out;
  }

  /** Stops following the held transmissions of message `id`; returns them. */
  releaseHeld(id: number): Sent<SegmentRef>[] {
    const out: Sent<SegmentRef>[] = [];
    for (const [n, t] of this.held) {
      if (t.meta.messageId !== id) continue;
      this.held.delete(n);
      out.push(t);
    }
    return out;
  }

  /** Starts again from zero; what is in flight now is carried, so the sums still hold. */
  reset(inFlight: Count): void {
    this.firstTransmissions = 0;
    this.retransmissions = 0;
    this.bytesSent = 0;
    this.spurious = 0;
    this.carried = { ...inFlight };
    this.held.clear();
    for (const f of FATES) this.fates[f] = zero();
  }
}

/** What the receiver got from one peer since the last reset. */
export class ReceiveTally {
  /** Data frames taken (stored, or dropped as copies); a frame that could not be stored is not. */
  segments = 0;
  duplicates = 0;
  bytes = 0;

  received(bytes: number, duplicate: boolean): void {
    this.segments++;
    this.bytes += bytes;
    if (duplicate) this.duplicates++;
  }
}

/**
 * Every peer's tallies: the sender counts into `send(peer)`, the receiver into
 * `receive(peer)`, and the Transport facade reads and resets them.
 */
export class Tallies {
  private readonly sends = new Map<string, SendTally>();
  private readonly receives = new Map<string, ReceiveTally>();

  send(peer: string): SendTally {
    let t = this.sends.get(peer);
    if (!t) {
      t = new SendTally();
      this.sends.set(peer, t);
    }
    return t;
  }

  receive(peer: string): ReceiveTally {
    let t = this.receives.get(peer);
    if (!t) {
      t = new ReceiveTally();
      this.receives.set(peer, t);
    }
    return t;
  }

  /** The peers anything was counted for. */
  peers(): Set<string> {
    return new Set([...this.sends.keys(), ...this.receives.keys()]);
  }

  stats(peer: string, gauges?: SenderGauges): TransportStats {
    return transportStats(peer, this.sends.get(peer), this.receives.get(peer), gauges);
  }

  /** Starts `peer`'s counts again; `inFlight` (the sender's now) is carried. */
  reset(peer: string, inFlight: Count): void {
    this.sends.get(peer)?.reset(inFlight);
    this.receives.delete(peer);
  }
}

/** The gauges that come from the sender's live state rather than from counting. */
export interface SenderGauges {
  inFlight: Count;
  rttMs: number;
  minRttMs: number;
  windowBytes: number;
}

const NO_GAUGES: SenderGauges = { inFlight: zero(), rttMs: 0, minRttMs: 0, windowBytes: 0 };

export function transportStats(
  peer: string,
  send: SendTally = new SendTally(),
  receive: ReceiveTally = new ReceiveTally(),
  gauges: SenderGauges = NO_GAUGES,
): TransportStats {
  const sent = send.firstTransmissions + send.retransmissions;
  const f = send.fates;
  return {
    peer,
    segmentsSent: sent,
    firstTransmissions: send.firstTransmissions,
    retransmissions: send.retransmissions,
    segmentsAcked: f.acked.segments,
    segmentsLost: f.lost.segments,
    segmentsSuperseded: f.superseded.segments,
    segmentsHeld: f.held.segments,
    segmentsWithdrawn: f.withdrawn.segments,
    segmentsInFlight: gauges.inFlight.segments,
    segmentsCarried: send.carried.segments,
    spuriousRetransmissions: send.spurious,
    segmentsReceived: receive.segments,
    duplicatesDropped: receive.duplicates,
    bytesSent: send.bytesSent,
    bytesAcked: f.acked.bytes,
    bytesLost: f.lost.bytes,
    bytesSuperseded: f.superseded.bytes,
    bytesHeld: f.held.bytes,
    bytesWithdrawn: f.withdrawn.bytes,
    bytesInFlight: gauges.inFlight.bytes,
    bytesCarried: send.carried.bytes,
    bytesReceived: receive.bytes,
    rttMs: gauges.rttMs,
    minRttMs: gauges.minRttMs,
    windowBytes: gauges.windowBytes,
    lossRate: sent > 0 ? f.lost.segments / sent : 0,
  };
}
