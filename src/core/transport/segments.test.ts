import { describe, expect, it } from 'vitest';
import { checkSegmentSize, segmentBounds, segmentCount } from './segments.ts';

describe('segments', () => {
  it('cover a message exactly, in order, with only the last one short', () => {
    for (const [length, size] of [
      [0, 64],
      [1, 64],
      [64, 64],
      [65, 64],
      [1000, 100],
      [100_000, 16_384],
    ] as const) {
      const n = segmentCount(length, size);
      let expected = 0;
      for (let i = 0; i < n; i++) {
        const [start, end] = segmentBounds(i, length, size);
        expect(start).toBe(expected);
        expect(end - start).toBe(i < n - 1 ? size : length - (n - 1) * size);
        expected = end;
      }
      expect(expected).toBe(length);
    }
  });

  it('accepts sizes from 64 B to 64 KiB only', () => {
    expect(() => checkSegmentSize(64)).not.toThrow();
    expect(() => checkSegmentSize(65_536)).not.toThrow();
    for (const bad of [63, 65_537, 100.5, Number.NaN])
      expect(() => checkSegmentSize(bad)).toThrow(RangeError);
  });
});
