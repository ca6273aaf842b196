// Scales and SVG paths for the network view's line charts (hand-written: a few lines of
// arithmetic do not justify a chart library in a security-minded renderer).

export interface ChartPoint {
  at: number;
  /** Null where nothing is known: the line breaks there. */
  value: number | null;
}

export interface ChartBox {
  width: number;
  height: number;
  /** Room left of the plot for the axis labels. */
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The smallest 1, 2 or 5 × 10^k at or above `v`, so that axis labels are round; 1 for v ≤ 0. */
export function niceCeiling(v: number): number {
  if (!Number.isFinite(v) || v <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 5, 10]) {
    const candidate = step * magnitude;
    // Tolerate floating point: 0.3 / 0.1 is not exactly 3.
    if (candidate >= v * (1 - 1e-12)) return candidate;
  }
  return 10 * magnitude;
}

/** The top of the y axis for these series: a round number above every known value. */
export function yMaxOf(series: readonly (readonly ChartPoint[])[]): number {
  let max = 0;
  for (const points of series) {
    for (const p of points) if (p.value !== null && p.value > max) max = p.value;
  }
  return niceCeiling(max);
}

/** Maps time in [from, to] and values in [0, yMax] into the plot area of `box`. */
export function scales(
  box: ChartBox,
  from: number,
  to: number,
  yMax: number,
): { x: (at: number) => number; y: (value: number) => number } {
  const plotWidth = box.width - box.left - box.right;
  const plotHeight = box.height - box.top - box.bottom;
  const span = to > from ? to - from : 1;
  const top = yMax > 0 ? yMax : 1;
  return {
    x: (at) => box.left + ((at - from) / span) * plotWidth,
    // Values above the top (the axis lags a spike by one render) stay inside the box.
    y: (value) => box.top + plotHeight - (Math.min(Math.max(value, 0), top) / top) * plotHeight,
  };
}

const round = (n: number): number => Math.round(n * 10) / 10;

/**
 * An SVG path through the points, in order, broken at every null value. A point alone between
 * two breaks becomes a zero-length segment, which a round line cap draws as a dot.
 */
export function linePath(
  points: readonly ChartPoint[],
  x: (at: number) => number,
  y: (value: number) => number,
): string {
  const parts: string[] = [];
  let open = false;
  let runLength = 0;
  for (const p of points) {
    if (p.value === null) {
      if (open && runLength === 1) parts.push('l0 0');
      open = false;
      continue;
    }
    parts.push(`${open ? 'L' : 'M'}${round(x(p.at))} ${round(y(p.value))}`);
    runLength = open ? runLength + 1 : 1;
    open = true;
  }
  if (open && runLength === 1) parts.push('l0 0');
  return parts.join(' ');
}

/** Evenly spaced y-axis labels from 0 to yMax inclusive. */
export function yTicks(yMax: number, count = 2): number[] {
  const ticks: number[] = [];
  for (let i = 0; i <= count; i++) ticks.push((yMax * i) / count);
  return ticks;
}
