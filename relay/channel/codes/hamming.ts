// Positional Hamming codes: bit positions 1..n, parity bits at the powers of two, and parity
// bit p covers every position whose number has bit p set. The syndrome (XOR of the numbers
// of the positions holding a 1) is then the position of a single error.
import { blockCode } from './block-code.ts';
import type { BlockCodeSpec } from './tables.ts';
import type { ChannelCode, CodeName } from './types.ts';

/** The Hamming code with `r` parity bits: [2^r - 1, 2^r - 1 - r]. */
export function hammingSpec(name: CodeName, r: number): BlockCodeSpec {
  const n = (1 << r) - 1;
  const k = n - r;
  const isParity = (p: number): boolean => (p & (p - 1)) === 0;
  const dataPositions: number[] = [];
  for (let p = 1; p <= n; p++) if (!isParity(p)) dataPositions.push(p);
  // Position p is sent as bit p - 1, which the integer codeword holds in bit n - p.
  const bitAt = (word: number, p: number): number => (word >>> (n - p)) & 1;
  const withBit = (word: number, p: number, v: number): number => word | (v << (n - p));

  const syndrome = (word: number): number => {
    let s = 0;
    for (let p = 1; p <= n; p++) if (bitAt(word, p)) s ^= p;
    return s;
  };
  return {
    name,
    n,
    k,
    encodeWord(data) {
      let c = 0;
      dataPositions.forEach((p, i) => (c = withBit(c, p, (data >>> (k - 1 - i)) & 1)));
      for (let q = 1; q <= n; q <<= 1) {
        let parity = 0;
        for (let p = 1; p <= n; p++) if (p & q && p !== q) parity ^= bitAt(c, p);
        c = withBit(c, q, parity);
      }
      return c;
    },
    syndrome,
    dataOf(word) {
      let d = 0;
      for (const p of dataPositions) d = (d << 1) | bitAt(word, p);
      return d;
    },
  };
}

export const HAMMING_74: ChannelCode = blockCode(hammingSpec('hamming74', 3));
export const HAMMING_1511: ChannelCode = blockCode(hammingSpec('hamming1511', 4));
