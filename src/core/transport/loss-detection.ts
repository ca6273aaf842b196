// Loss detection, as RFC 9002 section 6 and its Appendix A describe it, for one sender and
// one receiving peer. Pure: every time is a number of milliseconds passed in by the caller.
//
// Every data frame carries a fresh `transmission` number (QUIC's packet number), so an ack
// names exactly which transmission arrived, retransmissions included, and there is no
// retransmission ambiguity. The caller keeps its own per-transmission metadata `M` (for
// example the message id and segment index) and gets it back when the transmission is
// acknowledged, declared lost, or should be re-sent as a probe.
//
// One packet number space per detector, and one detector per peer: the sender numbers the
// frames to each peer in a sequence of that peer's own (see outbound.ts), as QUIC numbers
// each space. Strata has no handshake, every data frame is ack-eliciting and counts as in
// flight, and ack frames are not themselves acknowledged. So the RFC's arrays indexed by
// pn_space collapse to single values, and GetLossTimeAndSpace / GetPtoTimeAndSpace become
// getLossTime / getPtoTime.
//
// The packet threshold counts packets this detector sent ("sent kPacketThreshold packets
// before an acknowledged packet", RFC 9002 §6.1.1), not differences of numbers, so a gap
// in the numbers (a new block of them) never reads as reordering.
//
// Persistent congestion (§7.6) is established here and reported with the losses: two lost
// packets sent more than 3 PTOs apart, after the first RTT sample, with every packet sent
// between them lost too. The RTT estimator's min_rtt is then taken afresh (§5.2).
//
// Two additions to the RFC, which allows both (§6.1.1, §6.1.2: implementations may adapt
// the thresholds):
//   - Recently declared-lost transmissions are remembered for a while (3 PTOs, at most
//     `maxRecentlyLost` of them). An ack for one of them proves the loss was spurious: the
//     frame was only reordered or late.
//   - On a spurious loss the reordering tolerance rises just enough that the same frame
//     would not have been declared lost, as RFC 8985 (RACK) §6.2 widens its reordering
//     window on DSACKs: the packet threshold to the reordering distance seen + 1, and the
//     time threshold multiplier to the next 1/8 above the delay seen. Both are capped.
//
// Congestion control is a separate module: it consumes `acked`, `lost` and `rttSample`.
import type { AckRange } from '../../shared/protocol/index.ts';
import { MAX_ACK_DELAY_MS } from './ack-ranges.ts';
import { RttEstimator, kGranularity, kInitialRtt } from './rtt.ts';

/** RFC 9002 §6.1.1: a transmission is lost once this many later ones are acknowledged. */
export const kPacketThreshold = 3;
/** RFC 9002 §6.1.2: ... or once it is older than this many RTTs behind an acknowledged one. */
export const kTimeThreshold = 9 / 8;
/** RFC 9002 §7.6.1: losses spanning this many PTOs are persistent congestion. */
export const kPersistentCongestionThreshold = 3;
/** The packet threshold never rises above this on spurious losses. */
export const MAX_PACKET_THRESHOLD = 10;
/** The time threshold multiplier never rises above this (RACK's reo_wnd is at most 1 SRTT). */
export const MAX_TIME_THRESHOLD = 2;
/** How many declared-lost transmissions are remembered, at most, to spot spurious losses. */
export const MAX_RECENTLY_LOST = 1024;
/** ... and for how long, in PTOs (before backoff). */
export const RECENTLY_LOST_PTOS = 3;

/** One transmission that was sent, as the caller described it to `onPacketSent`. */
export interface Sent<M> {
  /** The data frame's transmission number: strictly increasing per detector. */
  readonly transmission: number;
  /** When it was sent (ms, the caller's clock). */
  readonly sentAt: number;
  /** Its size, for `bytesInFlight` (and the congestion controller). */
  readonly bytes: number;
  /** The caller's data about it, e.g. message id and segment index. */
  readonly meta: M;
}

export interface AckResult<M> {
  /** Transmissions this ack newly acknowledges, in ascending order. */
  acked: Sent<M>[];
  /** Transmissions declared lost while processing this ack, in ascending order. */
  lost: Sent<M>[];
  /**
   * latest_rtt, when this ack yields an RTT sample (its largest acknowledged transmission is
   * newly acknowledged, RFC 9002 §5.1), else null.
   */
  rttSample: number | null;
  /**
   * Transmissions declared lost earlier that this ack shows arrived after all: their
   * retransmission was spurious. Their segments were delivered too. They are not in `acked`
   * (they had already left the bytes in flight when they were declared lost).
   */
  spurious: Sent<M>[];
  /** The losses establish persistent congestion (RFC 9002 §7.6). */
  persistentCongestion: boolean;
}

export type TimeoutResult<M> =
  /** A loss time expired (time threshold): these are now lost. */
  | { kind: 'loss'; lost: Sent<M>[]; persistentCongestion: boolean }
  /**
   * The probe timeout expired: send one or two ack-eliciting frames, re-sending the content
   * of these (the oldest transmissions in flight) as new transmissions. They stay in flight.
   */
  | { kind: 'probe'; probes: Sent<M>[] }
  /** Called before the timer was due (a stale timer): nothing to do. */
  | { kind: 'none' };

export interface LossDetectorOptions {
  /** The peer's max_ack_delay, ms (default MAX_ACK_DELAY_MS, QUIC's 25). */
  maxAckDelay?: number;
  /** kGranularity, ms (default 1). */
  granularity?: number;
  /** kInitialRtt, ms (default 100, see rtt.ts). */
  initialRtt?: number;
  /** Initial packet threshold (default kPacketThreshold = 3). */
  packetThreshold?: number;
  /** Cap for the adaptive packet threshold (default 10; equal to the initial: no adapting). */
  maxPacketThreshold?: number;
  /** Initial time threshold multiplier (default kTimeThreshold = 9/8). */
  timeThreshold?: number;
  /** Cap for the adaptive time threshold multiplier (default 2). */
  maxTimeThreshold?: number;
  /** How many declared-lost transmissions to remember for spurious detection (default 1024). */
  maxRecentlyLost?: number;
}

/** A transmission declared lost, remembered so that a late ack can expose a spurious loss. */
interface LostRecord<M> {
  sent: Sent<M>;
  declaredAt: number;
}

/**
 * Ack ranges as received, made safe to use: invalid ranges dropped, sorted ascending,
 * overlapping or adjacent ones merged. The peer's encoder promises descending, disjoint
 * ranges, but this module never trusts peer input and never throws on it.
 */
function normalizeRanges(ranges: readonly AckRange[]): [number, number][] {
  const valid: [number, number][] = [];
  for (const range of ranges) {
    const [low, high] = range;
    if (Number.isFinite(low) && Number.isFinite(high) && low <= high) valid.push([low, high]);
  }
  valid.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [low, high] of valid) {
    const last = merged[merged.length - 1];
    if (last !== undefined && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else merged.push([low, high]);
  }
  return merged;
}

/** Whether `n` lies in one of the ascending, disjoint `ranges` (binary search). */
function inRanges(ranges: readonly (readonly [number, number])[], n: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const [low, high] = ranges[mid]!;
    if (n < low) hi = mid - 1;
    else if (n > high) lo = mid + 1;
    else return true;
  }
  return false;
}

/** RFC 9002 §6 loss detection for one sender towards one peer, with exactly one timer. */
export class LossDetector<M> {
  /** RFC 9002 §5: the RTT estimate the thresholds and the PTO are computed from. */
  readonly rtt: RttEstimator;

  readonly #maxAckDelay: number;
  readonly #granularity: number;
  readonly #maxPacketThreshold: number;
  readonly #maxTimeThreshold: number;
  readonly #maxRecentlyLost: number;

  /**
   * sent_packets: every transmission sent and neither acknowledged, declared lost nor
   * forgotten. Map iteration follows insertion order, which is ascending transmission order
   * because onPacketSent insists on increasing numbers.
   */
  readonly #sent = new Map<number, Sent<M>>();
  /** Each transmission's place in the order this detector sent them (0, 1, 2...). */
  readonly #ordinal = new WeakMap<Sent<M>, number>();
  #sends = 0;
  #largestAckedOrdinal = -1;
  /** When the first RTT sample was taken; persistent congestion starts after it. */
  #firstRttSampleAt: number | null = null;
  /** Declared lost recently, in the order they were declared (for expiry). */
  readonly #recentlyLost = new Map<number, LostRecord<M>>();

  #largestSent: number | null = null;
  /** largest_acked_packet (null = the RFC's infinite: nothing acknowledged yet). */
  #largestAcked: number | null = null;
  /** time_of_last_ack_eliciting_packet. */
  #timeOfLastAckElicitingPacket = 0;
  /** loss_time (null = the RFC's 0: not set). */
  #lossTime: number | null = null;
  #ptoCount = 0;
  #bytesInFlight = 0;

  #packetThreshold: number;
  #timeThreshold: number;
  #lostCount = 0;
  #spuriousCount = 0;

  constructor(options: LossDetectorOptions = {}) {
    this.#maxAckDelay = options.maxAckDelay ?? MAX_ACK_DELAY_MS;
    this.#granularity = options.granularity ?? kGranularity;
    this.#packetThreshold = options.packetThreshold ?? kPacketThreshold;
    this.#timeThreshold = options.timeThreshold ?? kTimeThreshold;
    this.#maxPacketThreshold = Math.max(
      this.#packetThreshold,
      options.maxPacketThreshold ?? MAX_PACKET_THRESHOLD,
    );
    this.#maxTimeThreshold = Math.max(
      this.#timeThreshold,
      options.maxTimeThreshold ?? MAX_TIME_THRESHOLD,
    );
    this.#maxRecentlyLost = Math.max(0, options.maxRecentlyLost ?? MAX_RECENTLY_LOST);
    this.rtt = new RttEstimator(options.initialRtt ?? kInitialRtt);
  }

  // --- state, for the caller, the congestion controller and the UI --------------------

  /** Bytes of all transmissions in flight. */
  get bytesInFlight(): number {
    return this.#bytesInFlight;
  }

  /** Transmissions in flight (sent, not yet acknowledged, declared lost or forgotten). */
  get inFlightCount(): number {
    return this.#sent.size;
  }

  /** Declared-lost transmissions still remembered for spurious-loss detection. */
  get recentlyLostCount(): number {
    return this.#recentlyLost.size;
  }

  /** The largest transmission acknowledged so far, or null. */
  get largestAcked(): number | null {
    return this.#largestAcked;
  }

  /** Consecutive probe timeouts without an ack that newly acknowledged something. */
  get ptoCount(): number {
    return this.#ptoCount;
  }

  /**
   * Evidence that the path works without an ack of our own (the relay confirming it holds
   * our frames) ends the probe back-off, as an ack would (RFC 9002 §6.2.1).
   */
  resetPtoBackoff(): void {
    this.#ptoCount = 0;
  }

  /** The current packet threshold (starts at 3, rises on spurious losses). */
  get packetThreshold(): number {
    return this.#packetThreshold;
  }

  /** The current time threshold multiplier (starts at 9/8, rises on spurious losses). */
  get timeThreshold(): number {
    return this.#timeThreshold;
  }

  /** Transmissions declared lost so far. */
  get lostCount(): number {
    return this.#lostCount;
  }

  /** Declared losses later shown to be spurious. */
  get spuriousCount(): number {
    return this.#spuriousCount;
  }

  /** The oldest transmissions in flight, ascending (a copy). */
  inFlight(): Sent<M>[] {
    return [...this.#sent.values()];
  }

  // --- A.5 On Sending a Packet ----------------------------------------------------------

  /** Records a data frame just sent. Throws if the transmission number does not increase. */
  onPacketSent(packet: Sent<M>): void {
    const { transmission, sentAt, bytes, meta } = packet;
    if (!Number.isSafeInteger(transmission) || transmission < 0) {
      throw new RangeError(`transmission must be a non-negative safe integer, not ${transmission}`);
    }
    if (this.#largestSent !== null && transmission <= this.#largestSent) {
      throw new RangeError(
        `transmission ${transmission} does not follow ${this.#largestSent}: numbers must increase`,
      );
    }
    if (!Number.isFinite(sentAt)) throw new RangeError(`sentAt must be a time, not ${sentAt}`);
    if (!(Number.isFinite(bytes) && bytes >= 0)) {
      throw new RangeError(`bytes must be a non-negative number, not ${bytes}`);
    }
    this.#largestSent = transmission;
    const record = { transmission, sentAt, bytes, meta };
    this.#sent.set(transmission, record);
    this.#ordinal.set(record, this.#sends++);
    // Every data frame is ack-eliciting and in flight.
    this.#timeOfLastAckElicitingPacket = sentAt;
    this.#bytesInFlight += bytes;
  }

  // --- A.7 On Receiving an Acknowledgment -------------------------------------------------

  /**
   * Processes an ack frame's ranges ([low, high], inclusive; any order, duplicates and
   * numbers never sent are ignored) and its ack delay, converted to ms by the caller.
   */
  onAckReceived(ranges: readonly AckRange[], ackDelayMs: number, now: number): AckResult<M> {
    const result: AckResult<M> = {
      acked: [],
      lost: [],
      rttSample: null,
      spurious: [],
      persistentCongestion: false,
    };
    const acks = normalizeRanges(ranges);
    const last = acks[acks.length - 1];
    if (last === undefined) return result;
    // The frame's largest acknowledged number, which its ack delay refers to.
    const largestInAck = last[1];
    const previousLargestAcked = this.#largestAcked === null ? null : this.#largestAckedOrdinal;

    result.spurious = this.#detectAndRemoveSpuriousLosses(acks);
    const newlyAcked = this.#detectAndRemoveAckedPackets(acks, largestInAck);
    result.acked = newlyAcked;

    // largest_acked_packet = max(largest_acked_packet, ack.largest_acked), counting only
    // numbers this detector sent: a bogus number from the peer must not make everything
    // below it look lost. Only newly acked ones can raise it.
    const largestNewlyAcked = newlyAcked[newlyAcked.length - 1];
    if (
      largestNewlyAcked !== undefined &&
      (this.#largestAcked === null || largestNewlyAcked.transmission > this.#largestAcked)
    ) {
      this.#largestAcked = largestNewlyAcked.transmission;
      this.#largestAckedOrdinal = this.#ordinalOf(largestNewlyAcked);
    }

    if (largestNewlyAcked !== undefined && largestNewlyAcked.transmission === largestInAck) {
      // Update the RTT if the largest acknowledged is newly acked (§5.1).
      const latestRtt = Math.max(0, now - largestNewlyAcked.sentAt);
      this.rtt.update(latestRtt, ackDelayMs, this.#maxAckDelay);
      this.#firstRttSampleAt ??= now;
      result.rttSample = this.rtt.latestRtt;
    }

    // Before looking for new losses, so that they are judged by the raised thresholds.
    for (const packet of result.spurious) this.#onSpuriousLoss(packet, previousLargestAcked, now);
    this.#expireRecentlyLost(now);

    // Nothing newly acknowledged: no loss detection and no PTO reset (A.7 returns early).
    if (newlyAcked.length === 0) return result;

    result.lost = this.#detectAndRemoveLostPackets(now);
    result.persistentCongestion = this.#persistentCongestion(result.lost);
    // Reset pto_count: the peer is demonstrably receiving (no address validation here).
    this.#ptoCount = 0;
    return result;
  }

  /** Removes and returns the in-flight transmissions `acks` covers, ascending. */
  #detectAndRemoveAckedPackets(acks: readonly [number, number][], largestInAck: number) {
    const newlyAcked: Sent<M>[] = [];
    for (const [transmission, packet] of this.#sent) {
      if (transmission > largestInAck) break;
      if (!inRanges(acks, transmission)) continue;
      this.#sent.delete(transmission);
      this.#bytesInFlight -= packet.bytes;
      newlyAcked.push(packet);
    }
    return newlyAcked;
  }

  /** Removes and returns the remembered lost transmissions `acks` covers. */
  #detectAndRemoveSpuriousLosses(acks: readonly [number, number][]): Sent<M>[] {
    const spurious: Sent<M>[] = [];
    if (this.#recentlyLost.size === 0) return spurious;
    for (const [transmission, record] of this.#recentlyLost) {
      if (!inRanges(acks, transmission)) continue;
      this.#recentlyLost.delete(transmission);
      spurious.push(record.sent);
    }
    return spurious.sort((a, b) => a.transmission - b.transmission);
  }

  /**
   * A transmission declared lost arrived after all. Raise the reordering tolerance so that
   * it would not have been declared lost (Chromium's adaptive thresholds; RFC 8985 §6.2):
   *   - packet threshold: more than the number of later transmissions acknowledged before
   *     this one's ack came (the reordering distance);
   *   - time threshold: more than the time this one's ack took, in units of the RTT that
   *     the loss delay is computed from, rounded up to the next 1/8.
   */
  #onSpuriousLoss(packet: Sent<M>, largestAckedBefore: number | null, now: number): void {
    this.#spuriousCount++;
    if (largestAckedBefore !== null) {
      const distance = largestAckedBefore - this.#ordinalOf(packet);
      this.#packetThreshold = Math.min(
        this.#maxPacketThreshold,
        Math.max(this.#packetThreshold, distance + 1),
      );
    }
    const rttBasis = Math.max(this.rtt.latestRtt, this.rtt.smoothedRtt);
    if (rttBasis > 0) {
      const needed = (now - packet.sentAt) / rttBasis;
      const next = (Math.floor(needed * 8) + 1) / 8;
      this.#timeThreshold = Math.min(this.#maxTimeThreshold, Math.max(this.#timeThreshold, next));
    }
  }

  // --- A.10 Detecting Lost Packets ------------------------------------------------------

  /**
   * Declares lost every in-flight transmission at or below the largest acknowledged that is
   * kPacketThreshold behind it or was sent longer than the loss delay ago, and sets
   * loss_time for the earliest one that is not lost yet.
   */
  #detectAndRemoveLostPackets(now: number): Sent<M>[] {
    const lost: Sent<M>[] = [];
    this.#lossTime = null;
    const largestAcked = this.#largestAcked;
    if (largestAcked === null) return lost;
    const packetThresholdOrdinal = this.#largestAckedOrdinal - this.#packetThreshold;
    const lossDelay = this.#lossDelay();
    // Packets sent before this time are deemed lost.
    const lostSendTime = now - lossDelay;
    for (const [transmission, unacked] of this.#sent) {
      // Ascending order: everything after this is above the largest acknowledged.
      if (transmission > largestAcked) break;
      // Mark packet as lost, or set time when it should be marked. (The equality marks
      // packets lost when loss_delay = 0.)
      if (unacked.sentAt <= lostSendTime || this.#ordinalOf(unacked) <= packetThresholdOrdinal) {
        this.#sent.delete(transmission);
        this.#bytesInFlight -= unacked.bytes;
        lost.push(unacked);
        this.#remember(unacked, now);
      } else {
        const when = unacked.sentAt + lossDelay;
        this.#lossTime = this.#lossTime === null ? when : Math.min(this.#lossTime, when);
      }
    }
    this.#lostCount += lost.length;
    return lost;
  }

  #ordinalOf(packet: Sent<M>): number {
    return this.#ordinal.get(packet) ?? -1;
  }

  /**
   * RFC 9002 §7.6.2: whether `lost` (ascending) holds two packets sent after the first RTT
   * sample, more than the persistent congestion duration apart, with every packet sent
   * between them lost in the same batch (consecutive in the order of sending). Takes
   * min_rtt afresh when it does (§5.2).
   */
  #persistentCongestion(lost: readonly Sent<M>[]): boolean {
    const firstSampleAt = this.#firstRttSampleAt;
    if (firstSampleAt === null || lost.length < 2) return false;
    const duration =
      this.rtt.pto(this.#maxAckDelay, this.#granularity) * kPersistentCongestionThreshold;
    let start: Sent<M> | null = null;
    let previous = -1;
    for (const packet of lost) {
      const ordinal = this.#ordinalOf(packet);
      if (packet.sentAt <= firstSampleAt) {
        start = null;
      } else if (start === null || ordinal !== previous + 1) {
        start = packet;
      } else if (packet.sentAt - start.sentAt > duration) {
        this.rtt.onPersistentCongestion();
        return true;
      }
      previous = ordinal;
    }
    return false;
  }

  /** kTimeThreshold × max(latest_rtt, smoothed_rtt), at least kGranularity. */
  #lossDelay(): number {
    const rtt = Math.max(this.rtt.latestRtt, this.rtt.smoothedRtt);
    return Math.max(this.#timeThreshold * rtt, this.#granularity);
  }

  #remember(packet: Sent<M>, now: number): void {
    if (this.#maxRecentlyLost === 0) return;
    this.#recentlyLost.set(packet.transmission, { sent: packet, declaredAt: now });
    while (this.#recentlyLost.size > this.#maxRecentlyLost) {
      const oldest = this.#recentlyLost.keys().next();
      if (oldest.done === true) break;
      this.#recentlyLost.delete(oldest.value);
    }
  }

  /** Forgets declared-lost transmissions older than RECENTLY_LOST_PTOS probe timeouts. */
  #expireRecentlyLost(now: number): void {
    const horizon = now - RECENTLY_LOST_PTOS * this.rtt.pto(this.#maxAckDelay, this.#granularity);
    // Map order is the order they were declared lost in, so expiry stops at the first
    // record young enough to keep.
    for (const [transmission, record] of this.#recentlyLost) {
      if (record.declaredAt >= horizon) break;
      this.#recentlyLost.delete(transmission);
    }
  }

  // --- A.8 Setting the Loss Detection Timer ----------------------------------------------

  /** GetLossTimeAndSpace, with one space: the earliest loss_time, or null. */
  #getLossTime(): number | null {
    return this.#lossTime;
  }

  /** GetPtoTimeAndSpace: last ack-eliciting send + PTO × 2^pto_count (max_ack_delay included). */
  #getPtoTime(): number {
    const duration = this.rtt.pto(this.#maxAckDelay, this.#granularity) * 2 ** this.#ptoCount;
    return this.#timeOfLastAckElicitingPacket + duration;
  }

  /**
   * SetLossDetectionTimer, made pure: the absolute time (ms) at which the one loss detection
   * timer should fire, or null when it should be cancelled (nothing in flight). Ask again
   * after every call that changes state, and re-arm the timer with the answer.
   */
  lossDetectionTimer(): number | null {
    const earliestLossTime = this.#getLossTime();
    if (earliestLossTime !== null) return earliestLossTime;
    if (this.#sent.size === 0) return null;
    return this.#getPtoTime();
  }

  // --- A.9 On Timeout ---------------------------------------------------------------------

  /**
   * The loss detection timer fired. Declares time-threshold losses if a loss time expired;
   * otherwise the probe timeout expired: returns the oldest one or two transmissions in
   * flight to re-send as probes and doubles the next timeout. A call before the timer is due
   * (a stale timer) changes nothing and returns `{ kind: 'none' }`.
   */
  onLossDetectionTimeout(now: number): TimeoutResult<M> {
    const earliestLossTime = this.#getLossTime();
    if (earliestLossTime !== null) {
      if (now < earliestLossTime) return { kind: 'none' };
      // Time threshold loss detection.
      const lost = this.#detectAndRemoveLostPackets(now);
      const persistentCongestion = this.#persistentCongestion(lost);
      this.#expireRecentlyLost(now);
      return { kind: 'loss', lost, persistentCongestion };
    }
    if (this.#sent.size === 0 || now < this.#getPtoTime()) return { kind: 'none' };
    // PTO: send one or two ack-eliciting probes, re-sending the oldest data in flight.
    const probes: Sent<M>[] = [];
    for (const packet of this.#sent.values()) {
      probes.push(packet);
      if (probes.length === 2) break;
    }
    this.#ptoCount++;
    this.#expireRecentlyLost(now);
    return { kind: 'probe', probes };
  }

  // --- Cancellation ---------------------------------------------------------------------

  /**
   * Drops the transmissions `predicate` selects (e.g. those of a cancelled message) without
   * declaring them lost: they leave the bytes in flight, and a later ack for them is
   * ignored. Returns the in-flight ones removed, ascending.
   */
  forget(predicate: (packet: Sent<M>) => boolean): Sent<M>[] {
    const removed: Sent<M>[] = [];
    for (const [transmission, packet] of this.#sent) {
      if (!predicate(packet)) continue;
      this.#sent.delete(transmission);
      this.#bytesInFlight -= packet.bytes;
      removed.push(packet);
    }
    for (const [transmission, record] of this.#recentlyLost) {
      if (predicate(record.sent)) this.#recentlyLost.delete(transmission);
    }
    if (removed.length > 0) this.#recomputeLossTime();
    return removed;
  }

  /** loss_time for what is left in flight, with the current loss delay. */
  #recomputeLossTime(): void {
    if (this.#lossTime === null) return;
    this.#lossTime = null;
    const largestAcked = this.#largestAcked;
    if (largestAcked === null) return;
    const lossDelay = this.#lossDelay();
    for (const [transmission, unacked] of this.#sent) {
      if (transmission > largestAcked) break;
      const when = unacked.sentAt + lossDelay;
      this.#lossTime = this.#lossTime === null ? when : Math.min(this.#lossTime, when);
    }
  }
}
