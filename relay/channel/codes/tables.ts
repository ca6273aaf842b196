// Builds the lookup tables of a single-error-correcting block code from its bit-level
// definition. This runs once per code at module load; the hot path only reads the tables.
import type { CodeName } from './types.ts';

/**
 * An [n,k] block code defined bit by bit. Words are integers: a data word holds its first
 * bit (in frame order) in bit k-1, a codeword holds its first bit sent in bit n-1.
 */
export interface BlockCodeSpec {
  readonly name: CodeName;
  readonly n: number;
  readonly k: number;
  /** The codeword for a data word. */
  encodeWord(data: number): number;
  /** Zero exactly for codewords; otherwise identifies the error pattern. */
  syndrome(received: number): number;
  /** The data word a valid codeword carries. */
  dataOf(codeword: number): number;
}

/** Set in a decode-table entry when the received word was repaired. */
export const CORRECTED = 0x8000;

export interface CodeTables {
  /** 2^k entries: data word → codeword. */
  readonly encode: Uint16Array;
  /** 2^n entries: received word → data word of the nearest codeword, | CORRECTED if repaired. */
  readonly decode: Uint16Array;
}

/**
 * Tabulates `spec`. The code must be perfect and single-error-correcting (every nonzero
 * syndrome names exactly one single-bit error, as for Hamming codes and the cyclic codes
 * with primitive generators), so that every received word has a decoding.
 */
export function buildTables(spec: BlockCodeSpec): CodeTables {
  const { name, n, k } = spec;
  if (!(k >= 1 && k < n && n <= 15)) throw new Error(`${name}: unsupported [${n},${k}]`);

  // Syndrome → the single-bit error that causes it.
  const errorOf = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const s = spec.syndrome(1 << i);
    if (s === 0 || errorOf.has(s)) throw new Error(`${name}: does not correct every single error`);
    errorOf.set(s, 1 << i);
  }
  if (errorOf.size !== (1 << (n - k)) - 1) throw new Error(`${name}: not a perfect code`);

  const encode = new Uint16Array(1 << k);
  for (let d = 0; d < 1 << k; d++) {
    const c = spec.encodeWord(d);
    if (c >>> n !== 0 || spec.syndrome(c) !== 0 || spec.dataOf(c) !== d) {
      throw new Error(`${name}: encoding of ${d} is not a codeword carrying it`);
    }
    encode[d] = c;
  }

  const decode = new Uint16Array(1 << n);
  for (let r = 0; r < 1 << n; r++) {
    const s = spec.syndrome(r);
    if (s === 0) {
      decode[r] = spec.dataOf(r);
    } else {
      const e = errorOf.get(s);
      if (e === undefined) throw new Error(`${name}: syndrome ${s} of ${r} names no error`);
      decode[r] = spec.dataOf(r ^ e) | CORRECTED;
    }
  }
  return { encode, decode };
}
