// The channel's settings: one schema serves the command-line flags, the environment and
// PUT /api/channel, so the three accept exactly the same values with the same errors.
import { CODE_NAMES, type CodeName } from './codes/index.ts';

export const LOSS_MODELS = ['bernoulli', 'gilbert-elliott'] as const;
export type LossModel = (typeof LOSS_MODELS)[number];
export const ON_UNCORRECTABLE = ['drop', 'pass'] as const;
export type OnUncorrectable = (typeof ON_UNCORRECTABLE)[number];

/** The longest delay (and jitter) accepted: ten minutes, well past the minute the course asks. */
export const MAX_DELAY_MS = 600_000;
export const MAX_BURST_BITS = 64;
export const MAX_PARTITION_MS = 24 * 3600 * 1000;

export interface GilbertElliott {
  /** Probability per frame of moving from the good state to the bad state. */
  pGoodToBad: number;
  /** Probability per frame of moving from the bad state back to the good state. */
  pBadToGood: number;
  lossGood: number;
  lossBad: number;
}

export interface Partition {
  a: string;
  b: string;
  /** Epoch milliseconds at which the partition heals. */
  until: number;
}

export interface ChannelConfig {
  /** Probability that a frame is lost (Bernoulli model). */
  loss: number;
  lossModel: LossModel;
  gilbertElliott: GilbertElliott;
  /** Probability that a frame's coded bits suffer an error burst of `burstBits` bits. */
  ber: number;
  burstBits: number;
  code: CodeName;
  onUncorrectable: OnUncorrectable;
  delayMs: number;
  jitterMs: number;
  duplicate: number;
  reorder: number;
  /** How long a reordered frame is held back so that the frames behind it overtake it. */
  reorderDelayMs: number;
  /** Bytes per second towards each connection; 0 is unlimited. */
  rateBytesPerSec: number;
  /** The rate limiter's queue per connection; frames beyond it are dropped (tail drop). */
  queueBytes: number;
  seed: number;
  partitions: Partition[];
}

export function defaultChannelConfig(seed: number): ChannelConfig {
  return {
    loss: 0,
    lossModel: 'bernoulli',
    gilbertElliott: { pGoodToBad: 0.01, pBadToGood: 0.25, lossGood: 0, lossBad: 0.5 },
    ber: 0,
    burstBits: 1,
    code: 'none',
    onUncorrectable: 'drop',
    delayMs: 0,
    jitterMs: 0,
    duplicate: 0,
    reorder: 0,
    reorderDelayMs: 20,
    rateBytesPerSec: 0,
    queueBytes: 4 * 1024 * 1024,
    seed,
    partitions: [],
  };
}

export type PatchResult = { ok: true; config: ChannelConfig } | { ok: false; errors: string[] };

type Check = (v: unknown, path: string, errors: string[]) => unknown;

const probability: Check = (v, path, errors) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
    errors.push(`${path} must be a probability between 0 and 1`);
  }
  return v;
};
const integer =
  (min: number, max: number): Check =>
  (v, path, errors) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      errors.push(`${path} must be an integer from ${min} to ${max}`);
    }
    return v;
  };
const oneOf =
  (values: readonly string[]): Check =>
  (v, path, errors) => {
    if (typeof v !== 'string' || !values.includes(v)) {
      errors.push(`${path} must be one of ${values.join(', ')}`);
    }
    return v;
  };

const FIELDS: Record<Exclude<keyof ChannelConfig, 'gilbertElliott' | 'partitions'>, Check> = {
  loss: probability,
  lossModel: oneOf(LOSS_MODELS),
  ber: probability,
  burstBits: integer(1, MAX_BURST_BITS),
  code: oneOf(CODE_NAMES),
  onUncorrectable: oneOf(ON_UNCORRECTABLE),
  delayMs: integer(0, MAX_DELAY_MS),
  jitterMs: integer(0, MAX_DELAY_MS),
  duplicate: probability,
  reorder: probability,
  reorderDelayMs: integer(0, MAX_DELAY_MS),
  rateBytesPerSec: integer(0, 10 * 1024 ** 3),
  queueBytes: integer(1024, 1024 ** 3),
  seed: integer(0, 0xffff_ffff),
};
const GE_FIELDS: Record<keyof GilbertElliott, Check> = {
  pGoodToBad: probability,
  pBadToGood: probability,
  lossGood: probability,
  lossBad: probability,
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates `patch` (parsed JSON or flags) and applies it to `current`. Unknown keys and
 * out-of-range values are errors; nothing is applied unless everything is valid.
 * Partitions are given as `{ a, b, durationMs }` and stored with the time they heal.
 */
export function applyChannelPatch(
  current: ChannelConfig,
  patch: unknown,
  now: number,
): PatchResult {
  const errors: string[] = [];
  if (!isRecord(patch))
    return { ok: false, errors: ['the channel settings must be a JSON object'] };
  const next: ChannelConfig = structuredClone(current);
  for (const [key, value] of Object.entries(patch)) {
    if (Object.hasOwn(FIELDS, key)) {
      FIELDS[key as keyof typeof FIELDS](value, key, errors);
      (next as unknown as Record<string, unknown>)[key] = value;
    } else if (key === 'gilbertElliott') {
      if (!isRecord(value)) {
        errors.push('gilbertElliott must be an object');
        continue;
      }
      for (const [k, v] of Object.entries(value)) {
        const check = Object.hasOwn(GE_FIELDS, k) ? GE_FIELDS[k as keyof GilbertElliott] : null;
        if (!check) errors.push(`unknown setting gilbertElliott.${k}`);
        else {
          check(v, `gilbertElliott.${k}`, errors);
          next.gilbertElliott[k as keyof GilbertElliott] = v as number;
        }
      }
    } else if (key === 'partitions') {
      if (!Array.isArray(value)) {
        errors.push('partitions must be an array of { a, b, durationMs }');
        continue;
      }
      next.partitions = value.map((p, i) => {
        const path = `partitions[${i}]`;
        if (!isRecord(p) || typeof p.a !== 'string' || typeof p.b !== 'string') {
          errors.push(`${path} must be { a, b, durationMs } with two user names`);
          return { a: '', b: '', until: 0 };
        }
        for (const k of Object.keys(p)) {
          if (!['a', 'b', 'durationMs'].includes(k)) errors.push(`unknown setting ${path}.${k}`);
        }
        integer(1, MAX_PARTITION_MS)(p.durationMs, `${path}.durationMs`, errors);
        return { a: p.a, b: p.b, until: now + Number(p.durationMs) };
      });
    } else {
      errors.push(`unknown setting ${key}`);
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config: next };
}

/** The settings as shown by GET /api/channel: partitions with the time they have left. */
export function describeChannel(config: ChannelConfig, now: number): Record<string, unknown> {
  return {
    ...config,
    partitions: config.partitions
      .filter((p) => p.until > now)
      .map((p) => ({ a: p.a, b: p.b, remainingMs: p.until - now })),
  };
}
