import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../shared/random.ts';
import {
  type CcPacket,
  CongestionController,
  DEFAULT_MAX_WINDOW,
  DEFAULT_SOCKET_BUFFER_LIMIT,
  INITIAL_WINDOW_SEGMENTS,
  LOSS_REDUCTION,
  MIN_WINDOW_SEGMENTS,
} from './congestion.ts';
import {
  goodputBetween,
  simulate,
  type LinkConfig,
  type SimController,
  type SimulationResult,
} from './sim/link.ts';

// The reference path: 10 Mbit/s, 40 ms RTT, so the pipe (BDP) holds 50 segments of 1000 B;
// the drop-tail buffer holds two BDPs.
const SEGMENT = 1000;
const CAPACITY = 1_250_000;
const DELAY_MS = 20;
const BDP = (CAPACITY * 2 * DELAY_MS) / 1000;
const RUN_MS = 20_000;

function link(loss: number, more: Partial<LinkConfig> = {}): LinkConfig {
  return { capacity: CAPACITY, delayMs: DELAY_MS, queueLimit: 2 * BDP, loss, seed: 42, ...more };
}

/** Same-run baseline: textbook loss-based NewReno (halve on loss, once per round trip). */
class NewReno implements SimController {
  private cwnd = INITIAL_WINDOW_SEGMENTS * SEGMENT;
  private ssthresh = Infinity;
  private largestSent = -1;
  private recoveryEnd = -1;

  get window(): number {
    return this.cwnd;
  }

  canSend(bytesInFlight: number): boolean {
    return bytesInFlight + SEGMENT <= this.cwnd;
  }

  onPacketSent(packet: CcPacket): void {
    this.largestSent = packet.transmission;
  }

  onAcked({ transmission, bytes }: CcPacket): void {
    if (transmission <= this.recoveryEnd) return;
    this.cwnd += this.cwnd < this.ssthresh ? bytes : (SEGMENT * bytes) / this.cwnd;
  }

  onLost({ transmission }: CcPacket): void {
    if (transmission <= this.recoveryEnd) return;
    this.cwnd = Math.max(2 * SEGMENT, this.cwnd / 2);
    this.ssthresh = this.cwnd;
    this.recoveryEnd = this.largestSent;
  }
}

/**
 * Drives a controller by hand as the transport does: numbers packets, keeps their bytes
 * in flight (the part loss detection plays), settles the oldest first.
 */
class Driver {
  readonly c: CongestionController;
  private next = 0;
  private readonly flight: CcPacket[] = [];
  private inFlight = 0;

  constructor(c: CongestionController) {
    this.c = c;
  }

  send(bytes = this.c.segmentSize): void {
    const packet = { transmission: this.next++, bytes };
    this.flight.push(packet);
    this.inFlight += bytes;
    this.c.onPacketSent(packet, this.inFlight);
  }

  /** Acknowledges the oldest packet in flight; false when there is none. */
  ack(rttSample: number | null, smoothedRtt: number, now: number): boolean {
    const packet = this.flight.shift();
    if (!packet) return false;
    this.inFlight -= packet.bytes;
    this.c.onAcked(packet, { bytesInFlight: this.inFlight, rttSample, smoothedRtt, now });
    return true;
  }

  /** Declares the oldest packet in flight lost; false when there is none. */
  lose(now: number): boolean {
    const packet = this.flight.shift();
    if (!packet) return false;
    this.inFlight -= packet.bytes;
    this.c.onLost(packet, this.inFlight, now);
    return true;
  }
}

function runOne(controller: SimController, loss: number, durationMs = RUN_MS): SimulationResult {
  return simulate({
    link: link(loss),
    flows: [{ controller, packetSize: SEGMENT }],
    durationMs,
  });
}

function averageQueue(result: SimulationResult, fromMs: number, toMs: number): number {
  const samples = result.samples.filter((s) => s.t >= fromMs && s.t < toMs);
  return samples.reduce((sum, s) => sum + s.queue, 0) / samples.length;
}

function windowAt(result: SimulationResult, t: number, flow = 0): number {
  const sample = result.samples.find((s) => s.t >= t);
  if (!sample) throw new Error(`no sample at ${t} ms`);
  return sample.flows[flow]!.window;
}

describe('CongestionController: configuration', () => {
  it('has the documented defaults', () => {
    const c = new CongestionController({ segmentSize: SEGMENT });
    expect(c.minWindow).toBe(MIN_WINDOW_SEGMENTS * SEGMENT);
    expect(c.window).toBe(INITIAL_WINDOW_SEGMENTS * SEGMENT);
    expect(c.maxWindow).toBe(DEFAULT_MAX_WINDOW);
    expect(c.socketBufferLimit).toBe(DEFAULT_SOCKET_BUFFER_LIMIT);
    expect(c.state).toBe('slow-start');
  });

  it('accepts 64 B to 64 KiB segments and nothing else', () => {
    expect(new CongestionController({ segmentSize: 64 }).minWindow).toBe(256);
    const big = new CongestionController({ segmentSize: 65536 });
    expect(big.window).toBe(10 * 65536);
    expect(big.socketBufferLimit).toBeGreaterThanOrEqual(4 * 65536);
    for (const segmentSize of [0, 63, 65537, 1000.5, NaN]) {
      expect(() => new CongestionController({ segmentSize })).toThrow(RangeError);
    }
    expect(() => new CongestionController({ segmentSize: 1000, maxWindow: 3000 })).toThrow(
      RangeError,
    );
    expect(() => new CongestionController({ segmentSize: 1000, socketBufferLimit: 999 })).toThrow(
      RangeError,
    );
  });

  it('clamps the initial window into [minWindow, maxWindow]', () => {
    expect(new CongestionController({ segmentSize: 1000, maxWindow: 6000 }).window).toBe(6000);
    expect(new CongestionController({ segmentSize: 1000, initialWindow: 1 }).window).toBe(4000);
  });
});

describe('CongestionController: window and socket limits', () => {
  it('canSend refuses when the window is full or the socket buffer is over its limit', () => {
    const c = new CongestionController({ segmentSize: 1000, socketBufferLimit: 8000 });
    expect(c.canSend(0, 0)).toBe(true);
    expect(c.canSend(9000, 0)).toBe(true);
    expect(c.canSend(9001, 0)).toBe(false);
    expect(c.canSend(0, 7000)).toBe(true);
    expect(c.canSend(0, 7001)).toBe(false);
    expect(c.canSend(0, 50_000)).toBe(false);
    expect(c.canSend(0, 7500, 500)).toBe(true);
    expect(c.sendAllowance(4000, 5000)).toBe(3000);
    expect(c.sendAllowance(20_000, 0)).toBe(0);
  });

  it('keeps the window within [minWindow, maxWindow] under any sequence of events', () => {
    const random = seededRandom(7);
    for (let run = 0; run < 20; run++) {
      const c = new CongestionController({ segmentSize: 500, maxWindow: 40_000 });
      const d = new Driver(c);
      let now = 0;
      let lowest = Infinity;
      let highest = 0;
      for (let i = 0; i < 3000; i++) {
        now += random() * 5;
        const r = random();
        if (r < 0.55) d.send();
        else if (r < 0.9) {
          const sample = 10 + random() * (run % 2 === 0 ? 200 : 5);
          d.ack(random() < 0.1 ? null : sample, sample, now);
        } else if (r < 0.995) d.lose(now);
        else c.onPersistentCongestion();
        lowest = Math.min(lowest, c.window);
        highest = Math.max(highest, c.window);
      }
      expect(lowest).toBeGreaterThanOrEqual(c.minWindow);
      expect(highest).toBeLessThanOrEqual(c.maxWindow);
      expect(highest).toBeGreaterThan(c.initialWindow); // the sequence did exercise growth
    }
  });
});

/** Sends a window, acks it all with `rtt`: one round per call. */
function round(d: Driver, rtt: number, now: number): number {
  const packets = Math.floor(d.c.window / d.c.segmentSize);
  for (let i = 0; i < packets; i++) d.send();
  for (let i = 0; i < packets; i++) d.ack(rtt, rtt, now + rtt);
  return now + rtt;
}

describe('CongestionController: reactions', () => {
  it('grows in slow start while the RTT stays at its minimum, and leaves it on delay', () => {
    const d = new Driver(new CongestionController({ segmentSize: 1000 }));
    let now = round(d, 40, 0);
    expect(d.c.window).toBe(20_000);
    now = round(d, 40, now);
    expect(d.c.window).toBe(40_000);
    round(d, 60, now); // 20 ms of queueing, above the 5 ms threshold
    expect(d.c.state).toBe('avoidance');
    expect(d.c.stats.slowStartExits).toBe(1);
    expect(d.c.window).toBeLessThan(60_000 * (40 / 60) + 3000);
  });

  it('does not shrink the window, nor leave slow start, for random loss without delay', () => {
    const d = new Driver(new CongestionController({ segmentSize: 1000 }));
    const c = d.c;
    let now = round(d, 40, 0);
    const before = c.window;
    for (let i = 0; i < 50; i++) {
      d.send();
      d.lose(now);
    }
    expect(c.window).toBe(before);
    expect(c.state).toBe('slow-start');
    expect(c.stats.lossesIgnored).toBe(50);
    // And in avoidance: a window at the pipe keeps its size through losses.
    now = round(d, 80, now);
    expect(c.state).toBe('avoidance');
    const settled = c.window;
    d.send();
    now = round(d, 40, now);
    d.lose(now);
    expect(c.window).toBeGreaterThanOrEqual(settled);
    expect(c.stats.lossReductions).toBe(0);
  });

  it('cuts mildly, once per recovery period, when loss comes with a growing queue', () => {
    const d = new Driver(new CongestionController({ segmentSize: 1000 }));
    const c = d.c;
    let now = 0;
    for (let i = 0; i < 3; i++) now = round(d, 40, now);
    now = round(d, 50, now);
    expect(c.state).toBe('avoidance');
    const packets = c.window / 1000;
    for (let i = 0; i < packets; i++) d.send();
    // Queueing delay: acks come back at 100 ms against a 40 ms minimum.
    for (let i = 0; i < 10; i++) d.ack(100, 60, now + 100);
    const before = c.window;
    expect(c.queueEstimate).toBeGreaterThan(8 * 1000);
    d.lose(now + 101);
    expect(c.window).toBeCloseTo(before * LOSS_REDUCTION);
    expect(c.window).toBeGreaterThan(before / 2);
    expect(c.state).toBe('recovery');
    d.lose(now + 102);
    expect(c.window).toBeCloseTo(before * LOSS_REDUCTION);
    expect(c.stats.lossReductions).toBe(1);
    // Recovery lasts while what is acknowledged was sent before the cut...
    d.send();
    for (let i = 12; i < packets; i++) d.ack(45, 45, now + 150);
    expect(c.state).toBe('recovery');
    // ...and ends with the first packet sent after it.
    d.ack(45, 45, now + 150);
    expect(c.state).toBe('avoidance');
  });

  it('collapses to the minimum window on persistent congestion and restarts slow start', () => {
    const d = new Driver(new CongestionController({ segmentSize: 1000 }));
    const c = d.c;
    let now = 0;
    for (let i = 0; i < 4; i++) now = round(d, 40, now);
    expect(c.window).toBeGreaterThan(100_000);
    c.onPersistentCongestion();
    expect(c.window).toBe(c.minWindow);
    expect(c.state).toBe('slow-start');
    expect(c.stats.persistentCongestions).toBe(1);
    round(d, 40, now);
    expect(c.window).toBe(2 * c.minWindow);
  });

  it('does not grow a window the application leaves unused', () => {
    const d = new Driver(new CongestionController({ segmentSize: 1000 }));
    for (let now = 0; now < 4000; now += 40) {
      d.send();
      d.ack(40, 40, now + 40);
    }
    expect(d.c.window).toBe(INITIAL_WINDOW_SEGMENTS * 1000);
  });
});

describe('CongestionController on a simulated lossy bottleneck', () => {
  const losses = [0, 0.02, 0.1];
  // One 20 s run per loss rate and controller, shared by the tests below.
  const runs = new Map<number, { strata: SimulationResult; baseline: SimulationResult }>();
  const goodput = new Map<number, { strata: number; baseline: number }>();
  beforeAll(() => {
    for (const loss of losses) {
      const strata = runOne(new CongestionController({ segmentSize: SEGMENT }), loss);
      const baseline = runOne(new NewReno(), loss);
      runs.set(loss, { strata, baseline });
      goodput.set(loss, {
        strata: goodputBetween(strata, 0, 0, RUN_MS),
        baseline: goodputBetween(baseline, 0, 0, RUN_MS),
      });
    }
  });

  it.each(losses)('keeps goodput near capacity at %s random loss', (loss) => {
    const { strata } = goodput.get(loss)!;
    expect(strata).toBeGreaterThanOrEqual(0.85 * (1 - loss) * CAPACITY);
  });

  it('beats the loss-based baseline, which collapses under random loss', () => {
    const at0 = goodput.get(0)!;
    const at2 = goodput.get(0.02)!;
    const at10 = goodput.get(0.1)!;
    // Without loss both fill the link; the baseline is a fair one.
    expect(at0.baseline).toBeGreaterThanOrEqual(0.85 * CAPACITY);
    expect(at2.baseline).toBeLessThan(0.4 * CAPACITY);
    expect(at10.baseline).toBeLessThan(0.2 * CAPACITY);
    expect(at2.strata).toBeGreaterThanOrEqual(2 * at2.baseline);
    expect(at10.strata).toBeGreaterThanOrEqual(3 * at10.baseline);
  });

  it('keeps the bottleneck queue short where a loss-based sender fills it', () => {
    for (const loss of losses) {
      const result = runs.get(loss)!.strata;
      expect(result.averageQueue).toBeLessThan(0.25 * BDP);
      expect(result.maxQueue).toBeLessThan(BDP);
      expect(result.flows[0]!.packetsDropped).toBe(0);
      // After start-up the queue holds only the few segments of the Vegas band.
      expect(averageQueue(result, 2000, RUN_MS)).toBeLessThan(8 * SEGMENT);
    }
    const baseline = runs.get(0)!.baseline;
    expect(baseline.averageQueue).toBeGreaterThan(0.5 * BDP);
  });

  it.each([0, 0.1])(
    'comes down when the capacity halves, and goes up when it doubles (loss %s)',
    (loss) => {
      const down = simulate({
        link: link(loss),
        flows: [
          { controller: new CongestionController({ segmentSize: SEGMENT }), packetSize: SEGMENT },
        ],
        durationMs: 10_000,
        capacityChanges: [{ atMs: 5000, capacity: CAPACITY / 2 }],
      });
      expect(windowAt(down, 9000)).toBeLessThan(0.7 * windowAt(down, 4900));
      expect(goodputBetween(down, 0, 6000, 10_000)).toBeGreaterThanOrEqual(
        0.85 * (1 - loss) * (CAPACITY / 2),
      );
      expect(averageQueue(down, 7000, 10_000)).toBeLessThan(8 * SEGMENT);
      expect(down.maxQueue).toBeLessThan(BDP);

      const up = simulate({
        link: link(loss),
        flows: [
          { controller: new CongestionController({ segmentSize: SEGMENT }), packetSize: SEGMENT },
        ],
        durationMs: 10_000,
        capacityChanges: [{ atMs: 5000, capacity: CAPACITY * 2 }],
      });
      expect(goodputBetween(up, 0, 6000, 10_000)).toBeGreaterThanOrEqual(
        0.85 * (1 - loss) * (CAPACITY * 2),
      );
    },
  );

  it.each([0, 0.1])('shares the bottleneck fairly between two flows (loss %s)', (loss) => {
    const result = simulate({
      link: link(loss),
      flows: [
        { controller: new CongestionController({ segmentSize: SEGMENT }), packetSize: SEGMENT },
        {
          controller: new CongestionController({ segmentSize: SEGMENT }),
          packetSize: SEGMENT,
          startMs: 2000,
        },
      ],
      durationMs: RUN_MS,
    });
    const a = goodputBetween(result, 0, 5000, RUN_MS);
    const b = goodputBetween(result, 1, 5000, RUN_MS);
    expect(Math.max(a, b) / Math.min(a, b)).toBeLessThan(2);
    expect(a + b).toBeGreaterThanOrEqual(0.85 * (1 - loss) * CAPACITY);
  });

  it('never exceeds maxWindow, and then runs at maxWindow per RTT', () => {
    const maxWindow = 20 * SEGMENT; // less than the 50-segment pipe
    const c = new CongestionController({ segmentSize: SEGMENT, maxWindow });
    const result = runOne(c, 0.1, 5000);
    expect(result.flows[0]!.maxWindow).toBe(maxWindow);
    expect(result.flows[0]!.maxInFlight).toBeLessThanOrEqual(maxWindow);
    expect(result.flows[0]!.minWindow).toBeGreaterThanOrEqual(c.minWindow);
    const ideal = (maxWindow / (2 * DELAY_MS)) * 1000 * (1 - 0.1);
    expect(goodputBetween(result, 0, 1000, 5000)).toBeGreaterThanOrEqual(0.85 * ideal);
  });

  it('bounds memory by maxWindow + socket limit when the local socket is the bottleneck', () => {
    // Without the limit the socket would hold 15 segments in slow start.
    const socketBufferLimit = 4 * SEGMENT;
    const maxWindow = 200 * SEGMENT;
    const socketRate = CAPACITY / 2;
    const c = new CongestionController({ segmentSize: SEGMENT, socketBufferLimit, maxWindow });
    const result = simulate({
      link: link(0.1),
      flows: [{ controller: c, packetSize: SEGMENT, socketRate }],
      durationMs: 10_000,
    });
    const flow = result.flows[0]!;
    expect(flow.maxSocketBuffered).toBeLessThanOrEqual(socketBufferLimit);
    for (const s of result.samples) {
      const f = s.flows[0]!;
      expect(f.inFlight + f.socketBuffered).toBeLessThanOrEqual(maxWindow + socketBufferLimit);
    }
    expect(goodputBetween(result, 0, 0, 10_000)).toBeGreaterThanOrEqual(
      0.85 * (1 - 0.1) * socketRate,
    );
  });

  it.each([
    [64, 64_000],
    [65_536, 64 * 1024 * 1000],
  ])('works with %i-byte segments (a %i B/s link) at 10 percent loss', (segmentSize, capacity) => {
    const c = new CongestionController({ segmentSize });
    const bdp = (capacity * 2 * DELAY_MS) / 1000;
    const result = simulate({
      link: { capacity, delayMs: DELAY_MS, queueLimit: 2 * bdp, loss: 0.1, seed: 3 },
      flows: [{ controller: c, packetSize: segmentSize }],
      durationMs: 5000,
    });
    expect(goodputBetween(result, 0, 0, 5000)).toBeGreaterThanOrEqual(0.85 * 0.9 * capacity);
    expect(result.averageQueue).toBeLessThan(0.25 * bdp);
  });

  it('treats loss far beyond the relay’s own as congestion when the buffer is too shallow to show delay', () => {
    const c = new CongestionController({ segmentSize: SEGMENT });
    const result = simulate({
      link: link(0, { queueLimit: 3 * SEGMENT }),
      flows: [{ controller: c, packetSize: SEGMENT }],
      durationMs: 10_000,
    });
    const flow = result.flows[0]!;
    expect(flow.packetsDropped / flow.packetsSent).toBeLessThan(0.3);
    expect(flow.maxWindow).toBeLessThan(3 * BDP);
    expect(c.stats.lossReductions).toBeGreaterThan(0);
    expect(goodputBetween(result, 0, 0, 10_000)).toBeGreaterThanOrEqual(0.75 * CAPACITY);
  });
});

describe('CongestionController when the path changes under it', () => {
  it('lets the minimum RTT expire: a delay raised from 20 to 200 ms at run time is filled again', () => {
    const c = new CongestionController({ segmentSize: SEGMENT });
    const result = simulate({
      link: link(0, { queueLimit: 20 * BDP }),
      flows: [{ controller: c, packetSize: SEGMENT }],
      durationMs: 50_000,
      delayChanges: [{ atMs: 5000, delayMs: 200 }],
    });
    // The new pipe is ten times the old one: 500 segments over a 400 ms RTT.
    expect(goodputBetween(result, 0, 30_000, 50_000)).toBeGreaterThanOrEqual(0.85 * CAPACITY);
    expect(windowAt(result, 49_000)).toBeGreaterThanOrEqual(0.8 * 10 * BDP);
    // And once settled (rounds of 400 ms), it keeps the queue short there.
    expect(averageQueue(result, 38_000, 50_000)).toBeLessThan(8 * SEGMENT);
  });

  it('comes back down when the delay falls again, keeping the queue short', () => {
    const c = new CongestionController({ segmentSize: SEGMENT });
    const result = simulate({
      link: link(0, { queueLimit: 20 * BDP }),
      flows: [{ controller: c, packetSize: SEGMENT }],
      durationMs: 30_000,
      delayChanges: [
        { atMs: 3000, delayMs: 200 },
        { atMs: 15_000, delayMs: 20 },
      ],
    });
    expect(goodputBetween(result, 0, 20_000, 30_000)).toBeGreaterThanOrEqual(0.85 * CAPACITY);
    expect(averageQueue(result, 20_000, 30_000)).toBeLessThan(8 * SEGMENT);
  });

  it('keeps sending through the stalls of a reliable layer below (TCP under WebSocket)', () => {
    // One packet in 200 starts a 50 ms head-of-line stall: the layer below repairs a loss
    // the flow never sees, and holds everything behind it meanwhile.
    const result = simulate({
      link: link(0, { stalls: { probability: 0.005, ms: 50 } }),
      flows: [
        { controller: new CongestionController({ segmentSize: SEGMENT }), packetSize: SEGMENT },
      ],
      durationMs: RUN_MS,
    });
    // A window at the pipe plus the Vegas band runs dry in every stall (0.82 of capacity).
    expect(goodputBetween(result, 0, 2000, RUN_MS)).toBeGreaterThanOrEqual(0.95 * CAPACITY);
  });
});
