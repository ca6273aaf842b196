// The benchmark harness: suites record figures, each next to a baseline measured in the
// same run, because this machine is shared and only ratios within one run mean anything.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Messenger } from '../src/core/messenger.ts';
import type { MessengerEvent } from '../src/shared/api.ts';

export interface Figure {
  /** Stable identifier, e.g. `codec.hamming74.throughput`. */
  name: string;
  value: number;
  unit: string;
  /** The figure this one is compared against, measured in the same run. */
  baseline: { name: string; value: number } | null;
  /** value / baseline.value (or the inverse for lower-is-better units; see `better`). */
  ratio: number | null;
  /** Whether a larger value is better; the ratio is oriented so that > 1 means Strata wins. */
  better: 'higher' | 'lower';
  /** The goal from the issue, in words, when there is one. */
  goal?: string;
}

export class Report {
  readonly figures: Figure[] = [];

  add(
    name: string,
    value: number,
    unit: string,
    opts: {
      baseline?: { name: string; value: number };
      better?: 'higher' | 'lower';
      goal?: string;
    } = {},
  ): Figure {
    const better = opts.better ?? 'higher';
    const base = opts.baseline ?? null;
    let ratio: number | null = null;
    if (base && base.value > 0 && value > 0) {
      ratio = better === 'higher' ? value / base.value : base.value / value;
    }
    const figure: Figure = { name, value, unit, baseline: base, ratio, better };
    if (opts.goal) figure.goal = opts.goal;
    this.figures.push(figure);
    return figure;
  }

  table(): string {
    const rows = this.figures.map((f) => [
      f.name,
      `${fmt(f.value)} ${f.unit}`,
      f.baseline ? `${f.baseline.name} ${fmt(f.baseline.value)}` : '',
      f.ratio === null ? '' : `${fmt(f.ratio)}x`,
      f.goal ?? '',
    ]);
    const head = ['figure', 'value', 'baseline (same run)', 'ratio', 'goal'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
  }

  write(path: string, meta: Record<string, unknown>): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify({ ...meta, figures: this.figures }, null, 2) + '\n');
  }
}

function fmt(n: number): string {
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 1000) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  return n.toPrecision(3);
}

/**
 * Runs `fn` repeatedly until at least `minMs` have passed (after one warm-up call) and
 * returns the best rate observed over `rounds` rounds, in units of `work` per second.
 * Taking the best round filters out pauses caused by other tenants of the machine.
 */
export function bestRate(fn: () => void, work: number, rounds = 5, minMs = 200): number {
  fn();
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    let calls = 0;
    const start = performance.now();
    let elapsed: number;
    do {
      fn();
      calls++;
      elapsed = performance.now() - start;
    } while (elapsed < minMs);
    best = Math.max(best, (calls * work) / (elapsed / 1000));
  }
  return best;
}

/** Resolves once `test` holds: at once, or at the engine's first event after which it does. */
export function until(m: Messenger, test: (e: MessengerEvent | null) => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (test(null)) return resolve();
    const on = (e: MessengerEvent) => {
      if (test(e)) {
        m.off('event', on);
        resolve();
      }
    };
    m.on('event', on);
  });
}
