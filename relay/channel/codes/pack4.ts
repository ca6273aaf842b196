// Frame layout for k = 4: each byte is two data words (high nibble first), and each
// codeword (n <= 8 bits) is stored in a byte of its own. The loops move four codewords
// (two frame bytes) at a time through a 32-bit view of the codeword bytes, which needs a
// little-endian platform and a 4-byte aligned codeword array; otherwise they go byte by byte.

import { uninitializedBytes } from './alloc.ts';

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** For each byte, its two codewords as a 16-bit pair, the first in the low byte. */
export function pairEncodeTable(encode: Uint16Array): Uint16Array {
  const t = new Uint16Array(256);
  for (let b = 0; b < 256; b++) t[b] = encode[b >>> 4]! | (encode[b & 15]! << 8);
  return t;
}

/**
 * For each pair of received words read as a 16-bit pair (first | second << 8, where only the
 * low n bits of each count), the decoded byte in bits 0-7 and the number of repaired words
 * (0-2) in bits 8-9. `corrected` is the flag of a repaired word in `decode`.
 */
export function pairDecodeTable(decode: Uint16Array, n: number, corrected: number): Uint16Array {
  const mask = (1 << n) - 1;
  const t = new Uint16Array(1 << 16);
  for (let pair = 0; pair < 1 << 16; pair++) {
    const first = decode[pair & mask]!;
    const second = decode[(pair >>> 8) & mask]!;
    const fixes = (first & corrected ? 1 : 0) + (second & corrected ? 1 : 0);
    t[pair] = ((first & 15) << 4) | (second & 15) | (fixes << 8);
  }
  return t;
}

// Each hot loop is a function of its own with nothing after the loop: V8 compiles a long
// loop on the fly (on-stack replacement) before the code after it has ever run, and code
// without type feedback there would send every call back to the interpreter for a while.
// The loops also index everything from their own counter (2 * q, ...) rather than carrying
// a second index along, which lets V8 drop most bounds checks: about twice as fast.

export function encode4(frame: Uint8Array, pairs: Uint16Array): Uint8Array {
  const len = frame.length;
  const words = uninitializedBytes(2 * len);
  let done = 0;
  if (LITTLE_ENDIAN) {
    // words starts a fresh buffer, so it is aligned; the frame may not be.
    const quads = new Uint32Array(words.buffer, words.byteOffset, len >>> 1);
    if ((frame.byteOffset & 3) === 0) {
      const frameQuads = new Uint32Array(frame.buffer, frame.byteOffset, len >>> 2);
      done = 4 * frameQuads.length;
      encodeAligned(frameQuads, pairs, quads);
    } else {
      done = 2 * quads.length;
      encodeUnaligned(frame, pairs, quads);
    }
  }
  encodeBytes(frame, done, pairs, words);
  return words;
}

/** Four frame bytes at a time into eight codewords. */
function encodeAligned(frameQuads: Uint32Array, pairs: Uint16Array, quads: Uint32Array): void {
  const m = frameQuads.length;
  for (let q = 0; q < m; q++) {
    const x = frameQuads[q]!;
    quads[2 * q] = pairs[x & 0xff]! | (pairs[(x >>> 8) & 0xff]! << 16);
    quads[2 * q + 1] = pairs[(x >>> 16) & 0xff]! | (pairs[x >>> 24]! << 16);
  }
}

/** Two frame bytes at a time into four codewords. */
function encodeUnaligned(frame: Uint8Array, pairs: Uint16Array, quads: Uint32Array): void {
  const m = quads.length;
  for (let q = 0; q < m; q++) {
    quads[q] = pairs[frame[2 * q]!]! | (pairs[frame[2 * q + 1]!]! << 16);
  }
}

function encodeBytes(frame: Uint8Array, from: number, pairs: Uint16Array, words: Uint8Array) {
  for (let i = from; i < frame.length; i++) {
    const p = pairs[frame[i]!]!;
    words[2 * i] = p;
    words[2 * i + 1] = p >>> 8;
  }
}

/**
 * Decodes `words` into `out` (half as long); returns the number of repaired words. Besides
 * `out`, the only allocation is the 32-bit view of `words`.
 */
export function decode4(words: Uint8Array, pairs: Uint16Array, out: Uint8Array): number {
  let corrected = 0;
  let done = 0;
  if (LITTLE_ENDIAN && (words.byteOffset & 3) === 0) {
    const quads = new Uint32Array(words.buffer, words.byteOffset, out.length >>> 1);
    done = 2 * quads.length;
    corrected = decodeQuads(quads, pairs, out);
  }
  return corrected + decodeBytes(words, done, pairs, out);
}

/** Four codewords at a time into two bytes. */
function decodeQuads(quads: Uint32Array, pairs: Uint16Array, out: Uint8Array): number {
  const m = quads.length;
  let corrected = 0;
  for (let q = 0; q < m; q++) {
    const w = quads[q]!;
    const a = pairs[w & 0xffff]!;
    const b = pairs[w >>> 16]!;
    out[2 * q] = a;
    out[2 * q + 1] = b;
    corrected += (a >>> 8) + (b >>> 8);
  }
  return corrected;
}

function decodeBytes(words: Uint8Array, from: number, pairs: Uint16Array, out: Uint8Array) {
  let corrected = 0;
  for (let i = from; i < out.length; i++) {
    const p = pairs[words[2 * i]! | (words[2 * i + 1]! << 8)]!;
    out[i] = p;
    corrected += p >>> 8;
  }
  return corrected;
}
