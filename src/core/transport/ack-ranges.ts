// The receiver's side of acknowledgement: which transmission numbers have arrived from one
// peer device, kept as disjoint ranges, and when to send an ack frame about them. Follows
// QUIC (RFC 9000, sections 13.2.1 and 13.2.4): ack every second packet, or after a maximum
// delay, and at once when a packet arrives out of order, so that the sender's loss
// detection hears about gaps quickly.
import { MAX_ACK_RANGES, type AckRange } from '../../shared/protocol/index.ts';

/** Ack at the latest after this many milliseconds (QUIC's max_ack_delay default). */
export const MAX_ACK_DELAY_MS = 25;
/** Ack at once after this many packets that have not been acknowledged yet. */
export const ACK_ELICITING_THRESHOLD = 2;

/**
 * Received transmission numbers as disjoint, non-adjacent ranges, largest first. Only the
 * newest MAX_ACK_RANGES ranges are kept: older ones have been acknowledged many times by
 * then, and the transport drops duplicate segments by their (message, index) anyway.
 */
export class ReceivedRanges {
  /** Descending by `high`. */
  private readonly list: [low: number, high: number][] = [];
  private readonly limit: number;
  /** Everything below this was forgotten; treated as received. */
  private floor = 0;

  constructor(limit = MAX_ACK_RANGES) {
    this.limit = limit;
  }

  get largest(): number | null {
    return this.list[0]?.[1] ?? null;
  }

  has(n: number): boolean {
    if (n < this.floor) return true;
    return this.list.some(([low, high]) => low <= n && n <= high);
  }

  /** Records `n`; returns false when it had been received already. */
  add(n: number): boolean {
    if (n < this.floor) return false;
    const list = this.list;
    // Find the first range whose high is below n (ranges are descending).
    let i = 0;
    while (i < list.length && list[i]![1] >= n) {
      if (list[i]![0] <= n) return false;
      i++;
    }
    const above = i > 0 ? list[i - 1]! : undefined;
    const below = list[i];
    const joinsAbove = above !== undefined && above[0] === n + 1;
    const joinsBelow = below !== undefined && below[1] === n - 1;
    if (joinsAbove && joinsBelow) {
      above[0] = below[0];
      list.splice(i, 1);
    } else if (joinsAbove) above[0] = n;
    else if (joinsBelow) below[1] = n;
    else list.splice(i, 0, [n, n]);
    if (list.length > this.limit) {
      const dropped = list.pop()!;
      this.floor = dropped[1] + 1;
    }
    return true;
  }

  /** The ranges to put in an ack frame, largest first. */
  ranges(): AckRange[] {
    return this.list.map(([low, high]) => [low, high] as const);
  }

  get size(): number {
    return this.list.length;
  }
}

/** Decides when the receiver sends an ack frame (one timer, owned by the caller). */
export class AckScheduler {
  readonly received = new ReceivedRanges();
  private unacked = 0;
  private firstUnackedAt: number | null = null;
  private largestAt = 0;
  private readonly maxAckDelayMs: number;

  constructor(maxAckDelayMs = MAX_ACK_DELAY_MS) {
    this.maxAckDelayMs = maxAckDelayMs;
  }

  /**
   * Records a received transmission. Returns whether it was new and whether an ack should
   * go out now (every second packet, or a packet that reveals or fills a gap).
   */
  onReceived(n: number, now: number): { fresh: boolean; ackNow: boolean } {
    const largest = this.received.largest;
    const fresh = this.received.add(n);
    // A duplicate means our ack was lost or late: repeat it at once.
    if (!fresh) return { fresh, ackNow: true };
    const outOfOrder = largest !== null && n !== largest + 1;
    if (largest === null || n > largest) this.largestAt = now;
    this.unacked++;
    this.firstUnackedAt ??= now;
    return { fresh, ackNow: outOfOrder || this.unacked >= ACK_ELICITING_THRESHOLD };
  }

  /** When the delayed ack is due, or null when nothing awaits acknowledgement. */
  ackDeadline(): number | null {
    return this.firstUnackedAt === null ? null : this.firstUnackedAt + this.maxAckDelayMs;
  }

  /** The content of an ack frame sent now; resets the delayed-ack state. */
  takeAck(now: number): { ranges: AckRange[]; ackDelayMicros: number } | null {
    if (this.received.largest === null) return null;
    this.unacked = 0;
    this.firstUnackedAt = null;
    const delayMs = Math.max(0, now - this.largestAt);
    return {
      ranges: this.received.ranges(),
      ackDelayMicros: Math.min(0xffff_ffff, Math.round(delayMs * 1000)),
    };
  }
}
