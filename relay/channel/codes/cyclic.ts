// Systematic cyclic codes: the codeword polynomial is d(x)·x^(n-k) + (d(x)·x^(n-k) mod g(x)),
// sent highest degree first (data bits, then the remainder), and the syndrome of a received
// word is its remainder mod g(x). Polynomials over GF(2) are integers: bit j is the x^j term.
import { blockCode } from './block-code.ts';
import type { BlockCodeSpec } from './tables.ts';
import type { ChannelCode, CodeName } from './types.ts';

function degree(poly: number): number {
  return 31 - Math.clz32(poly);
}

/** `value` mod `g` by long division over GF(2). */
export function polyMod(value: number, g: number): number {
  const dg = degree(g);
  for (let d = degree(value); d >= dg; d--) if ((value >>> d) & 1) value ^= g << (d - dg);
  return value;
}

export function cyclicSpec(name: CodeName, n: number, g: number): BlockCodeSpec {
  const r = degree(g);
  const k = n - r;
  // g must divide x^n + 1 for the code to be cyclic.
  if (polyMod((1 << n) | 1, g) !== 0) throw new Error(`${name}: g does not divide x^${n} + 1`);
  return {
    name,
    n,
    k,
    encodeWord: (data) => (data << r) | polyMod(data << r, g),
    syndrome: (word) => polyMod(word, g),
    dataOf: (word) => word >>> r,
  };
}

/** g(x) = x^3 + x + 1 */
export const CYCLIC_74: ChannelCode = blockCode(cyclicSpec('cyclic74', 7, 0b1011));
/** g(x) = x^4 + x + 1 */
export const CYCLIC_1511: ChannelCode = blockCode(cyclicSpec('cyclic1511', 15, 0b10011));
