// Congestion and flow control for the transport. Pure: no I/O, no timers, no clock; the
// caller passes times in milliseconds.
//
// Why delay and not loss: the relay drops up to 10% of frames at random on purpose. A
// loss-based controller (Reno, CUBIC) halves its window on each of those losses and ends
// up near the Mathis limit, MSS / (RTT * sqrt(p)), a small fraction of the link. Queueing
// delay is the signal that only congestion produces, so this controller follows TCP Vegas
// (with ideas from HyStart++, RFC 9406, and RFC 9002):
// - Bytes in flight have one owner, loss detection: the caller reports them with every
//   event, and nothing here counts them (a segment forgotten, parked or requeued leaves
//   them there, never here). Events name the packet by its transmission number, which
//   grows with every send; rounds and recovery are marked by those numbers, not by bytes.
// - Window in bytes. Once per round trip (a round ends when a packet sent after it began is
//   acknowledged, Vegas's beg_snd_nxt, and it has had 3 RTT samples) it
//   takes the round's smallest RTT sample (which filters jitter and ack compression) and
//   estimates this flow's bytes queued at the bottleneck: queue = cwnd * (1 - minRtt/rtt).
// - RTT samples come net of the delay the receiver reports between a segment's arrival and
//   its ack (the caller subtracts it): a receiver storing a burst and writing it to disk
//   delays its acks without any queue on the path.
// - minRtt (Vegas's baseRTT) is this controller's own, and it expires: a path whose delay
//   rose (a longer route, a channel delay raised at run time) must not read as a queue
//   forever, which would hold the window at its floor. A sample within the slow-start
//   threshold of minRtt confirms it; after MIN_RTT_WINDOW_MS without one, the controller
//   probes as BBR's ProbeRTT does: the window drops to its floor, which drains this flow's
//   own queue, for PROBE_RTT_MS and at least a round of packets sent meanwhile. If their
//   smallest RTT is still beyond the threshold, the path changed: that becomes minRtt and
//   slow start begins again from the window held before the probe. Otherwise minRtt stands
//   (another flow's queue does not ratchet it up) and the window is given back.
// - Slow start grows the window by the bytes acknowledged and ends when the smallest of
//   the last 8 RTT samples rises a threshold above minRtt (minRtt/8 clamped to 4..16 ms,
//   as HyStart++), not on loss; on exit the window drops to cwnd * minRtt / rtt + ALPHA,
//   the pipe plus the band's lower edge.
// - Congestion avoidance keeps the queue between ALPHA and BETA segments: below ALPHA it
//   adds one segment per round (after 3 such rounds in a row, doubling each round, capped
//   at cwnd/8, so that a freed-up path is filled in a few rounds); above BETA it removes
//   half the excess, at least one segment and at most cwnd/8 per round.
// - Stalls. Strata's frames ride on WebSocket, i.e. TCP: a packet lost on the path reaches
//   Strata as a head-of-line stall while TCP repairs it (a fast retransmit, a 200 ms RTO),
//   never as a lost frame. A window of the pipe plus the band then runs dry in every stall,
//   and the stalled samples read as a queue: with 2% loss per link, files went at 0.6x
//   plain TCP's speed. So each round notes the spread of its samples (largest - smallest,
//   remembered as a maximum that decays by 1/16 per round; slow start's bursts do not
//   count) and, beyond the slow-start threshold, the band moves up by that much time at the
//   round's rate: enough window to keep sending through a stall, and no cut for its delay.
//   A smooth path (an ack-clocked flow, a queue building slowly) has a spread below the
//   threshold and keeps the band as it is.
// - Loss alone never shrinks the window. A loss while the queue is far above the band
//   (2 * BETA, i.e. a drop-tail buffer overflowing) cuts it mildly (x 7/8), once per
//   recovery period (until a packet sent after the cut is acknowledged, RFC 9002 §7.3.2). So
//   does a loss rate beyond anything the relay causes (> 20% over 128 segments), which
//   catches buffers too shallow to show delay (and stops growth until a batch is clean).
//   Persistent congestion (RFC 9002 §7.6, reported by the caller) collapses the window to
//   the minimum, forgets minRtt and restarts slow start.
// - The window grows only while it is used (RFC 9002 §7.8), so an idle or app-limited
//   sender does not bank a window it never tested.
// - Flow control: the caller reports the bytes its socket has buffered but not yet
//   written; canSend() refuses while that would pass socketBufferLimit. The memory a
//   transfer holds is then at most maxWindow (unacknowledged data kept for retransmission)
//   + socketBufferLimit, whatever the size of the file.
// Limits: like every Vegas, it yields to loss-based flows that fill the queue, a flow that
// starts on an already queued path takes a somewhat larger share (its minRtt includes the
// queue), and delay jitter larger than the band reads as queueing (the per-round minimum
// mostly absorbs it).
import { checkSegmentSize } from './segments.ts';

/** Default window floor, in segments (RFC 9002 uses 2; 4 keeps acks flowing under loss). */
export const MIN_WINDOW_SEGMENTS = 4;
/** Default first window, in segments (RFC 9002 §7.2: 10). */
export const INITIAL_WINDOW_SEGMENTS = 10;
/** Default window ceiling in bytes. */
export const DEFAULT_MAX_WINDOW = 16 * 1024 * 1024;
/** Default limit on bytes buffered by the local socket before canSend() refuses. */
export const DEFAULT_SOCKET_BUFFER_LIMIT = 256 * 1024;
/** The Vegas band: segments the flow aims to keep queued at the bottleneck. */
export const ALPHA_SEGMENTS = 2;
export const BETA_SEGMENTS = 4;
/** A loss counts as congestion when the queue estimate is above this many segments. */
export const LOSS_QUEUE_SEGMENTS = 2 * BETA_SEGMENTS;
/** The mild cut applied when a loss is a congestion signal. */
export const LOSS_REDUCTION = 7 / 8;
/** Above BETA, each round removes this share of the excess queue... */
const DECREASE_GAIN = 1 / 2;
/** ...but never more than this share of the window. */
const MAX_DECREASE_FRACTION = 1 / 8;
/** A round needs this many RTT samples to end (as Linux Vegas); shorter ones run on. */
const MIN_ROUND_SAMPLES = 3;
/** Rounds under ALPHA in a row before the increase starts doubling (the path freed up). */
const PROBE_CALM_ROUNDS = 3;
/** Accelerated increases are capped at this share of the window per round. */
const MAX_PROBE_FRACTION = 1 / 8;
/**
 * HyStart++ (RFC 9406)-like delay check in slow start: the smallest of the last this-many
 * RTT samples against minRtt plus a threshold of minRtt/8 clamped to 4..16 ms.
 */
const HYSTART_MIN_SAMPLES = 8;
const HYSTART_RTT_DIVISOR = 8;
const HYSTART_MIN_THRESHOLD_MS = 4;
const HYSTART_MAX_THRESHOLD_MS = 16;
/** Loss above this share cannot be the relay's random loss (at most 10%): congestion. */
export const EXCESS_LOSS_FRACTION = 0.2;
/** Bytes, in segments, over which that share is measured (one evaluation per batch). */
const EXCESS_LOSS_SAMPLE_SEGMENTS = 128;
/** Delay evidence older than this many smoothed RTTs does not turn a loss into congestion. */
const STALE_DELAY_RTTS = 2;
/** Per round, the remembered RTT spread decays by this factor (unless a round renews it). */
const STALL_DECAY = 15 / 16;
/**
 * The most the stall allowance adds to the window: a 200 ms repair (Linux's minimum RTO) on
 * a 100 Mbit/s link. Beyond it, the queue costs more than the stall it bridges: a text waits
 * behind it, and a sender killed mid-file sends all of it again (on loopback, a scheduling
 * hiccup of a loaded machine reads as a long stall at a high rate).
 */
const MAX_STALL_ALLOWANCE = 4 * 1024 * 1024;
/** minRtt expires after this long without a sample confirming it (BBR's min_rtt window). */
export const MIN_RTT_WINDOW_MS = 10_000;
/** The shortest probe for a new minRtt, at the floor window (BBR's ProbeRTT duration). */
export const PROBE_RTT_MS = 200;

export type CongestionState = 'slow-start' | 'avoidance' | 'recovery';

/** A packet as congestion control sees it: its transmission number and its size. */
export interface CcPacket {
  /** Grows with every packet sent (retransmissions get new numbers). */
  readonly transmission: number;
  readonly bytes: number;
}

/** What an acknowledgement tells congestion control, besides the packet. */
export interface AckSample {
  /** Bytes in flight once this ack is processed, as loss detection counts them. */
  bytesInFlight: number;
  /** This packet's RTT sample, ms (null when it gives none). */
  rttSample: number | null;
  /** The RTT estimator's smoothed RTT after that sample, ms. */
  smoothedRtt: number;
  /** The time, ms. */
  now: number;
}

export interface CongestionOptions {
  /** Payload bytes per segment, as `checkSegmentSize` in segments.ts allows. */
  segmentSize: number;
  /** Ceiling of the window, bytes. Default DEFAULT_MAX_WINDOW. */
  maxWindow?: number;
  /** Floor of the window, bytes (at least one segment). Default MIN_WINDOW_SEGMENTS segments. */
  minWindow?: number;
  /** First window, bytes, clamped to [minWindow, maxWindow]. Default INITIAL_WINDOW_SEGMENTS. */
  initialWindow?: number;
  /** Socket-buffered bytes beyond which canSend() refuses (at least one segment). */
  socketBufferLimit?: number;
}

export interface CongestionStats {
  bytesSent: number;
  bytesAcked: number;
  bytesLost: number;
  /** Calls to onLost. */
  lossEvents: number;
  /** Losses that left the window alone (random loss, or already in recovery). */
  lossesIgnored: number;
  /** Window cuts for loss with queueing delay, or for loss beyond the relay's own. */
  lossReductions: number;
  /** Rounds in which a queue above BETA shrank the window. */
  delayDecreases: number;
  slowStartExits: number;
  persistentCongestions: number;
  /** Probes for the minimum RTT that found the path's own delay had risen. */
  minRttRaises: number;
  rounds: number;
}

function isCount(n: number): boolean {
  return Number.isFinite(n) && n >= 0;
}

export class CongestionController {
  readonly segmentSize: number;
  readonly minWindow: number;
  readonly maxWindow: number;
  readonly initialWindow: number;
  readonly socketBufferLimit: number;
  private readonly alpha: number;
  private readonly beta: number;
  private readonly lossQueue: number;

  private cwnd: number;
  private inSlowStart = true;
  /** In recovery until a packet numbered above this is acknowledged; null when not. */
  private recoveryEnd: number | null = null;
  /** Consecutive rounds that ended with the queue under ALPHA and the window in use. */
  private underRounds = 0;
  /** The largest transmission number sent so far. */
  private largestSent = -Infinity;
  /** Bytes in flight as last reported by their owner. */
  private reportedInFlight = 0;
  private readonly counters: CongestionStats = {
    bytesSent: 0,
    bytesAcked: 0,
    bytesLost: 0,
    lossEvents: 0,
    lossesIgnored: 0,
    lossReductions: 0,
    delayDecreases: 0,
    slowStartExits: 0,
    persistentCongestions: 0,
    minRttRaises: 0,
    rounds: 0,
  };

  // The current round: it ends with the ack of a packet numbered above roundEnd.
  private roundEnd = -Infinity;
  private roundMinRtt = Infinity;
  private roundMaxRtt = 0;
  private roundSamples = 0;
  private roundMaxInFlight = 0;
  private lastRoundMaxInFlight = 0;
  /** The last HYSTART_MIN_SAMPLES RTT samples (a ring), for slow start's delay check. */
  private readonly recent: number[] = [];
  private recentNext = 0;

  // Latest delay evidence. minRtt is 0 until the first sample.
  private minRtt = 0;
  /** The recent rounds' largest spread of RTT samples (a decaying maximum), ms. */
  private stall = 0;
  /** When a sample last confirmed minRtt. */
  private minRttAt = -Infinity;
  /** A probe for a new minRtt under way: the window is held at its floor meanwhile. */
  private probe: {
    startedAt: number;
    /** Only packets numbered above this were sent during the probe. */
    after: number;
    min: number;
    samples: number;
    /** The window to give back when the probe ends. */
    window: number;
  } | null = null;
  private smoothedRtt = 0;
  private queue = 0;
  private queueAt = -Infinity;

  // Loss share, measured in batches.
  private batchAcked = 0;
  private batchLost = 0;
  /** The last complete batch lost more than EXCESS_LOSS_FRACTION. */
  private lossy = false;

  constructor(options: CongestionOptions) {
    const s = options.segmentSize;
    checkSegmentSize(s);
    this.segmentSize = s;
    this.minWindow = options.minWindow ?? MIN_WINDOW_SEGMENTS * s;
    this.maxWindow = options.maxWindow ?? Math.max(DEFAULT_MAX_WINDOW, this.minWindow);
    this.socketBufferLimit =
      options.socketBufferLimit ?? Math.max(DEFAULT_SOCKET_BUFFER_LIMIT, MIN_WINDOW_SEGMENTS * s);
    if (!Number.isFinite(this.minWindow) || this.minWindow < s) {
      throw new RangeError('minWindow must be at least one segment');
    }
    if (!Number.isFinite(this.maxWindow) || this.maxWindow < this.minWindow) {
      throw new RangeError('maxWindow must be finite and at least minWindow');
    }
    if (!Number.isFinite(this.socketBufferLimit) || this.socketBufferLimit < s) {
      throw new RangeError('socketBufferLimit must be at least one segment');
    }
    const initial = options.initialWindow ?? INITIAL_WINDOW_SEGMENTS * s;
    if (!Number.isFinite(initial)) throw new RangeError('initialWindow must be finite');
    this.initialWindow = this.clamp(initial);
    this.cwnd = this.initialWindow;
    this.alpha = ALPHA_SEGMENTS * s;
    this.beta = BETA_SEGMENTS * s;
    this.lossQueue = LOSS_QUEUE_SEGMENTS * s;
  }

  /** The congestion window, bytes (its floor while probing for a new minimum RTT). */
  get window(): number {
    return this.probe === null ? this.cwnd : this.minWindow;
  }

  /** This controller's minimum RTT, ms (0 before the first sample); it expires. */
  get baseRtt(): number {
    return this.minRtt;
  }

  /** Whether the window is held at its floor to measure the path's minimum RTT again. */
  get probingRtt(): boolean {
    return this.probe !== null;
  }

  get state(): CongestionState {
    if (this.recoveryEnd !== null) return 'recovery';
    return this.inSlowStart ? 'slow-start' : 'avoidance';
  }

  /** Latest estimate of this flow's bytes queued at the bottleneck. */
  get queueEstimate(): number {
    return this.queue;
  }

  get stats(): CongestionStats {
    return { ...this.counters };
  }

  /**
   * May a packet of `bytes` (default one segment) be sent now? No when it would take the
   * bytes in flight past the window, or the socket's unwritten bytes past its limit.
   */
  canSend(bytesInFlight: number, socketBuffered: number, bytes = this.segmentSize): boolean {
    return this.sendAllowance(bytesInFlight, socketBuffered) >= bytes;
  }

  /** Bytes that may be sent now: the smaller of the window's room and the socket's. */
  sendAllowance(bytesInFlight: number, socketBuffered: number): number {
    return Math.max(
      0,
      Math.min(this.window - bytesInFlight, this.socketBufferLimit - socketBuffered),
    );
  }

  /**
   * A packet (new data or a retransmission) went to the socket; `bytesInFlight` counts it,
   * as loss detection does.
   */
  onPacketSent(packet: CcPacket, bytesInFlight: number): void {
    const { bytes, transmission } = checkPacket(packet);
    this.counters.bytesSent += bytes;
    this.largestSent = Math.max(this.largestSent, transmission);
    this.report(bytesInFlight);
  }

  /** A packet was acknowledged. */
  onAcked(packet: CcPacket, ack: AckSample): void {
    const { bytes, transmission } = checkPacket(packet);
    const { rttSample, smoothedRtt, now } = ack;
    this.report(ack.bytesInFlight);
    this.counters.bytesAcked += bytes;
    this.batchAcked += bytes;
    // Recovery ends with the first ack of a packet sent after it began.
    if (this.recoveryEnd !== null && transmission > this.recoveryEnd) this.recoveryEnd = null;
    if (Number.isFinite(smoothedRtt) && smoothedRtt > 0) this.smoothedRtt = smoothedRtt;
    if (rttSample !== null && Number.isFinite(rttSample) && rttSample > 0) {
      this.sampleMinRtt(transmission, rttSample, now);
      this.roundMinRtt = Math.min(this.roundMinRtt, rttSample);
      this.roundMaxRtt = Math.max(this.roundMaxRtt, rttSample);
      this.roundSamples++;
      if (this.roundSamples >= HYSTART_MIN_SAMPLES) this.measureQueue(now);
      this.recent[this.recentNext] = rttSample;
      this.recentNext = (this.recentNext + 1) % HYSTART_MIN_SAMPLES;
    }

    if (this.probe === null) this.expireMinRtt(now);
    else this.endProbe(now);

    if (this.recoveryEnd === null && this.inSlowStart && this.probe === null) {
      const used = Math.max(this.roundMaxInFlight, this.lastRoundMaxInFlight);
      if (2 * used >= this.cwnd) this.cwnd = this.clamp(this.cwnd + bytes);
      const recentMin = this.recentMinRtt();
      if (this.delayAboveThreshold(recentMin)) {
        this.exitSlowStart(recentMin);
      } else if (this.cwnd >= this.maxWindow) {
        this.inSlowStart = false;
        this.counters.slowStartExits++;
      }
    }
    if (transmission > this.roundEnd && this.roundSamples >= MIN_ROUND_SAMPLES) {
      this.endRound(now);
    }
    this.afterOutcome();
  }

  /**
   * A packet was declared lost at `now` (ms); `bytesInFlight` no longer counts it, as loss
   * detection does.
   */
  onLost(packet: CcPacket, bytesInFlight: number, now: number): void {
    const { bytes, transmission } = checkPacket(packet);
    this.report(bytesInFlight);
    this.counters.bytesLost += bytes;
    this.counters.lossEvents++;
    this.batchLost += bytes;
    // A packet sent after the cut: the recovery period is over (RFC 9002 §7.3.2).
    if (this.recoveryEnd !== null && transmission > this.recoveryEnd) this.recoveryEnd = null;
    const queueFresh =
      this.smoothedRtt > 0 && now - this.queueAt <= STALE_DELAY_RTTS * this.smoothedRtt;
    if (this.recoveryEnd === null && queueFresh && this.queue > this.lossQueue) {
      this.cut();
    } else {
      this.counters.lossesIgnored++;
    }
    this.afterOutcome();
  }

  /**
   * Everything in flight was lost over a period longer than the persistent-congestion
   * duration (RFC 9002 §7.6): back to the minimum window and slow start, and the minimum
   * RTT is measured afresh (RFC 9002 §5.2), as the path may have changed.
   */
  onPersistentCongestion(): void {
    this.counters.persistentCongestions++;
    this.cwnd = this.minWindow;
    this.minRtt = 0;
    this.minRttAt = -Infinity;
    this.probe = null;
    this.forgetPath();
    this.startRound();
  }

  /** The path changed: what was learnt of its delays goes, and slow start finds its pipe. */
  private forgetPath(): void {
    this.stall = 0;
    this.inSlowStart = true;
    this.recoveryEnd = null;
    this.underRounds = 0;
    this.queue = 0;
    this.queueAt = -Infinity;
    this.recent.length = 0;
    this.recentNext = 0;
  }

  /** A sample within this of minRtt confirms it; also slow start's exit threshold. */
  private delayThreshold(): number {
    return Math.min(
      HYSTART_MAX_THRESHOLD_MS,
      Math.max(HYSTART_MIN_THRESHOLD_MS, this.minRtt / HYSTART_RTT_DIVISOR),
    );
  }

  private sampleMinRtt(transmission: number, rtt: number, now: number): void {
    if (this.minRtt === 0 || rtt < this.minRtt) {
      this.minRtt = rtt;
      this.minRttAt = now;
    } else if (rtt <= this.minRtt + this.delayThreshold()) {
      this.minRttAt = now;
    }
    if (this.probe !== null && transmission > this.probe.after) {
      this.probe.min = Math.min(this.probe.min, rtt);
      this.probe.samples++;
    }
  }

  /** No sample has confirmed minRtt for MIN_RTT_WINDOW_MS: probe for the path's own. */
  private expireMinRtt(now: number): void {
    if (this.minRtt === 0 || now - this.minRttAt <= MIN_RTT_WINDOW_MS) return;
    this.probe = {
      startedAt: now,
      after: this.largestSent,
      min: Infinity,
      samples: 0,
      window: this.cwnd,
    };
  }

  private endProbe(now: number): void {
    const probe = this.probe;
    if (probe === null) return;
    if (probe.samples < MIN_ROUND_SAMPLES || now - probe.startedAt < PROBE_RTT_MS) return;
    this.probe = null;
    this.cwnd = probe.window;
    this.minRttAt = now;
    if (probe.min > this.minRtt + this.delayThreshold()) {
      // The path's own delay rose: a new minimum, and slow start to find the new pipe.
      this.counters.minRttRaises++;
      this.minRtt = probe.min;
      this.forgetPath();
    }
    this.startRound();
  }

  private report(bytesInFlight: number): void {
    if (!isCount(bytesInFlight)) {
      throw new RangeError('bytesInFlight must be a non-negative number');
    }
    this.reportedInFlight = bytesInFlight;
    this.roundMaxInFlight = Math.max(this.roundMaxInFlight, bytesInFlight);
  }

  private clamp(window: number): number {
    return Math.min(this.maxWindow, Math.max(this.minWindow, window));
  }

  private measureQueue(now: number): void {
    if (this.minRtt <= 0 || this.roundSamples === 0) return;
    const ratio = Math.min(1, this.minRtt / this.roundMinRtt);
    this.queue = this.cwnd * (1 - ratio);
    this.queueAt = now;
  }

  /** The smallest of the last HYSTART_MIN_SAMPLES samples; Infinity until there are that many. */
  private recentMinRtt(): number {
    return this.recent.length < HYSTART_MIN_SAMPLES ? Infinity : Math.min(...this.recent);
  }

  private delayAboveThreshold(rtt: number): boolean {
    if (this.minRtt <= 0 || !Number.isFinite(rtt)) return false;
    return rtt >= this.minRtt + this.delayThreshold();
  }

  private exitSlowStart(rtt: number): void {
    this.inSlowStart = false;
    this.stall = 0;
    this.counters.slowStartExits++;
    // Keep the pipe (cwnd * minRtt / rtt) plus the band's lower edge; drop the queue.
    const pipe = (this.cwnd * this.minRtt) / rtt;
    this.cwnd = this.clamp(Math.min(this.cwnd, pipe + this.alpha));
    this.underRounds = 0;
  }

  /** The mild cut for a loss that is a congestion signal; starts a recovery period. */
  private cut(): void {
    this.counters.lossReductions++;
    if (this.inSlowStart) {
      this.inSlowStart = false;
      this.counters.slowStartExits++;
    }
    // While probing, the cut applies to the window the probe gives back.
    if (this.probe !== null) this.probe.window = this.clamp(this.probe.window * LOSS_REDUCTION);
    else this.cwnd = this.clamp(this.cwnd * LOSS_REDUCTION);
    this.recoveryEnd = this.largestSent;
    this.underRounds = 0;
  }

  /** Bookkeeping after an ack or a loss: the loss share, measured in batches. */
  private afterOutcome(): void {
    const batch = this.batchAcked + this.batchLost;
    if (batch >= EXCESS_LOSS_SAMPLE_SEGMENTS * this.segmentSize) {
      this.lossy = this.batchLost > EXCESS_LOSS_FRACTION * batch;
      this.batchAcked = 0;
      this.batchLost = 0;
      if (this.lossy && this.recoveryEnd === null) this.cut();
    }
  }

  private endRound(now: number): void {
    this.counters.rounds++;
    // Slow start's bursts spread a round's samples by themselves: only avoidance counts.
    if (this.roundSamples >= 2 && !this.inSlowStart && this.probe === null) {
      this.stall = Math.max(this.roundMaxRtt - this.roundMinRtt, this.stall * STALL_DECAY);
    }
    if (this.minRtt > 0) {
      this.measureQueue(now);
      if (this.recoveryEnd === null && this.probe === null) {
        if (this.inSlowStart) {
          if (this.delayAboveThreshold(this.roundMinRtt)) this.exitSlowStart(this.roundMinRtt);
        } else {
          this.avoid();
        }
      }
    }
    this.startRound();
  }

  /** Vegas: steer the queue into [alpha, beta] once per round. */
  private avoid(): void {
    const s = this.segmentSize;
    const extra = this.stallAllowance();
    const alpha = this.alpha + extra;
    const beta = this.beta + extra;
    if (this.queue > beta) {
      const excess = (this.queue - beta) * DECREASE_GAIN;
      const decrease = Math.min(Math.max(excess, s), this.cwnd * MAX_DECREASE_FRACTION);
      this.cwnd = this.clamp(this.cwnd - decrease);
      this.counters.delayDecreases++;
      this.underRounds = 0;
    } else if (this.queue < alpha && this.roundMaxInFlight + s > this.cwnd && !this.lossy) {
      this.underRounds++;
      const doublings = Math.max(0, this.underRounds - PROBE_CALM_ROUNDS);
      const increase = Math.min(s * 2 ** doublings, Math.max(s, this.cwnd * MAX_PROBE_FRACTION));
      this.cwnd = this.clamp(this.cwnd + increase);
    } else {
      this.underRounds = 0;
    }
  }

  /**
   * Bytes the band moves up by on a path whose delivery stalls (a reliable layer below
   * repairing its own losses): the stall beyond the slow-start threshold, at this round's
   * rate. Enough window to keep sending through a stall, and no cut for the delay it adds.
   */
  private stallAllowance(): number {
    if (!Number.isFinite(this.roundMinRtt)) return 0;
    const stallMs = this.stall - this.delayThreshold();
    if (stallMs <= 0) return 0;
    return Math.min((stallMs * this.cwnd) / this.roundMinRtt, MAX_STALL_ALLOWANCE);
  }

  private startRound(): void {
    this.roundEnd = this.largestSent;
    this.roundMinRtt = Infinity;
    this.roundMaxRtt = 0;
    this.roundSamples = 0;
    this.lastRoundMaxInFlight = this.roundMaxInFlight;
    this.roundMaxInFlight = this.reportedInFlight;
  }
}

function checkPacket(packet: CcPacket): CcPacket {
  if (!isCount(packet.bytes)) throw new RangeError('bytes must be a non-negative number');
  if (!Number.isFinite(packet.transmission)) {
    throw new RangeError('transmission must be a number');
  }
  return packet;
}
