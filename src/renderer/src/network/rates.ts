// Rates for the network view's charts, derived from successive snapshots of the transport's
// cumulative counters: segments per second (counts) and payload bytes per second.
import type { TransportStats } from '../../../shared/api.ts';

/** What one poll of the network view yields. */
export interface NetworkSample {
  /** The host's clock when the snapshot was taken (epoch ms). */
  at: number;
  stats: TransportStats;
}

/** The segment counters whose per-second rates the charts show. */
export const RATE_COUNTERS = [
  'segmentsSent',
  'segmentsAcked',
  'segmentsReceived',
  'retransmissions',
  'bytesSent',
  'bytesReceived',
] as const;
export type RateCounter = (typeof RATE_COUNTERS)[number];

/** Per-second rates over the interval that ends at `at`; null where no rate can be known. */
export type RatePoint = { at: number } & { [K in RateCounter]: number | null };

/**
 * A longer silence than this between two samples is a gap in the chart, not a slow interval:
 * an average over it would draw a line through time in which nothing was measured.
 */
export const MAX_SAMPLE_GAP_MS = 5_000;

/**
 * One rate point per sample after the first. A counter that went down was reset (the app
 * restarted, or the conversation's sender state was rebuilt): that interval has no rate for
 * it, and the next interval starts from the new value. A non-positive or overlong interval
 * has no rates at all.
 */
export function deriveRates(samples: readonly NetworkSample[]): RatePoint[] {
  const points: RatePoint[] = [];
  for (let i = 1; i < samples.length; i++) {
    const prev = samples[i - 1]!;
    const cur = samples[i]!;
    const dtMs = cur.at - prev.at;
    const usable = dtMs > 0 && dtMs <= MAX_SAMPLE_GAP_MS && prev.stats.peer === cur.stats.peer;
    const point = { at: cur.at } as RatePoint;
    for (const key of RATE_COUNTERS) {
      const delta = cur.stats[key] - prev.stats[key];
      point[key] = usable && delta >= 0 ? (delta * 1000) / dtMs : null;
    }
    points.push(point);
  }
  return points;
}

/** The samples within `windowMs` of the newest, plus one before them so the first rate exists. */
export function trimSamples<T extends { at: number }>(
  samples: readonly T[],
  windowMs: number,
): T[] {
  const newest = samples.at(-1);
  if (newest === undefined) return [];
  const from = newest.at - windowMs;
  let first = samples.findIndex((s) => s.at >= from);
  if (first === -1) first = samples.length - 1;
  return samples.slice(Math.max(0, first - 1));
}
