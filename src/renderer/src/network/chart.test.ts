import { describe, expect, it } from 'vitest';
import { linePath, niceCeiling, scales, yMaxOf, yTicks, type ChartBox } from './chart.ts';

describe('niceCeiling', () => {
  it('rounds up to 1, 2 or 5 times a power of ten', () => {
    expect(niceCeiling(0.3)).toBe(0.5);
    expect(niceCeiling(1)).toBe(1);
    expect(niceCeiling(1.01)).toBe(2);
    expect(niceCeiling(3)).toBe(5);
    expect(niceCeiling(7)).toBe(10);
    expect(niceCeiling(20)).toBe(20);
    expect(niceCeiling(4100)).toBe(5000);
    expect(niceCeiling(0.1 + 0.2)).toBe(0.5);
  });

  it('is 1 for zero, negative and non-finite input', () => {
    expect(niceCeiling(0)).toBe(1);
    expect(niceCeiling(-5)).toBe(1);
    expect(niceCeiling(Number.NaN)).toBe(1);
  });
});

describe('yMaxOf', () => {
  it('covers the largest known value of every series, ignoring nulls', () => {
    expect(
      yMaxOf([
        [
          { at: 0, value: 3 },
          { at: 1, value: null },
        ],
        [{ at: 0, value: 140 }],
      ]),
    ).toBe(200);
    expect(yMaxOf([[{ at: 0, value: null }]])).toBe(1);
  });
});

describe('scales', () => {
  const box: ChartBox = { width: 110, height: 60, left: 10, right: 0, top: 5, bottom: 5 };

  it('maps time left to right and values bottom to top inside the plot area', () => {
    const { x, y } = scales(box, 1000, 2000, 50);
    expect(x(1000)).toBe(10);
    expect(x(1500)).toBe(60);
    expect(x(2000)).toBe(110);
    expect(y(0)).toBe(55);
    expect(y(50)).toBe(5);
    expect(y(25)).toBe(30);
  });

  it('keeps values outside [0, yMax] inside the box', () => {
    const { y } = scales(box, 0, 1, 10);
    expect(y(20)).toBe(5);
    expect(y(-3)).toBe(55);
  });

  it('does not divide by zero for an empty time span or a zero top', () => {
    const { x, y } = scales(box, 5, 5, 0);
    expect(Number.isFinite(x(5))).toBe(true);
    expect(y(0)).toBe(55);
  });
});

describe('linePath', () => {
  const id = (n: number) => n;

  it('draws one run as a move and lines', () => {
    expect(
      linePath(
        [
          { at: 0, value: 1 },
          { at: 1, value: 2 },
          { at: 2, value: 3 },
        ],
        id,
        id,
      ),
    ).toBe('M0 1 L1 2 L2 3');
  });

  it('breaks at nulls and draws a lone point as a dot', () => {
    expect(
      linePath(
        [
          { at: 0, value: 1 },
          { at: 1, value: 2 },
          { at: 2, value: null },
          { at: 3, value: 4 },
          { at: 4, value: null },
          { at: 5, value: 6 },
          { at: 6, value: 7 },
        ],
        id,
        id,
      ),
    ).toBe('M0 1 L1 2 M3 4 l0 0 M5 6 L6 7');
  });

  it('draws a single trailing point as a dot, and nothing for no values', () => {
    expect(linePath([{ at: 1, value: 2 }], id, id)).toBe('M1 2 l0 0');
    expect(linePath([{ at: 1, value: null }], id, id)).toBe('');
  });

  it('rounds coordinates to a tenth', () => {
    expect(
      linePath(
        [
          { at: 0.123, value: 1.987 },
          { at: 1, value: 1 },
        ],
        id,
        id,
      ),
    ).toBe('M0.1 2 L1 1');
  });
});

describe('yTicks', () => {
  it('spaces labels evenly from zero to the top', () => {
    expect(yTicks(100)).toEqual([0, 50, 100]);
    expect(yTicks(5, 5)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
