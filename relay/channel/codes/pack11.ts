// Frame layout for k = 11: the frame's bits are cut into 11-bit data words across byte
// boundaries, so every 11 bytes (88 bits) make exactly 8 words; the last group is
// zero-padded. Codewords (n <= 16 bits) are stored one per Uint16Array element.

import { uninitializedWords } from './alloc.ts';

const DATA = 0x7ff;
const TAIL_BYTES = new Uint8Array(11);
const TAIL_WORDS = new Uint16Array(8);

/** Number of codewords for a frame of `byteLength` bytes. */
export function wordCount11(byteLength: number): number {
  return Math.ceil((byteLength * 8) / 11);
}

/** Encodes the 11 bytes at src[s] into the 8 codewords at dst[d]. */
function encodeGroup(src: Uint8Array, s: number, enc: Uint16Array, dst: Uint16Array, d: number) {
  const b1 = src[s + 1]!;
  const b2 = src[s + 2]!;
  const b4 = src[s + 4]!;
  const b5 = src[s + 5]!;
  const b6 = src[s + 6]!;
  const b8 = src[s + 8]!;
  const b9 = src[s + 9]!;
  dst[d] = enc[(src[s]! << 3) | (b1 >>> 5)]!;
  dst[d + 1] = enc[((b1 & 31) << 6) | (b2 >>> 2)]!;
  dst[d + 2] = enc[((b2 & 3) << 9) | (src[s + 3]! << 1) | (b4 >>> 7)]!;
  dst[d + 3] = enc[((b4 & 127) << 4) | (b5 >>> 4)]!;
  dst[d + 4] = enc[((b5 & 15) << 7) | (b6 >>> 1)]!;
  dst[d + 5] = enc[((b6 & 1) << 10) | (src[s + 7]! << 2) | (b8 >>> 6)]!;
  dst[d + 6] = enc[((b8 & 63) << 5) | (b9 >>> 3)]!;
  dst[d + 7] = enc[((b9 & 7) << 8) | src[s + 10]!]!;
}

/** Decodes the 8 codewords at src[s] into the 11 bytes at dst[d]; returns how many were repaired. */
function decodeGroup(
  src: Uint16Array,
  s: number,
  mask: number,
  dec: Uint16Array,
  dst: Uint8Array,
  d: number,
): number {
  const e0 = dec[src[s]! & mask]!;
  const e1 = dec[src[s + 1]! & mask]!;
  const e2 = dec[src[s + 2]! & mask]!;
  const e3 = dec[src[s + 3]! & mask]!;
  const e4 = dec[src[s + 4]! & mask]!;
  const e5 = dec[src[s + 5]! & mask]!;
  const e6 = dec[src[s + 6]! & mask]!;
  const e7 = dec[src[s + 7]! & mask]!;
  const w0 = e0 & DATA;
  const w1 = e1 & DATA;
  const w2 = e2 & DATA;
  const w3 = e3 & DATA;
  const w4 = e4 & DATA;
  const w5 = e5 & DATA;
  const w6 = e6 & DATA;
  const w7 = e7 & DATA;
  dst[d] = w0 >>> 3;
  dst[d + 1] = (w0 << 5) | (w1 >>> 6);
  dst[d + 2] = (w1 << 2) | (w2 >>> 9);
  dst[d + 3] = w2 >>> 1;
  dst[d + 4] = (w2 << 7) | (w3 >>> 4);
  dst[d + 5] = (w3 << 4) | (w4 >>> 7);
  dst[d + 6] = (w4 << 1) | (w5 >>> 10);
  dst[d + 7] = w5 >>> 2;
  dst[d + 8] = (w5 << 6) | (w6 >>> 5);
  dst[d + 9] = (w6 << 3) | (w7 >>> 8);
  dst[d + 10] = w7;
  // The CORRECTED flag is bit 15 of each entry.
  return (
    (e0 >>> 15) +
    (e1 >>> 15) +
    (e2 >>> 15) +
    (e3 >>> 15) +
    (e4 >>> 15) +
    (e5 >>> 15) +
    (e6 >>> 15) +
    (e7 >>> 15)
  );
}

// The main loops are functions of their own with nothing after the loop (see pack4.ts).

export function encode11(frame: Uint8Array, enc: Uint16Array): Uint16Array {
  const len = frame.length;
  const count = wordCount11(len);
  const words = uninitializedWords(count);
  const groups = Math.floor(len / 11);
  encodeGroups(frame, groups, enc, words);
  const i = 11 * groups;
  const j = 8 * groups;
  if (i < len) {
    // Copied element by element: a subarray() view would be an allocation.
    TAIL_BYTES.fill(0);
    for (let t = 0; i + t < len; t++) TAIL_BYTES[t] = frame[i + t]!;
    encodeGroup(TAIL_BYTES, 0, enc, TAIL_WORDS, 0);
    for (let t = 0; j + t < count; t++) words[j + t] = TAIL_WORDS[t]!;
  }
  return words;
}

function encodeGroups(frame: Uint8Array, groups: number, enc: Uint16Array, words: Uint16Array) {
  for (let g = 0; g < groups; g++) encodeGroup(frame, 11 * g, enc, words, 8 * g);
}

/** Decodes `words` into `out`; returns the number of repaired codewords. */
export function decode11(words: Uint16Array, n: number, dec: Uint16Array, out: Uint8Array): number {
  const len = out.length;
  const mask = (1 << n) - 1;
  const groups = Math.floor(len / 11);
  let corrected = decodeGroups(words, groups, mask, dec, out);
  const i = 11 * groups;
  const j = 8 * groups;
  if (i < len) {
    TAIL_WORDS.fill(0);
    for (let t = 0; j + t < words.length; t++) TAIL_WORDS[t] = words[j + t]!;
    corrected += decodeGroup(TAIL_WORDS, 0, mask, dec, TAIL_BYTES, 0);
    for (let t = 0; i + t < len; t++) out[i + t] = TAIL_BYTES[t]!;
  }
  return corrected;
}

function decodeGroups(
  words: Uint16Array,
  groups: number,
  mask: number,
  dec: Uint16Array,
  out: Uint8Array,
): number {
  let corrected = 0;
  for (let g = 0; g < groups; g++) corrected += decodeGroup(words, 8 * g, mask, dec, out, 11 * g);
  return corrected;
}
