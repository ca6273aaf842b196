// Small segments: a 100 KB text message end to end (send() in one engine to the complete
// message in the other) at the course's segment sizes X = 100, 200 and 1,000 B, on a clean
// channel and at the course's P and R, in segments per second. Baseline: the same message
// at the default X (64 KiB, two segments) in the same run, so that the figure shows what
// the per-segment cost adds. Goal: at least 5,000 segments/s at X = 100 B, clean.
import { DEFAULT_SEGMENT_SIZE, segmentCount } from '../src/core/transport/segments.ts';
import { withPair } from './engine.ts';
import { until, type Report } from './harness.ts';

/** 100 KB of text (the largest text message), as one message. */
export const TEXT = 'small segments, many of them. '.repeat(3334).slice(0, 100_000);
/** Messages timed per row; the best one counts (the machine is shared). */
const ROUNDS = 3;
/** The course's text variant: P = 8 % of copies with a bit error (Hamming (7,4)), R = 1.5 %. */
const COURSE = ['--ber', '0.08', '--burst-bits', '1', '--code', 'hamming74', '--loss', '0.015'];
export const CHANNELS = { clean: [], course: [...COURSE, '--seed', '7'] } as const;

/** The best time, in seconds, for one 100 KB message from alice to bob. */
async function bestSeconds(args: readonly string[], segmentSize: number): Promise<number> {
  return withPair([...args], { segmentSize }, async (alice, bob, got) => {
    let best = Infinity;
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      alice.send('bob', TEXT);
      await until(bob, () => got.count > i);
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    return best;
  });
}

export async function runSegmentsBench(report: Report): Promise<void> {
  const body = 1 + TEXT.length;
  for (const [channel, args] of Object.entries(CHANNELS)) {
    const base = await bestSeconds(args, DEFAULT_SEGMENT_SIZE);
    for (const x of [100, 200, 1000]) {
      const seconds = await bestSeconds(args, x);
      const segments = segmentCount(body, x);
      report.add(`segments.${channel}.x${x}.segments_per_second`, segments / seconds, 'seg/s', {
        ...(x === 100 && channel === 'clean' ? { goal: '>= 5000' } : {}),
      });
      report.add(`segments.${channel}.x${x}.message_seconds`, seconds, 's', {
        baseline: { name: `same message at X = ${DEFAULT_SEGMENT_SIZE} B`, value: base },
        better: 'lower',
      });
    }
  }
}
