import { describe, expect, it } from 'vitest';
import type { AckRange } from '../../shared/protocol/index.ts';
import { seededRandom } from '../../shared/random.ts';
import { AckScheduler } from './ack-ranges.ts';
import { TimeQueue } from '../../shared/time-queue.ts';
import {
  LossDetector,
  MAX_PACKET_THRESHOLD,
  MAX_TIME_THRESHOLD,
  kPacketThreshold,
  kTimeThreshold,
  type LossDetectorOptions,
  type Sent,
} from './loss-detection.ts';

interface Meta {
  segment: number;
}

const BYTES = 1000;

function detector(options: LossDetectorOptions = {}) {
  return new LossDetector<Meta>(options);
}

function send(d: LossDetector<Meta>, transmission: number, sentAt: number, segment = transmission) {
  d.onPacketSent({ transmission, sentAt, bytes: BYTES, meta: { segment } });
}

const numbers = (list: readonly Sent<Meta>[]) => list.map((s) => s.transmission);

describe('LossDetector: acknowledgements in order', () => {
  it('acknowledges, samples the RTT from the largest and empties the flight', () => {
    const d = detector();
    for (let n = 0; n < 10; n++) send(d, n, n);
    expect(d.inFlightCount).toBe(10);
    expect(d.bytesInFlight).toBe(10 * BYTES);

    const first = d.onAckReceived([[0, 4]], 0, 50);
    expect(numbers(first.acked)).toEqual([0, 1, 2, 3, 4]);
    expect(first.acked[2]!.meta).toEqual({ segment: 2 });
    expect(first.lost).toEqual([]);
    expect(first.spurious).toEqual([]);
    expect(first.rttSample).toBe(46); // 50 - sentAt of 4
    expect(d.rtt.smoothedRtt).toBe(46);
    expect(d.largestAcked).toBe(4);
    expect(d.bytesInFlight).toBe(5 * BYTES);

    const second = d.onAckReceived([[0, 9]], 0, 60);
    expect(numbers(second.acked)).toEqual([5, 6, 7, 8, 9]);
    expect(second.rttSample).toBe(51);
    expect(d.inFlightCount).toBe(0);
    expect(d.bytesInFlight).toBe(0);
    expect(d.lossDetectionTimer()).toBeNull();
    expect(d.lostCount).toBe(0);
  });

  it('passes the ack delay on to the RTT estimator', () => {
    const d = detector();
    send(d, 0, 0);
    send(d, 1, 0);
    d.onAckReceived([[0, 0]], 5, 100); // first sample: delay ignored
    expect(d.rtt.smoothedRtt).toBe(100);
    d.onAckReceived([[0, 1]], 40, 200); // later sample: delay capped at 25
    expect(d.rtt.latestRtt).toBe(200);
    expect(d.rtt.smoothedRtt).toBe((7 / 8) * 100 + (1 / 8) * 175);
  });

  it('refuses transmission numbers that do not increase', () => {
    const d = detector();
    send(d, 5, 0);
    expect(() => send(d, 5, 1)).toThrow(RangeError);
    expect(() => send(d, 4, 1)).toThrow(RangeError);
    expect(() => send(d, -1, 1)).toThrow(RangeError);
    expect(() => send(d, 6.5, 1)).toThrow(RangeError);
    send(d, 9, 1); // gaps are fine: numbers are per device, not per peer
    expect(d.inFlightCount).toBe(2);
  });
});

describe('LossDetector: packet threshold (RFC 9002 §6.1.1)', () => {
  it('does not declare reordering within the threshold lost, and sets a loss time instead', () => {
    const d = detector();
    for (let n = 0; n < 6; n++) send(d, n, n);
    const r = d.onAckReceived([[1, 2]], 0, 50); // 0 is 2 behind the largest acknowledged
    expect(numbers(r.acked)).toEqual([1, 2]);
    expect(r.lost).toEqual([]);
    // loss_delay = 9/8 × max(48, 48) = 54; loss_time = sentAt(0) + 54
    expect(d.lossDetectionTimer()).toBe(54);

    const late = d.onAckReceived([[0, 2]], 0, 51);
    expect(numbers(late.acked)).toEqual([0]);
    expect(late.rttSample).toBeNull(); // the largest (2) was not newly acknowledged
    expect(d.lostCount).toBe(0);
    // No loss time left: the PTO from the last send, 5 + (48 + 4 × 24 + 25).
    expect(d.lossDetectionTimer()).toBe(5 + 169);
  });

  it('declares a transmission lost once 3 later ones are acknowledged', () => {
    const d = detector();
    for (let n = 0; n < 6; n++) send(d, n, n);
    const r = d.onAckReceived([[1, 3]], 0, 50);
    expect(numbers(r.lost)).toEqual([0]);
    expect(r.lost[0]!.meta).toEqual({ segment: 0 });
    expect(d.lostCount).toBe(1);
    expect(d.inFlightCount).toBe(2);
    expect(d.bytesInFlight).toBe(2 * BYTES);
    expect(kPacketThreshold).toBe(3);
    expect(d.packetThreshold).toBe(3);
  });

  it('declares every gap far enough below the largest acknowledged lost at once', () => {
    const d = detector();
    for (let n = 0; n < 20; n++) send(d, n, n);
    const ranges: AckRange[] = [
      [15, 19],
      [10, 12],
      [4, 7],
    ];
    const r = d.onAckReceived(ranges, 0, 60);
    expect(numbers(r.acked)).toEqual([4, 5, 6, 7, 10, 11, 12, 15, 16, 17, 18, 19]);
    expect(numbers(r.lost)).toEqual([0, 1, 2, 3, 8, 9, 13, 14]);
    expect(d.inFlightCount).toBe(0);
  });
});

describe('LossDetector: the packet threshold counts packets sent, not numbers', () => {
  it('does not read a gap in the numbers (a new block) as reordering', () => {
    const d = detector();
    send(d, 0, 0);
    send(d, 1, 0);
    // The next numbers come from a new block, far above.
    send(d, 1_000_000, 0);
    send(d, 1_000_001, 0);
    const r = d.onAckReceived([[1_000_000, 1_000_000]], 0, 10);
    // 0 and 1 were sent two packets and one packet before the acknowledged one.
    expect(r.lost).toEqual([]);
    expect(d.inFlightCount).toBe(3);
    // A third packet after 0, acknowledged: now 0 is lost, and only 0.
    expect(numbers(d.onAckReceived([[1_000_001, 1_000_001]], 0, 11).lost)).toEqual([0]);
  });
});

describe('LossDetector: persistent congestion (RFC 9002 §7.6)', () => {
  /** A detector with one RTT sample of 40 ms taken at t = 40 (PTO: 40 + 80 + 25 ms). */
  function sampled() {
    const d = detector();
    send(d, 0, 0);
    d.onAckReceived([[0, 0]], 0, 40);
    return d;
  }
  const duration = (d: LossDetector<Meta>) => 3 * d.rtt.pto(25);
  /** Three packets after `from` at `at`, acknowledged 40 ms later: what came before is lost. */
  function recover(d: LossDetector<Meta>, from: number, at: number, more: AckRange[] = []) {
    for (let n = from; n < from + 3; n++) send(d, n, at);
    return d.onAckReceived([...more, [from, from + 2]], 0, at + 40);
  }

  it('is established by losses spanning more than 3 PTOs with nothing acked between', () => {
    const d = sampled();
    const span = duration(d) + 10;
    for (let n = 1; n <= 10; n++) send(d, n, 50 + ((n - 1) * span) / 9);
    const r = recover(d, 11, 50 + span + 1);
    expect(numbers(r.lost)).toHaveLength(10);
    expect(r.persistentCongestion).toBe(true);
    // min_rtt starts again from the newest sample (§5.2).
    expect(d.rtt.minRtt).toBe(40);
  });

  it('is not established by a shorter span, nor across an acknowledged packet', () => {
    const short = sampled();
    const span = duration(short) / 2;
    for (let n = 1; n <= 10; n++) send(short, n, 50 + ((n - 1) * span) / 9);
    const r1 = recover(short, 11, 50 + span + 1);
    expect(numbers(r1.lost)).toHaveLength(10);
    expect(r1.persistentCongestion).toBe(false);

    const split = sampled();
    const long = duration(split) * 1.5;
    for (let n = 1; n <= 10; n++) send(split, n, 50 + ((n - 1) * long) / 9);
    // 5 arrived: the losses on each side of it span less than 3 PTOs each.
    const r2 = recover(split, 11, 50 + long + 1, [[5, 5]]);
    expect(numbers(r2.lost)).toHaveLength(9);
    expect(r2.persistentCongestion).toBe(false);
  });

  it('does not count losses of packets sent before the first RTT sample', () => {
    const d = detector();
    for (let n = 0; n < 10; n++) send(d, n, n * 1000);
    const r = recover(d, 10, 10_000);
    expect(numbers(r.lost)).toHaveLength(10);
    expect(r.persistentCongestion).toBe(false);
  });
});

describe('LossDetector: time threshold (RFC 9002 §6.1.2)', () => {
  it('arms the timer at sentAt + 9/8 × RTT and declares the loss when it fires', () => {
    const d = detector();
    send(d, 0, 0);
    send(d, 1, 1);
    send(d, 2, 2);
    const r = d.onAckReceived([[1, 1]], 0, 41);
    expect(r.rttSample).toBe(40);
    expect(r.lost).toEqual([]);
    // loss_delay = 9/8 × 40 = 45
    expect(kTimeThreshold).toBe(9 / 8);
    expect(d.lossDetectionTimer()).toBe(45);

    expect(d.onLossDetectionTimeout(44)).toEqual({ kind: 'none' }); // a stale timer
    expect(d.inFlightCount).toBe(2);
    const fired = d.onLossDetectionTimeout(45);
    expect(fired.kind).toBe('loss');
    expect(fired.kind === 'loss' && numbers(fired.lost)).toEqual([0]);
    expect(d.lostCount).toBe(1);
    // Only 2 is left, above the largest acknowledged: back to the PTO, 2 + (40 + 80 + 25).
    expect(d.lossDetectionTimer()).toBe(147);
  });

  it('declares a transmission lost on an ack that comes after its loss time', () => {
    const d = detector();
    send(d, 0, 0);
    send(d, 1, 1);
    send(d, 2, 10);
    d.onAckReceived([[1, 1]], 0, 41); // sample 40: loss_delay 45, loss time 45
    expect(d.lossDetectionTimer()).toBe(45);
    // The next ack comes after that time, before the timer fired. Sample 42, loss_delay
    // 9/8 × 42 = 47.25: 0 was sent 52 ms before, so it is lost although only 2 behind.
    const r = d.onAckReceived([[1, 2]], 0, 52);
    expect(numbers(r.acked)).toEqual([2]);
    expect(numbers(r.lost)).toEqual([0]);
  });

  it('never uses a loss delay below kGranularity', () => {
    const d = detector({ initialRtt: 0.0001 });
    send(d, 0, 0);
    send(d, 1, 0);
    d.onAckReceived([[1, 1]], 0, 0); // RTT 0
    expect(d.lossDetectionTimer()).toBe(1);
    const fired = d.onLossDetectionTimeout(1);
    expect(fired.kind === 'loss' && numbers(fired.lost)).toEqual([0]);
  });
});

describe('LossDetector: probe timeout (RFC 9002 §6.2)', () => {
  it('fires at the last send + PTO × 2^pto_count, returns probes, backs off and resets', () => {
    const d = detector();
    send(d, 0, 0);
    send(d, 1, 5);
    // No RTT sample: PTO = 100 + 4 × 50 + 25 = 325 from the last send.
    expect(d.lossDetectionTimer()).toBe(330);
    expect(d.onLossDetectionTimeout(329)).toEqual({ kind: 'none' });

    const first = d.onLossDetectionTimeout(330);
    expect(first.kind).toBe('probe');
    expect(first.kind === 'probe' && numbers(first.probes)).toEqual([0, 1]);
    expect(d.ptoCount).toBe(1);
    expect(d.inFlightCount).toBe(2); // probes stay in flight
    expect(d.lostCount).toBe(0);
    expect(d.lossDetectionTimer()).toBe(5 + 650);

    // The caller re-sends them as new transmissions; the timer runs from that send.
    send(d, 2, 330, 0);
    send(d, 3, 330, 1);
    expect(d.lossDetectionTimer()).toBe(330 + 650);
    const second = d.onLossDetectionTimeout(980);
    expect(second.kind === 'probe' && numbers(second.probes)).toEqual([0, 1]);
    expect(d.ptoCount).toBe(2);
    expect(d.lossDetectionTimer()).toBe(330 + 1300);

    // An ack that newly acknowledges something resets pto_count.
    const r = d.onAckReceived([[3, 3]], 0, 1000);
    expect(r.rttSample).toBe(670);
    expect(d.ptoCount).toBe(0);
    // 0: 3 behind the largest; 1: sent before 1000 - 9/8 × 670 = 246.25. 2 is still young.
    expect(numbers(r.lost)).toEqual([0, 1]);
    expect(d.lossDetectionTimer()).toBe(330 + (9 / 8) * 670);
  });

  it('returns a single probe when only one transmission is in flight', () => {
    const d = detector();
    send(d, 7, 0);
    const t = d.lossDetectionTimer()!;
    const fired = d.onLossDetectionTimeout(t);
    expect(fired.kind === 'probe' && numbers(fired.probes)).toEqual([7]);
  });

  it('does not reset pto_count on an ack that acknowledges nothing new', () => {
    const d = detector();
    send(d, 0, 0);
    send(d, 1, 0);
    d.onAckReceived([[0, 0]], 0, 100);
    d.onLossDetectionTimeout(d.lossDetectionTimer()!);
    expect(d.ptoCount).toBe(1);
    d.onAckReceived([[0, 0]], 0, 500); // a duplicate
    expect(d.ptoCount).toBe(1);
    d.onAckReceived([[0, 1]], 0, 600);
    expect(d.ptoCount).toBe(0);
  });

  it('has no timer when nothing is in flight', () => {
    const d = detector();
    expect(d.lossDetectionTimer()).toBeNull();
    expect(d.onLossDetectionTimeout(1e9)).toEqual({ kind: 'none' });
    expect(d.ptoCount).toBe(0);
  });
});

describe('LossDetector: peer input it cannot trust', () => {
  it('ignores duplicate acks and numbers it never sent', () => {
    const d = detector();
    for (let n = 0; n < 5; n++) send(d, n, 0);
    expect(numbers(d.onAckReceived([[0, 1]], 0, 10).acked)).toEqual([0, 1]);
    const again = d.onAckReceived([[0, 1]], 0, 10);
    expect(again).toEqual({
      acked: [],
      lost: [],
      rttSample: null,
      spurious: [],
      persistentCongestion: false,
    });

    // Numbers never sent do not move the largest acknowledged (which would make 2..4 lost).
    const bogus = d.onAckReceived([[100, 200]], 0, 10);
    expect(bogus).toEqual({
      acked: [],
      lost: [],
      rttSample: null,
      spurious: [],
      persistentCongestion: false,
    });
    expect(d.largestAcked).toBe(1);
    expect(d.inFlightCount).toBe(3);

    // A range reaching past what was sent acknowledges what was sent, without an RTT
    // sample: the ack delay refers to a largest that was never sent.
    const past = d.onAckReceived([[3, 1000]], 0, 11); // loss_delay 11.25: 2 is not lost
    expect(numbers(past.acked)).toEqual([3, 4]);
    expect(past.rttSample).toBeNull();
    expect(past.lost).toEqual([]);
  });

  it('accepts ranges in any order, overlapping or malformed, and never throws', () => {
    const d = detector();
    for (let n = 0; n < 10; n++) send(d, n, 0);
    const weird: AckRange[] = [
      [5, 3], // low above high
      [Number.NaN, 2],
      [-10, -1],
      [0, 1],
      [1, 2],
      [6, Number.POSITIVE_INFINITY],
    ];
    const r = d.onAckReceived(weird, Number.NaN, 20);
    expect(numbers(r.acked)).toEqual([0, 1, 2]);
    expect(r.rttSample).toBe(20); // 2 is the largest valid number, newly acknowledged
    expect(d.onAckReceived([], 0, 21)).toEqual({
      acked: [],
      lost: [],
      rttSample: null,
      spurious: [],
      persistentCongestion: false,
    });
  });

  it('survives random acks while keeping its books balanced', () => {
    const rand = seededRandom(11);
    const d = detector();
    let next = 0;
    let now = 0;
    const acked = new Set<number>();
    for (let round = 0; round < 2000; round++) {
      now += rand() * 5;
      for (let k = Math.floor(rand() * 4); k > 0; k--) send(d, next++, now);
      const ranges: AckRange[] = [];
      for (let k = Math.floor(rand() * 4); k > 0; k--) {
        const low = Math.floor(rand() * (next + 20)) - 10;
        ranges.push([low, low + Math.floor(rand() * 6) - 1]);
      }
      const r = d.onAckReceived(ranges, rand() * 1e6, now);
      for (const s of r.acked) {
        expect(acked.has(s.transmission)).toBe(false);
        acked.add(s.transmission);
      }
      if (rand() < 0.1) d.onLossDetectionTimeout(now);
      const inFlight = d.inFlight();
      expect(d.bytesInFlight).toBe(inFlight.length * BYTES);
      expect(d.inFlightCount).toBe(inFlight.length);
      expect(Number.isFinite(d.rtt.smoothedRtt)).toBe(true);
    }
    expect(acked.size).toBeGreaterThan(100);
  });
});

/**
 * One round of a fixed reordering pattern: transmissions b..b+6 sent 1 ms apart; b+2
 * arrives after b+5, and the receiver's acks say so. Returns what the detector made of it.
 */
function reorderRound(d: LossDetector<Meta>, b: number, t0: number) {
  for (let i = 0; i <= 6; i++) send(d, b + i, t0 + i);
  const lost: number[] = [];
  const spurious: number[] = [];
  const acks: [AckRange[], number][] = [
    [[[b, b + 1]], t0 + 41],
    [
      [
        [b + 3, b + 5],
        [b, b + 1],
      ],
      t0 + 45,
    ],
    [[[b, b + 6]], t0 + 47],
  ];
  for (const [ranges, at] of acks) {
    const r = d.onAckReceived(ranges, 0, at);
    lost.push(...numbers(r.lost));
    spurious.push(...numbers(r.spurious));
  }
  return { lost, spurious };
}

describe('LossDetector: spurious losses raise the reordering tolerance', () => {
  it('spots a spurious loss by packet threshold and stops declaring the same pattern lost', () => {
    const d = detector();
    const first = reorderRound(d, 0, 0);
    expect(first.lost).toEqual([2]);
    expect(first.spurious).toEqual([2]);
    expect(d.spuriousCount).toBe(1);
    expect(d.lostCount).toBe(1);
    // The ack that showed it came when 5 was the largest acknowledged: distance 3, so 4.
    expect(d.packetThreshold).toBe(4);
    expect(d.recentlyLostCount).toBe(0);

    const second = reorderRound(d, 100, 1000);
    expect(second).toEqual({ lost: [], spurious: [] });
    expect(d.spuriousCount).toBe(1);
    expect(d.inFlightCount).toBe(0);
  });

  it('keeps declaring the pattern lost when adapting is switched off (caps = initial values)', () => {
    const d = detector({ maxPacketThreshold: 3, maxTimeThreshold: 9 / 8 });
    reorderRound(d, 0, 0);
    const second = reorderRound(d, 100, 1000);
    expect(second).toEqual({ lost: [102], spurious: [102] });
    expect(d.spuriousCount).toBe(2);
    expect(d.packetThreshold).toBe(3);
  });

  it('spots a spurious loss by time threshold and widens the time threshold', () => {
    const d = detector();
    send(d, 0, 0);
    send(d, 1, 1);
    d.onAckReceived([[1, 1]], 0, 41); // RTT 40: loss time 45
    const fired = d.onLossDetectionTimeout(45);
    expect(fired.kind === 'loss' && numbers(fired.lost)).toEqual([0]);
    const late = d.onAckReceived([[0, 1]], 0, 60);
    expect(numbers(late.spurious)).toEqual([0]);
    expect(late.spurious[0]!.meta).toEqual({ segment: 0 });
    expect(late.acked).toEqual([]);
    // The ack took 60 ms = 1.5 RTT: the multiplier goes to the next 1/8 above, 13/8.
    expect(d.timeThreshold).toBe(13 / 8);

    // The same pattern again is no longer lost: loss time = 100 + 13/8 × 40 = 165.
    send(d, 2, 100);
    send(d, 3, 101);
    d.onAckReceived([[3, 3]], 0, 141);
    expect(d.lossDetectionTimer()).toBe(165);
    const r = d.onAckReceived([[2, 3]], 0, 160);
    expect(numbers(r.acked)).toEqual([2]);
    expect(d.spuriousCount).toBe(1);
    expect(d.lostCount).toBe(1);
  });

  it('caps both thresholds', () => {
    const d = detector();
    for (let n = 0; n < 60; n++) send(d, n, 0);
    d.onAckReceived([[10, 59]], 0, 40); // 0..9 lost by packet threshold
    const r = d.onAckReceived([[0, 59]], 0, 400); // all of them late: 10 RTTs
    expect(numbers(r.spurious)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(d.packetThreshold).toBe(MAX_PACKET_THRESHOLD);
    expect(d.timeThreshold).toBe(MAX_TIME_THRESHOLD);
    expect(MAX_PACKET_THRESHOLD).toBe(10);
    expect(MAX_TIME_THRESHOLD).toBe(2);
  });

  it('forgets declared losses after 3 PTOs, so a very late ack is not spurious', () => {
    const d = detector();
    for (let n = 0; n < 5; n++) send(d, n, 0);
    d.onAckReceived([[1, 4]], 0, 40); // 0 lost; PTO = 40 + 80 + 25 = 145
    expect(d.recentlyLostCount).toBe(1);
    d.onAckReceived([[1, 4]], 0, 40 + 3 * 145); // a duplicate, no sample: PTO unchanged
    expect(d.recentlyLostCount).toBe(1);
    d.onAckReceived([[1, 4]], 0, 40 + 3 * 145 + 1);
    expect(d.recentlyLostCount).toBe(0);
    const late = d.onAckReceived([[0, 0]], 0, 600);
    expect(late.spurious).toEqual([]);
    expect(d.spuriousCount).toBe(0);
  });
});

describe('LossDetector: forget', () => {
  it('drops a cancelled message without declaring it lost, and ignores its acks', () => {
    const d = detector();
    for (let n = 0; n < 6; n++) send(d, n, n, n % 2); // segment 0 or 1 stands for a message
    const removed = d.forget((s) => s.meta.segment === 1);
    expect(numbers(removed)).toEqual([1, 3, 5]);
    expect(d.inFlightCount).toBe(3);
    expect(d.bytesInFlight).toBe(3 * BYTES);
    const r = d.onAckReceived([[0, 5]], 0, 50);
    expect(numbers(r.acked)).toEqual([0, 2, 4]);
    expect(r.lost).toEqual([]);
    expect(d.lostCount).toBe(0);
    expect(d.lossDetectionTimer()).toBeNull();
  });

  it('moves the timer when the transmission that set the loss time is forgotten', () => {
    const d = detector();
    send(d, 0, 0);
    send(d, 1, 1);
    send(d, 2, 2);
    d.onAckReceived([[2, 2]], 0, 42); // RTT 40: loss time for 0 at 45, for 1 at 46
    expect(d.lossDetectionTimer()).toBe(45);
    d.forget((s) => s.transmission === 0);
    expect(d.lossDetectionTimer()).toBe(46);
    d.forget((s) => s.transmission === 1);
    expect(d.lossDetectionTimer()).toBeNull();
    expect(d.onLossDetectionTimeout(1000)).toEqual({ kind: 'none' });
  });
});

describe('LossDetector: bounded memory', () => {
  it('keeps its collections small over 100,000 sends and acks', () => {
    const d = detector();
    let lost = 0;
    let maxInFlight = 0;
    let maxRecentlyLost = 0;
    for (let k = 0; k < 100_000; k++) {
      send(d, k, k);
      // Every 10 ms the receiver acknowledges the batch sent 50 ms ago, minus every 17th.
      if (k >= 59 && k % 10 === 9) {
        const ranges: AckRange[] = [];
        let high = k - 50;
        for (let n = k - 50; n >= k - 59; n--) {
          if (n % 17 === 0) {
            if (high > n) ranges.push([n + 1, high]);
            high = n - 1;
          }
        }
        if (high >= k - 59) ranges.push([k - 59, high]);
        lost += d.onAckReceived(ranges, 0, k).lost.length;
      }
      maxInFlight = Math.max(maxInFlight, d.inFlightCount);
      maxRecentlyLost = Math.max(maxRecentlyLost, d.recentlyLostCount);
    }
    expect(lost).toBeGreaterThan(5800);
    expect(d.lostCount).toBe(lost);
    expect(maxInFlight).toBeLessThanOrEqual(65);
    expect(maxRecentlyLost).toBeLessThan(100);
    expect(d.inFlightCount).toBeLessThanOrEqual(65);
  });

  it('remembers at most maxRecentlyLost declared losses', () => {
    const d = detector({ maxRecentlyLost: 5 });
    for (let n = 0; n < 100; n++) send(d, n, 0);
    const r = d.onAckReceived([[99, 99]], 0, 10); // 0..96 lost by packet threshold
    expect(r.lost.length).toBe(97);
    expect(d.recentlyLostCount).toBe(5);
    const late = d.onAckReceived([[0, 98]], 0, 11);
    expect(numbers(late.acked)).toEqual([97, 98]);
    expect(numbers(late.spurious)).toEqual([92, 93, 94, 95, 96]);
    expect(d.spuriousCount).toBe(5);
  });
});

// ---------------------------------------------------------------------------------------
// A sender and a receiver over a simulated channel: the loss detector against the real
// receiver-side AckScheduler, with loss and reordering on both data and acks.

interface SimOptions {
  seed: number;
  segments: number;
  window: number;
  loss: number;
  /** Probability that a frame is held back, and for up to how long. */
  reorder: number;
  reorderMaxMs: number;
  detector?: LossDetectorOptions;
}

interface SimResult {
  sends: number;
  deliveredAtReceiver: number;
  ackedAtSender: number;
  spurious: number;
  lost: number;
  probes: number;
  endTime: number;
  packetThreshold: number;
  timeThreshold: number;
}

type SimEvent =
  | { at: number; kind: 'data'; transmission: number; segment: number }
  | { at: number; kind: 'ack'; ranges: AckRange[]; ackDelayMs: number }
  | { at: number; kind: 'ackTimer' }
  | { at: number; kind: 'lossTimer' };

/** Events by (time, insertion order), on the project's shared time queue. */
class EventQueue {
  private readonly queue = new TimeQueue<SimEvent>();

  get size(): number {
    return this.queue.size;
  }

  push(e: SimEvent): void {
    this.queue.push(e.at, e);
  }

  pop(): SimEvent | undefined {
    return this.queue.pop()?.item;
  }
}

function simulate(o: SimOptions): SimResult {
  const rand = seededRandom(o.seed);
  const ONE_WAY_MS = 20;
  const SERIALIZE_MS = 0.25; // the bottleneck carries 4 frames per ms
  const d = new LossDetector<number>(o.detector); // meta: the segment index
  const receiver = new AckScheduler();
  const events = new EventQueue();
  const received = new Uint8Array(o.segments);
  const acked = new Uint8Array(o.segments);
  let deliveredAtReceiver = 0;
  let ackedAtSender = 0;
  let nextSegment = 0;
  let nextTransmission = 0;
  let sends = 0;
  let probes = 0;
  let linkFreeAt = 0;
  let armedLossTimer: number | null = null;
  let armedAckTimer: number | null = null;
  const retransmit: number[] = [];
  let now = 0;

  /** Arrival time after the channel, or null when it loses the frame. */
  const channel = (departure: number): number | null => {
    if (rand() < o.loss) return null;
    let at = departure + ONE_WAY_MS;
    if (rand() < o.reorder) at += rand() * o.reorderMaxMs;
    return at;
  };

  const transmit = (segment: number) => {
    const transmission = nextTransmission++;
    d.onPacketSent({ transmission, sentAt: now, bytes: 1000, meta: segment });
    sends++;
    linkFreeAt = Math.max(now, linkFreeAt) + SERIALIZE_MS;
    const at = channel(linkFreeAt);
    if (at !== null) events.push({ at, kind: 'data', transmission, segment });
  };

  const fillWindow = () => {
    while (d.inFlightCount < o.window) {
      let segment: number | undefined;
      while (retransmit.length > 0 && segment === undefined) {
        const s = retransmit.shift()!;
        if (acked[s] === 0) segment = s;
      }
      if (segment === undefined && nextSegment < o.segments) segment = nextSegment++;
      if (segment === undefined) return;
      transmit(segment);
    }
  };

  const markAcked = (list: readonly Sent<number>[]) => {
    let any = false;
    for (const s of list) {
      if (acked[s.meta] === 0) {
        acked[s.meta] = 1;
        ackedAtSender++;
        any = true;
      }
    }
    // Copies of delivered segments still in flight need no loss detection any more.
    if (any) d.forget((s) => acked[s.meta] === 1);
  };

  const onLost = (list: readonly Sent<number>[]) => {
    for (const s of list) if (acked[s.meta] === 0) retransmit.push(s.meta);
  };

  const armLossTimer = () => {
    const at = d.lossDetectionTimer();
    if (at !== null && at !== armedLossTimer) events.push({ at, kind: 'lossTimer' });
    armedLossTimer = at;
  };

  const sendAck = () => {
    const ack = receiver.takeAck(now);
    armedAckTimer = null;
    if (ack === null) return;
    const at = channel(now);
    if (at !== null) {
      events.push({ at, kind: 'ack', ranges: ack.ranges, ackDelayMs: ack.ackDelayMicros / 1000 });
    }
  };

  fillWindow();
  armLossTimer();
  while (ackedAtSender < o.segments) {
    const e = events.pop();
    if (e === undefined) throw new Error('simulation stalled: no events left');
    now = e.at;
    if (now > 3_600_000) throw new Error('simulation ran for an hour of simulated time');
    switch (e.kind) {
      case 'data': {
        if (received[e.segment] === 0) {
          received[e.segment] = 1;
          deliveredAtReceiver++;
        }
        const { ackNow } = receiver.onReceived(e.transmission, now);
        if (ackNow) sendAck();
        else {
          const deadline = receiver.ackDeadline();
          if (deadline !== null && deadline !== armedAckTimer) {
            events.push({ at: deadline, kind: 'ackTimer' });
            armedAckTimer = deadline;
          }
        }
        continue;
      }
      case 'ackTimer': {
        const deadline = receiver.ackDeadline();
        if (deadline !== null && deadline <= now) sendAck();
        continue;
      }
      case 'ack': {
        const r = d.onAckReceived(e.ranges, e.ackDelayMs, now);
        markAcked(r.acked);
        markAcked(r.spurious);
        onLost(r.lost);
        break;
      }
      case 'lossTimer': {
        const due = d.lossDetectionTimer();
        if (due === null || due > now) continue;
        const r = d.onLossDetectionTimeout(now);
        if (r.kind === 'loss') onLost(r.lost);
        if (r.kind === 'probe') {
          for (const p of r.probes) {
            if (acked[p.meta] === 0) {
              transmit(p.meta);
              probes++;
            }
          }
        }
        break;
      }
    }
    fillWindow();
    armLossTimer();
  }
  return {
    sends,
    deliveredAtReceiver,
    ackedAtSender,
    spurious: d.spuriousCount,
    lost: d.lostCount,
    probes,
    endTime: now,
    packetThreshold: d.packetThreshold,
    timeThreshold: d.timeThreshold,
  };
}

describe('LossDetector: a sender over a lossy, reordering channel', () => {
  const base = {
    segments: 10_000,
    window: 200,
    loss: 0.1,
    reorder: 0.05,
    reorderMaxMs: 2, // up to 8 frames overtake a held-back one
  };

  it.each([1, 2, 3])(
    'delivers 10,000 segments with few spurious retransmissions (seed %i)',
    (seed) => {
      const r = simulate({ ...base, seed });
      expect(r.deliveredAtReceiver).toBe(10_000);
      expect(r.ackedAtSender).toBe(10_000);
      expect(r.spurious / r.sends).toBeLessThan(0.01);
      expect(r.sends / 10_000).toBeLessThanOrEqual(1.05 / (1 - 0.1));
      // Losses were really there to be detected, and reordering to adapt to.
      expect(r.lost).toBeGreaterThan(900);
      expect(r.packetThreshold).toBeGreaterThan(kPacketThreshold);
    },
  );

  it('needs the adaptive thresholds: fixed at 3 and 9/8, the same channel causes many spurious retransmissions', () => {
    const r = simulate({
      ...base,
      seed: 1,
      detector: { maxPacketThreshold: kPacketThreshold, maxTimeThreshold: kTimeThreshold },
    });
    expect(r.ackedAtSender).toBe(10_000);
    expect(r.spurious / r.sends).toBeGreaterThan(0.01);
  });
});
