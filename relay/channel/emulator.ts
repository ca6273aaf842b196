// The noisy channel between the relay and each recipient. For every copy of a data or
// acknowledgement frame it decides, in this order and with one seeded random stream:
//   partition -> loss (Bernoulli or Gilbert-Elliott) -> encode, bit errors, decode
//   -> uncorrectable check -> delay and jitter -> reordering -> duplication -> rate limit.
// (The order fixes which random number each decision draws, so a seed replays a run.)
// It decides and counts; the relay's router carries out the decision.
import { hasValidChecksum } from '../../src/shared/protocol/index.ts';
import { seededRandom, type Random } from '../../src/shared/random.ts';
import type { Metrics } from '../metrics.ts';
import { getCode } from './codes/index.ts';
import {
  applyChannelPatch,
  defaultChannelConfig,
  type ChannelConfig,
  type PatchResult,
} from './config.ts';

export interface Copy {
  bytes: Uint8Array;
  delayMs: number;
}

export type Fate =
  | {
      delivered: false;
      reason: 'lost' | 'partitioned' | 'uncorrectable' | 'queue-full';
      flipped: number;
    }
  | {
      delivered: true;
      copies: Copy[];
      flipped: number;
      corrected: number;
      /** Passed on with errors the code could not repair (onUncorrectable: pass). */
      corrupted: boolean;
      reordered: boolean;
    };

/** Where a copy is going: the link is the recipient's connection (for the rate limiter). */
export interface Route {
  from: string;
  to: string;
  link: number;
}

export class ChannelEmulator {
  private config: ChannelConfig;
  private random: Random;
  private readonly badState = new Map<string, boolean>();
  private readonly linkBusyUntil = new Map<number, number>();
  private readonly now: () => number;
  private readonly count: {
    lost: () => void;
    partitioned: () => void;
    flipped: (label?: string, by?: number) => void;
    corrected: (label?: string, by?: number) => void;
    uncorrectable: (label?: string) => void;
    duplicated: () => void;
    delayed: () => void;
    reordered: () => void;
    queueDropped: () => void;
  };

  constructor(
    metrics: Metrics,
    config: ChannelConfig = defaultChannelConfig(0),
    now = () => Date.now(),
  ) {
    this.config = config;
    this.random = seededRandom(config.seed);
    this.now = now;
    this.count = {
      lost: metrics.counter('channel_lost', 'Frames the channel lost (random or burst loss).'),
      partitioned: metrics.counter('channel_partitioned', 'Frames dropped by a partition.'),
      flipped: metrics.counter(
        'channel_bits_flipped',
        'Bits flipped by the channel in coded frames.',
      ),
      corrected: metrics.counter(
        'channel_corrected',
        'Codewords the decoder changed (repaired, or mis-corrected in frames then counted uncorrectable).',
      ),
      uncorrectable: metrics.counter(
        'channel_uncorrectable',
        'Frames still damaged after decoding, by what was done with them.',
        'action',
      ),
      duplicated: metrics.counter('channel_duplicated', 'Frames the channel duplicated.'),
      delayed: metrics.counter('channel_delayed', 'Frames held back by delay, jitter or rate.'),
      reordered: metrics.counter(
        'channel_reordered',
        'Frames held back so that later ones overtake.',
      ),
      queueDropped: metrics.counter(
        'channel_queue_dropped',
        'Frames dropped by a full rate-limit queue.',
      ),
    };
  }

  get settings(): ChannelConfig {
    return this.config;
  }

  /** Applies validated settings; a new seed restarts the random stream. */
  update(patch: unknown): PatchResult {
    const result = applyChannelPatch(this.config, patch, this.now());
    if (!result.ok) return result;
    const reseed = result.config.seed !== this.config.seed || 'seed' in (patch as object);
    this.config = result.config;
    if (reseed) {
      this.random = seededRandom(this.config.seed);
      this.badState.clear();
    }
    return result;
  }

  /** Forgets a closed connection's rate-limiter state. */
  forgetLink(link: number): void {
    this.linkBusyUntil.delete(link);
  }

  transmit(frame: Uint8Array, route: Route): Fate {
    const c = this.config;
    const rand = this.random;
    const now = this.now();

    if (c.partitions.length > 0 && this.partitioned(route, now)) {
      this.count.partitioned();
      return { delivered: false, reason: 'partitioned', flipped: 0 };
    }
    if (this.lose(route)) {
      this.count.lost();
      return { delivered: false, reason: 'lost', flipped: 0 };
    }

    let bytes = frame;
    let flipped = 0;
    let corrected = 0;
    let corrupted = false;
    const hit = c.ber > 0 && rand() < c.ber;
    if (hit || c.code !== 'none') {
      const code = getCode(c.code);
      const coded = code.encode(frame);
      if (hit) {
        const bits = code.codedBits(coded);
        const start = Math.floor(rand() * bits);
        flipped = Math.min(c.burstBits, bits);
        for (let b = 0; b < flipped; b++) code.flipBit(coded, (start + b) % bits);
        this.count.flipped('', flipped);
      }
      const decoded = code.decode(coded);
      bytes = decoded.bytes;
      corrected = decoded.corrected;
      if (corrected > 0) this.count.corrected('', corrected);
      // Only a frame that took a hit can be damaged; the frame's own CRC-32 tells whether
      // the decoder repaired it or mis-corrected it.
      if (hit && !hasValidChecksum(bytes)) {
        this.count.uncorrectable(c.onUncorrectable);
        if (c.onUncorrectable === 'drop') {
          return { delivered: false, reason: 'uncorrectable', flipped };
        }
        corrupted = true;
      }
    }

    let delayMs = c.delayMs;
    if (c.jitterMs > 0) delayMs = Math.max(0, delayMs + (rand() * 2 - 1) * c.jitterMs);
    const reordered = c.reorder > 0 && rand() < c.reorder;
    if (reordered) {
      delayMs += c.reorderDelayMs;
      this.count.reordered();
    }
    const duplicate = c.duplicate > 0 && rand() < c.duplicate;
    const copies = duplicate ? 2 : 1;
    if (duplicate) this.count.duplicated();

    if (c.rateBytesPerSec > 0) {
      // Serialisation on the recipient's link: each copy leaves when the link is free.
      const busyUntil = Math.max(now, this.linkBusyUntil.get(route.link) ?? now);
      const backlogBytes = ((busyUntil - now) / 1000) * c.rateBytesPerSec;
      if (backlogBytes + bytes.length * copies > c.queueBytes) {
        this.count.queueDropped();
        return { delivered: false, reason: 'queue-full', flipped };
      }
      const sendMs = (bytes.length * 1000) / c.rateBytesPerSec;
      const out: Copy[] = [];
      let t = busyUntil;
      for (let i = 0; i < copies; i++) {
        t += sendMs;
        out.push({ bytes, delayMs: t - now + delayMs });
      }
      this.linkBusyUntil.set(route.link, t);
      this.count.delayed();
      return { delivered: true, copies: out, flipped, corrected, corrupted, reordered };
    }

    if (delayMs > 0) this.count.delayed();
    const out: Copy[] = [{ bytes, delayMs }];
    if (duplicate) out.push({ bytes, delayMs });
    return { delivered: true, copies: out, flipped, corrected, corrupted, reordered };
  }

  private partitioned(route: Route, now: number): boolean {
    this.config.partitions = this.config.partitions.filter((p) => p.until > now);
    return this.config.partitions.some(
      (p) => (p.a === route.from && p.b === route.to) || (p.a === route.to && p.b === route.from),
    );
  }

  private lose(route: Route): boolean {
    const c = this.config;
    if (c.lossModel === 'bernoulli') return c.loss > 0 && this.random() < c.loss;
    // Gilbert-Elliott: a two-state Markov chain per direction; the bad state loses more.
    const key = `${route.from}\u0000${route.to}`;
    const ge = c.gilbertElliott;
    let bad = this.badState.get(key) ?? false;
    bad = bad ? this.random() >= ge.pBadToGood : this.random() < ge.pGoodToBad;
    this.badState.set(key, bad);
    return this.random() < (bad ? ge.lossBad : ge.lossGood);
  }
}
