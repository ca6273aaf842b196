import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  hasValidChecksum,
  type DataFrame,
} from '../../src/shared/protocol/index.ts';
import { sampleFrames } from '../../src/shared/protocol/testing.ts';
import { Metrics } from '../metrics.ts';
import { CODE_NAMES } from './codes/index.ts';
import { applyChannelPatch, defaultChannelConfig } from './config.ts';
import { ChannelEmulator, type Fate, type Route } from './emulator.ts';

const T0 = 1_780_000_000_000;
const AB: Route = { from: 'alice', to: 'bob', link: 1 };

/** The 360-byte data frame of sampleFrames() (a 300-byte payload). */
const DATA_FRAME = sampleFrames().find(
  (f): f is DataFrame => f.type === 'data' && f.payload.length > 0,
)!;
const DATA = encodeFrame(DATA_FRAME);
/** One encoded frame of every type, so bit errors land in many layouts and lengths. */
const ALL_FRAMES = sampleFrames().map((f) => encodeFrame(f));

interface Setup {
  em: ChannelEmulator;
  metrics: Metrics;
  clock: { t: number };
}

/** An emulator over defaultChannelConfig(seed) with `patch`, its metrics and a clock. */
function setup(patch: Record<string, unknown>, seed = 1): Setup {
  const metrics = new Metrics();
  const clock = { t: T0 };
  const result = applyChannelPatch(defaultChannelConfig(seed), patch, clock.t);
  if (!result.ok) throw new Error(result.errors.join('; '));
  const em = new ChannelEmulator(metrics, result.config, () => clock.t);
  return { em, metrics, clock };
}

function run(em: ChannelEmulator, n: number, frame = DATA, route = AB): Fate[] {
  return Array.from({ length: n }, () => em.transmit(frame, route));
}

function delivered(fate: Fate): Extract<Fate, { delivered: true }> {
  if (!fate.delivered) throw new Error(`expected delivery, got ${fate.reason}`);
  return fate;
}

function lossPattern(fates: Fate[]): boolean[] {
  return fates.map((f) => !f.delivered);
}

/** The mean length of runs of consecutive losses. */
function meanLossRun(lost: boolean[]): number {
  let runs = 0;
  let total = 0;
  let current = 0;
  for (const l of [...lost, false]) {
    if (l) current++;
    else if (current > 0) {
      runs++;
      total += current;
      current = 0;
    }
  }
  return total / runs;
}

function bitsDiffering(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    for (let x = a[i]! ^ b[i]!; x; x &= x - 1) n++;
  }
  return n;
}

/** A channel that touches every random choice: loss, bit errors, jitter, reordering, duplicates. */
const BUSY = {
  loss: 0.2,
  ber: 0.3,
  burstBits: 2,
  code: 'hamming74',
  jitterMs: 50,
  delayMs: 100,
  reorder: 0.2,
  duplicate: 0.2,
};

describe('determinism', () => {
  it('the same seed gives the same sequence of fates', () => {
    const a = run(setup(BUSY, 1234).em, 300);
    const b = run(setup(BUSY, 1234).em, 300);
    expect(a).toEqual(b);
    // The sequence is not trivial: every kind of outcome occurs.
    expect(a.some((f) => !f.delivered && f.reason === 'lost')).toBe(true);
    expect(a.some((f) => !f.delivered && f.reason === 'uncorrectable')).toBe(true);
    expect(a.some((f) => f.delivered && f.copies.length === 2)).toBe(true);
    expect(a.some((f) => f.delivered && f.reordered)).toBe(true);
  });

  it('a different seed gives a different sequence', () => {
    const a = run(setup(BUSY, 1234).em, 300);
    const b = run(setup(BUSY, 1235).em, 300);
    expect(a).not.toEqual(b);
    expect(lossPattern(a)).not.toEqual(lossPattern(b));
  });

  it('a clean channel delivers every frame at once, unchanged, without touching random state', () => {
    const { em, metrics } = setup({});
    for (const frame of ALL_FRAMES) {
      const fate = delivered(em.transmit(frame, AB));
      expect(fate).toEqual({
        delivered: true,
        copies: [{ bytes: frame, delayMs: 0 }],
        flipped: 0,
        corrected: 0,
        corrupted: false,
        reordered: false,
      });
    }
    expect(metrics.value('channel_delayed')).toBe(0);
    // No random number was drawn: a lossy channel now starts where a fresh one would.
    em.update({ loss: 0.5 });
    expect(lossPattern(run(em, 200))).toEqual(lossPattern(run(setup({ loss: 0.5 }).em, 200)));
  });
});

describe('Bernoulli loss', () => {
  for (const R of [0.01, 0.1, 0.5]) {
    it(`loses a fraction R = ${R} of 20,000 frames, within 5 standard deviations`, () => {
      const n = 20_000;
      const { em, metrics } = setup({ loss: R }, 77);
      const fates = run(em, n);
      const lost = fates.filter((f) => !f.delivered);
      expect(lost.every((f) => !f.delivered && f.reason === 'lost' && f.flipped === 0)).toBe(true);
      const sd = Math.sqrt(n * R * (1 - R));
      expect(Math.abs(lost.length - n * R)).toBeLessThanOrEqual(5 * sd);
      expect(metrics.value('channel_lost')).toBe(lost.length);
    });
  }

  it('loses nothing at R = 0 and everything at R = 1', () => {
    expect(run(setup({ loss: 0 }).em, 1000).every((f) => f.delivered)).toBe(true);
    expect(run(setup({ loss: 1 }).em, 1000).every((f) => !f.delivered)).toBe(true);
  });
});

describe('Gilbert-Elliott loss', () => {
  // Stationary P(bad) = 0.05 / (0.05 + 0.25) = 1/6, so the mean loss is 0.6 / 6 = 0.1.
  const GE = {
    lossModel: 'gilbert-elliott',
    gilbertElliott: { pGoodToBad: 0.05, pBadToGood: 0.25, lossGood: 0, lossBad: 0.6 },
  };

  it('is burstier than Bernoulli loss at the same mean', () => {
    const n = 20_000;
    const ge = lossPattern(run(setup(GE, 5).em, n));
    const bernoulli = lossPattern(run(setup({ loss: 0.1 }, 5).em, n));
    const geRate = ge.filter(Boolean).length / n;
    const bernoulliRate = bernoulli.filter(Boolean).length / n;
    expect(geRate).toBeGreaterThan(0.075);
    expect(geRate).toBeLessThan(0.125);
    expect(Math.abs(bernoulliRate - 0.1)).toBeLessThan(5 * Math.sqrt((0.1 * 0.9) / n));
    // Bernoulli: mean run 1 / (1 - 0.1) = 1.11. Gilbert-Elliott: about 1.8.
    const geRun = meanLossRun(ge);
    const bernoulliRun = meanLossRun(bernoulli);
    expect(bernoulliRun).toBeLessThan(1.2);
    expect(geRun).toBeGreaterThan(1.5);
  });

  it('keeps a separate state for each direction', () => {
    // Once bad, a direction stays bad and loses everything; it turns bad rarely.
    const sticky = {
      lossModel: 'gilbert-elliott',
      gilbertElliott: { pGoodToBad: 0.01, pBadToGood: 0, lossGood: 0, lossBad: 1 },
    };
    const { em } = setup(sticky, 3);
    let sent = 0;
    while (em.transmit(DATA, AB).delivered) {
      sent++;
      expect(sent).toBeLessThan(5000);
    }
    expect(run(em, 20).every((f) => !f.delivered)).toBe(true);
    // bob -> alice and alice -> carol are still in the good state.
    expect(em.transmit(DATA, { from: 'bob', to: 'alice', link: 2 }).delivered).toBe(true);
    expect(em.transmit(DATA, { from: 'alice', to: 'carol', link: 3 }).delivered).toBe(true);
    expect(em.transmit(DATA, AB).delivered).toBe(false);
  });
});

describe('bit errors with a correcting code', () => {
  for (const code of CODE_NAMES.filter((c) => c !== 'none')) {
    it(`${code} repairs every single-bit error (ber = 1, burstBits = 1)`, () => {
      const { em, metrics } = setup({ ber: 1, burstBits: 1, code }, 11);
      let n = 0;
      let corrected = 0;
      for (let round = 0; round < 20; round++) {
        for (const frame of ALL_FRAMES) {
          const copy = frame.slice();
          const fate = delivered(em.transmit(frame, AB));
          n++;
          corrected += fate.corrected;
          expect(fate.flipped).toBe(1);
          expect(fate.corrected).toBe(1);
          expect(fate.corrupted).toBe(false);
          expect(fate.copies).toHaveLength(1);
          const out = fate.copies[0]!.bytes;
          expect(hasValidChecksum(out)).toBe(true);
          expect(out).toEqual(frame);
          expect(frame).toEqual(copy); // the caller's bytes are never flipped
        }
      }
      expect(metrics.value('channel_bits_flipped')).toBe(n);
      expect(metrics.value('channel_corrected')).toBe(corrected);
      expect(metrics.value('channel_uncorrectable')).toBe(0);
    });
  }

  it('a coded channel without errors delivers frames unchanged and corrects nothing', () => {
    const { em, metrics } = setup({ code: 'hamming1511' });
    for (const frame of ALL_FRAMES) {
      const fate = delivered(em.transmit(frame, AB));
      expect(fate.copies[0]!.bytes).toEqual(frame);
      expect(fate.corrected).toBe(0);
    }
    expect(metrics.value('channel_corrected')).toBe(0);
    expect(metrics.value('channel_bits_flipped')).toBe(0);
  });

  it('hamming74 cannot repair 2-bit bursts: the CRC catches the mis-corrections', () => {
    const { em, metrics } = setup({ ber: 1, burstBits: 2, code: 'hamming74' }, 12);
    let uncorrectable = 0;
    let repaired = 0;
    for (let round = 0; round < 20; round++) {
      for (const frame of ALL_FRAMES) {
        const fate = em.transmit(frame, AB);
        expect(fate.flipped).toBe(2);
        if (!fate.delivered) {
          expect(fate.reason).toBe('uncorrectable');
          uncorrectable++;
        } else {
          // Both bits fell in different codewords: each was repaired.
          repaired++;
          expect(fate.corrupted).toBe(false);
          expect(fate.corrected).toBe(2);
          expect(fate.copies[0]!.bytes).toEqual(frame);
        }
      }
    }
    // Two adjacent bits share one of the 7-bit codewords 6 times out of 7.
    expect(uncorrectable).toBeGreaterThan(repaired);
    expect(repaired).toBeGreaterThan(0);
    expect(metrics.json().channel_uncorrectable).toEqual({ drop: uncorrectable });
    expect(metrics.value('channel_bits_flipped')).toBe(2 * (uncorrectable + repaired));
  });
});

describe('bit errors without a code', () => {
  it("onUncorrectable 'drop' drops every hit frame as uncorrectable", () => {
    const { em, metrics } = setup({ ber: 1, code: 'none', onUncorrectable: 'drop' });
    for (const frame of ALL_FRAMES) {
      expect(em.transmit(frame, AB)).toEqual({
        delivered: false,
        reason: 'uncorrectable',
        flipped: 1,
      });
    }
    expect(metrics.json().channel_uncorrectable).toEqual({ drop: ALL_FRAMES.length });
    expect(metrics.value('channel_bits_flipped')).toBe(ALL_FRAMES.length);
  });

  it("onUncorrectable 'pass' delivers the damaged frame, marked corrupted", () => {
    const { em, metrics } = setup({ ber: 1, burstBits: 3, onUncorrectable: 'pass' });
    for (const frame of ALL_FRAMES) {
      const copy = frame.slice();
      const fate = delivered(em.transmit(frame, AB));
      expect(fate.corrupted).toBe(true);
      expect(fate.flipped).toBe(3);
      expect(fate.corrected).toBe(0);
      const out = fate.copies[0]!.bytes;
      expect(hasValidChecksum(out)).toBe(false);
      expect(decodeFrame(out).ok).toBe(false);
      expect(out).toHaveLength(frame.length);
      expect(bitsDiffering(out, frame)).toBe(3);
      expect(frame).toEqual(copy);
    }
    expect(metrics.json().channel_uncorrectable).toEqual({ pass: ALL_FRAMES.length });
  });

  it('a partial bit error rate hits about that fraction of frames', () => {
    const n = 5000;
    const fates = run(setup({ ber: 0.2 }, 8).em, n);
    const hit = fates.filter((f) => !f.delivered).length;
    expect(Math.abs(hit - 0.2 * n)).toBeLessThan(5 * Math.sqrt(n * 0.2 * 0.8));
  });
});

describe('duplication, delay, jitter and reordering', () => {
  it('duplicate = 1 delivers two identical copies of every frame', () => {
    const { em, metrics } = setup({ duplicate: 1, delayMs: 15 });
    for (const fate of run(em, 50)) {
      expect(delivered(fate).copies).toEqual([
        { bytes: DATA, delayMs: 15 },
        { bytes: DATA, delayMs: 15 },
      ]);
    }
    expect(metrics.value('channel_duplicated')).toBe(50);
  });

  it('duplicate = 0.3 duplicates about 30% of frames', () => {
    const fates = run(setup({ duplicate: 0.3 }, 4).em, 5000).map(delivered);
    const twice = fates.filter((f) => f.copies.length === 2).length;
    expect(Math.abs(twice - 1500)).toBeLessThan(5 * Math.sqrt(5000 * 0.3 * 0.7));
  });

  it('a fixed delay applies to every copy and is counted', () => {
    const { em, metrics } = setup({ delayMs: 250 });
    for (const fate of run(em, 20)) expect(delivered(fate).copies[0]!.delayMs).toBe(250);
    expect(metrics.value('channel_delayed')).toBe(20);
  });

  it('jitter spreads delays within delayMs +/- jitterMs', () => {
    const delays = run(setup({ delayMs: 100, jitterMs: 30 }, 6).em, 2000).map(
      (f) => delivered(f).copies[0]!.delayMs,
    );
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(70);
      expect(d).toBeLessThanOrEqual(130);
    }
    expect(Math.min(...delays)).toBeLessThan(75);
    expect(Math.max(...delays)).toBeGreaterThan(125);
    const mean = delays.reduce((s, d) => s + d, 0) / delays.length;
    expect(Math.abs(mean - 100)).toBeLessThan(2);
  });

  it('jitter larger than the delay never makes a delay negative', () => {
    const delays = run(setup({ delayMs: 10, jitterMs: 50 }, 6).em, 2000).map(
      (f) => delivered(f).copies[0]!.delayMs,
    );
    expect(Math.min(...delays)).toBe(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(60);
    expect(Math.max(...delays)).toBeGreaterThan(50);
  });

  it('reorder = 1 holds every frame back by reorderDelayMs', () => {
    const { em, metrics } = setup({ reorder: 1, delayMs: 10, reorderDelayMs: 35 });
    for (const fate of run(em, 30)) {
      const f = delivered(fate);
      expect(f.reordered).toBe(true);
      expect(f.copies[0]!.delayMs).toBe(45);
    }
    expect(metrics.value('channel_reordered')).toBe(30);
  });

  it('reorder = 0.5 holds back about half the frames, and only those', () => {
    const fates = run(setup({ reorder: 0.5, reorderDelayMs: 20 }, 9).em, 2000).map(delivered);
    const held = fates.filter((f) => f.reordered);
    expect(Math.abs(held.length - 1000)).toBeLessThan(5 * Math.sqrt(2000 * 0.25));
    for (const f of fates) expect(f.copies[0]!.delayMs).toBe(f.reordered ? 20 : 0);
  });
});

describe('rate limit', () => {
  const RATE = 10_000; // bytes per second
  const SEND_MS = (DATA.length * 1000) / RATE; // 36 ms per frame

  it('serialises frames on a link: each one waits for those before it', () => {
    const { em, metrics } = setup({ rateBytesPerSec: RATE });
    const delays = run(em, 5).map((f) => delivered(f).copies[0]!.delayMs);
    delays.forEach((d, i) => expect(d).toBeCloseTo(SEND_MS * (i + 1), 9));
    expect(metrics.value('channel_delayed')).toBe(5);
  });

  it('adds the channel delay on top of the serialisation time', () => {
    const { em } = setup({ rateBytesPerSec: RATE, delayMs: 100 });
    const delays = run(em, 3).map((f) => delivered(f).copies[0]!.delayMs);
    delays.forEach((d, i) => expect(d).toBeCloseTo(100 + SEND_MS * (i + 1), 9));
  });

  it('the backlog drains as time passes', () => {
    const { em, clock } = setup({ rateBytesPerSec: RATE });
    run(em, 5);
    clock.t += 2 * SEND_MS; // two of the five have left
    expect(delivered(em.transmit(DATA, AB)).copies[0]!.delayMs).toBeCloseTo(4 * SEND_MS, 9);
    clock.t += 1000; // idle again
    expect(delivered(em.transmit(DATA, AB)).copies[0]!.delayMs).toBeCloseTo(SEND_MS, 9);
  });

  it('both copies of a duplicated frame take their turn', () => {
    const { em } = setup({ rateBytesPerSec: RATE, duplicate: 1 });
    const [first, second] = delivered(em.transmit(DATA, AB)).copies;
    expect(first!.delayMs).toBeCloseTo(SEND_MS, 9);
    expect(second!.delayMs).toBeCloseTo(2 * SEND_MS, 9);
    expect(delivered(em.transmit(DATA, AB)).copies[0]!.delayMs).toBeCloseTo(3 * SEND_MS, 9);
  });

  it('drops frames that do not fit the queue, on that link only', () => {
    const queueBytes = 1024;
    const fits = Math.floor(queueBytes / DATA.length); // 2
    const { em, metrics, clock } = setup({ rateBytesPerSec: RATE, queueBytes });
    for (let i = 0; i < fits; i++) expect(em.transmit(DATA, AB).delivered).toBe(true);
    expect(em.transmit(DATA, AB)).toEqual({ delivered: false, reason: 'queue-full', flipped: 0 });
    expect(em.transmit(DATA, AB)).toMatchObject({ delivered: false, reason: 'queue-full' });
    expect(metrics.value('channel_queue_dropped')).toBe(2);
    // Another link (even towards the same user) has its own queue.
    const other = delivered(em.transmit(DATA, { from: 'carol', to: 'bob', link: 2 }));
    expect(other.copies[0]!.delayMs).toBeCloseTo(SEND_MS, 9);
    // Once one frame has left, there is room for one more.
    clock.t += SEND_MS;
    expect(em.transmit(DATA, AB).delivered).toBe(true);
    expect(em.transmit(DATA, AB).delivered).toBe(false);
  });

  it('a duplicated frame needs room in the queue for both copies', () => {
    const big = encodeFrame({ ...DATA_FRAME, payload: new Uint8Array(600) });
    expect(big.length * 2).toBeGreaterThan(1024);
    const { em } = setup({ rateBytesPerSec: RATE, queueBytes: 1024, duplicate: 1 });
    expect(em.transmit(big, AB)).toMatchObject({ delivered: false, reason: 'queue-full' });
    const { em: single } = setup({ rateBytesPerSec: RATE, queueBytes: 1024 });
    expect(single.transmit(big, AB).delivered).toBe(true);
  });

  it('forgetLink resets a link', () => {
    const { em } = setup({ rateBytesPerSec: RATE, queueBytes: 1024 });
    run(em, 3);
    expect(em.transmit(DATA, AB).delivered).toBe(false);
    em.forgetLink(AB.link);
    expect(delivered(em.transmit(DATA, AB)).copies[0]!.delayMs).toBeCloseTo(SEND_MS, 9);
  });
});

describe('partitions', () => {
  it('drop both directions between the two users until they heal', () => {
    const { em, metrics, clock } = setup({ loss: 0 });
    const result = em.update({ partitions: [{ a: 'alice', b: 'bob', durationMs: 1000 }] });
    expect(result.ok).toBe(true);
    const ba: Route = { from: 'bob', to: 'alice', link: 2 };
    const partitioned = { delivered: false, reason: 'partitioned', flipped: 0 };
    expect(em.transmit(DATA, AB)).toEqual(partitioned);
    expect(em.transmit(DATA, ba)).toEqual(partitioned);
    expect(em.transmit(DATA, { from: 'alice', to: 'carol', link: 3 }).delivered).toBe(true);
    expect(em.transmit(DATA, { from: 'carol', to: 'bob', link: 1 }).delivered).toBe(true);
    clock.t = T0 + 999;
    expect(em.transmit(DATA, AB)).toEqual(partitioned);
    clock.t = T0 + 1000;
    expect(em.transmit(DATA, AB).delivered).toBe(true);
    expect(em.transmit(DATA, ba).delivered).toBe(true);
    expect(em.settings.partitions).toEqual([]);
    expect(metrics.value('channel_partitioned')).toBe(3);
  });

  it('take precedence over loss', () => {
    const { em, metrics } = setup({
      loss: 1,
      partitions: [{ a: 'bob', b: 'alice', durationMs: 5 }],
    });
    expect(em.transmit(DATA, AB)).toMatchObject({ reason: 'partitioned' });
    expect(metrics.value('channel_lost')).toBe(0);
  });
});

describe('update', () => {
  const STICKY_GE = {
    lossModel: 'gilbert-elliott',
    gilbertElliott: { pGoodToBad: 0.05, pBadToGood: 0.02, lossGood: 0.05, lossBad: 0.9 },
    ber: 0.2,
    jitterMs: 20,
    duplicate: 0.1,
  };

  it('a new seed restarts the random stream: the same fates as a fresh emulator', () => {
    const { em } = setup(STICKY_GE, 1);
    run(em, 500);
    expect(em.update({ seed: 99 }).ok).toBe(true);
    expect(em.settings.seed).toBe(99);
    expect(run(em, 500)).toEqual(run(setup(STICKY_GE, 99).em, 500));
  });

  it('a new seed also resets the Gilbert-Elliott states', () => {
    const alwaysBad = {
      lossModel: 'gilbert-elliott',
      gilbertElliott: { pGoodToBad: 1, pBadToGood: 0, lossGood: 0, lossBad: 1 },
    };
    const { em } = setup(alwaysBad, 1);
    expect(run(em, 10).every((f) => !f.delivered)).toBe(true); // alice -> bob is bad now
    expect(em.update({ ...STICKY_GE, seed: 99 }).ok).toBe(true);
    expect(run(em, 500)).toEqual(run(setup(STICKY_GE, 99).em, 500));
  });

  it('naming the current seed restarts the stream too', () => {
    const { em } = setup(STICKY_GE, 1);
    const first = run(em, 300);
    em.update({ seed: 1 });
    expect(run(em, 300)).toEqual(first);
  });

  it('other changes continue the random stream', () => {
    const a = setup(STICKY_GE, 1).em;
    const b = setup(STICKY_GE, 1).em;
    run(a, 200);
    run(b, 200);
    a.update({ delayMs: 40 });
    const fates = run(a, 200);
    expect(lossPattern(fates)).toEqual(lossPattern(run(b, 200)));
    expect(fates.filter((f) => f.delivered).every((f) => f.copies[0]!.delayMs >= 20)).toBe(true);
  });

  it('rejects invalid settings and keeps the current ones', () => {
    const { em } = setup({ loss: 0.3 });
    const before = structuredClone(em.settings);
    const result = em.update({ loss: 3, seed: 5 });
    expect(result).toEqual({ ok: false, errors: ['loss must be a probability between 0 and 1'] });
    expect(em.settings).toEqual(before);
  });

  it('applies valid settings to the next frame', () => {
    const { em } = setup({});
    expect(em.transmit(DATA, AB).delivered).toBe(true);
    expect(em.update({ loss: 1 }).ok).toBe(true);
    expect(em.settings.loss).toBe(1);
    expect(em.transmit(DATA, AB)).toMatchObject({ delivered: false, reason: 'lost' });
  });
});
