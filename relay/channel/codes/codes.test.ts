import { describe, expect, it } from 'vitest';
import { BITSTRING_CODES } from '../../../bench/reference/bitstring-codes.ts';
import { crc32 } from '../../../src/shared/protocol/crc32.ts';
import { CODE_NAMES, getCode, isCodeName } from './index.ts';
import type { ChannelCode, CodeName, CodedFrame } from './index.ts';
import { seededRandom } from '../../../src/shared/random.ts';

const CORRECTING: CodeName[] = ['hamming74', 'hamming1511', 'cyclic74', 'cyclic1511'];
const SHAPES: Record<CodeName, [n: number, k: number]> = {
  none: [8, 8],
  hamming74: [7, 4],
  hamming1511: [15, 11],
  cyclic74: [7, 4],
  cyclic1511: [15, 11],
};

// ---- Independent definitions, written here again so that the tests do not trust the code.

const rng = seededRandom;

function randomFrame(length: number, seed: number): Uint8Array {
  const next = rng(seed);
  return Uint8Array.from({ length }, () => Math.floor(next() * 256));
}

/** Codeword `w` (n bits) as the string of its bits in the order they are sent. */
function bitString(w: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += (w >>> (n - 1 - i)) & 1;
  return s;
}

/** Packs k-bit data words MSB-first into bytes (the bit count must be a multiple of 8). */
function packWords(words: number[], k: number): Uint8Array {
  const bits = words.map((w) => bitString(w, k)).join('');
  expect(bits.length % 8).toBe(0);
  return Uint8Array.from({ length: bits.length / 8 }, (_, i) =>
    parseInt(bits.slice(8 * i, 8 * i + 8), 2),
  );
}

function unpackWords(bytes: Uint8Array, k: number): number[] {
  const bits = Array.from(bytes, (b) => bitString(b, 8)).join('');
  const words: number[] = [];
  for (let i = 0; i + k <= bits.length; i += k) words.push(parseInt(bits.slice(i, i + k), 2));
  return words;
}

/** Positions 1..n that carry data in a positional Hamming code. */
function hammingDataPositions(n: number): number[] {
  const positions: number[] = [];
  for (let p = 1; p <= n; p++) if ((p & (p - 1)) !== 0) positions.push(p);
  return positions;
}

/** Index (0-based, in sending order) within a codeword of its data bit t. */
function dataBitIndex(name: CodeName, t: number): number {
  const [n] = SHAPES[name];
  return name.startsWith('hamming') ? hammingDataPositions(n)[t]! - 1 : t;
}

/** The data word carried by codeword w, read from the positions the definition gives. */
function dataOf(name: CodeName, w: number): number {
  const [n, k] = SHAPES[name];
  const bits = bitString(w, n);
  let d = '';
  for (let t = 0; t < k; t++) d += bits[dataBitIndex(name, t)];
  return parseInt(d, 2);
}

function polyMod(value: number, g: number): number {
  const dg = 31 - Math.clz32(g);
  for (let d = 31 - Math.clz32(value); d >= dg; d--) if ((value >>> d) & 1) value ^= g << (d - dg);
  return value;
}

/** Whether w is a codeword: Hamming parity checks (XOR of set positions) or divisibility by g. */
function isCodeword(name: CodeName, w: number): boolean {
  const [n] = SHAPES[name];
  if (name === 'cyclic74') return polyMod(w, 0b1011) === 0;
  if (name === 'cyclic1511') return polyMod(w, 0b10011) === 0;
  let s = 0;
  for (let p = 1; p <= n; p++) if ((w >>> (n - p)) & 1) s ^= p;
  return s === 0;
}

function codewordStrings(code: ChannelCode, coded: CodedFrame): string[] {
  return Array.from(coded.words, (w) => bitString(w, code.n));
}

function positionsToTry(bits: number, seed: number): number[] {
  if (bits <= 2000) return Array.from({ length: bits }, (_, i) => i);
  const next = rng(seed);
  const picks = new Set<number>();
  for (let i = 0; i < 64; i++) picks.add(i).add(bits - 1 - i);
  while (picks.size < 228) picks.add(Math.floor(next() * bits));
  return [...picks];
}

// ---- The registry.

describe('registry', () => {
  it('names every code and gives its shape', () => {
    expect([...CODE_NAMES]).toEqual(['none', 'hamming74', 'hamming1511', 'cyclic74', 'cyclic1511']);
    for (const name of CODE_NAMES) {
      const code = getCode(name);
      expect(code.name).toBe(name);
      expect([code.n, code.k]).toEqual(SHAPES[name]);
      expect(isCodeName(name)).toBe(true);
    }
    expect(isCodeName('hamming')).toBe(false);
    expect(isCodeName('')).toBe(false);
    expect(() => getCode('bogus' as CodeName)).toThrow(RangeError);
  });

  it('rejects channel bits outside the frame and frames of another shape', () => {
    for (const name of CODE_NAMES) {
      const code = getCode(name);
      const coded = code.encode(randomFrame(5, 1));
      const bits = code.codedBits(coded);
      expect(() => code.flipBit(coded, bits)).toThrow(RangeError);
      expect(() => code.flipBit(coded, -1)).toThrow(RangeError);
      expect(() => code.flipBit(coded, 0.5)).toThrow(RangeError);
      const other = getCode(code.k === 11 ? 'hamming74' : 'hamming1511');
      expect(() => code.decode(other.encode(randomFrame(5, 1)))).toThrow(TypeError);
    }
  });
});

// ---- Word level, exhaustively: every data word, every single error, every received word.

/** The data word of the codeword within distance 1 of r, found by trying them all. */
function nearest(name: CodeName, r: number): { data: number; fixed: boolean } {
  const [n] = SHAPES[name];
  if (isCodeword(name, r)) return { data: dataOf(name, r), fixed: false };
  for (let i = 0; i < n; i++) {
    if (isCodeword(name, r ^ (1 << i))) return { data: dataOf(name, r ^ (1 << i)), fixed: true };
  }
  throw new Error(`${name}: no codeword within one bit of ${r}`);
}

describe.each(CORRECTING)('%s, every data word', (name) => {
  const code = getCode(name);
  const { n, k } = code;
  // A frame holding every data word: every byte value for k = 4 (which also covers every
  // pair of data words a byte can hold), the 2^11 words back to back for k = 11.
  const frame =
    k === 4
      ? Uint8Array.from({ length: 256 }, (_, b) => b)
      : packWords(
          Array.from({ length: 1 << k }, (_, d) => d),
          k,
        );
  const data = unpackWords(frame, k);

  it('encodes to a distinct codeword of the code that carries the data word', () => {
    const coded = code.encode(frame);
    expect(coded.words.length).toBe(data.length);
    const bad: number[] = [];
    data.forEach((d, i) => {
      const w = coded.words[i]!;
      if (w >>> n !== 0 || !isCodeword(name, w) || dataOf(name, w) !== d) bad.push(i);
    });
    expect(bad).toEqual([]);
    expect(new Set(data).size).toBe(1 << k);
    expect(new Set(coded.words).size).toBe(1 << k);
  });

  it('decodes every codeword unchanged and flags nothing', () => {
    const { bytes, corrected } = code.decode(code.encode(frame));
    expect(unpackWords(bytes, k)).toEqual(data);
    expect(corrected).toBe(0);
  });

  it('corrects every single-bit error in every codeword, and flags exactly those words', () => {
    for (let i = 0; i < n; i++) {
      // Error at bit i in every codeword.
      const coded = code.encode(frame);
      for (let w = 0; w < data.length; w++) code.flipBit(coded, w * n + i);
      let out = code.decode(coded);
      expect(unpackWords(out.bytes, k)).toEqual(data);
      expect(out.corrected).toBe(data.length);

      // Error at bit i in every other codeword only.
      const half = code.encode(frame);
      for (let w = 1; w < data.length; w += 2) code.flipBit(half, w * n + i);
      out = code.decode(half);
      expect(unpackWords(out.bytes, k)).toEqual(data);
      expect(out.corrected).toBe(data.length / 2);
    }
  });

  it('decodes every possible received word to the nearest codeword', () => {
    // Every n-bit word, fed to the decoder directly. For k = 4 the words go in as every
    // possible pair (a byte's two codewords are looked up together).
    const received =
      k === 4
        ? Array.from({ length: 1 << (2 * n) }, (_, i) => [i >>> n, i & ((1 << n) - 1)]).flat()
        : Array.from({ length: 1 << n }, (_, r) => r);
    const expected = received.map((r) => nearest(name, r));
    const fixes = expected.filter((e) => e.fixed).length;
    const words = k === 4 ? Uint8Array.from(received) : Uint16Array.from(received);

    // All at once, through the main loop.
    const whole = code.decode({ words, byteLength: (received.length * k) / 8 });
    expect(unpackWords(whole.bytes, k)).toEqual(expected.map((e) => e.data));
    expect(whole.corrected).toBe(fixes);

    // Group by group (the words of 1 byte for k = 4, of 11 bytes for k = 11), so that each
    // group's count of repaired words is checked too.
    const group = k === 4 ? 2 : 8;
    const wrong: number[] = [];
    for (let g = 0; g < received.length; g += group) {
      const out = code.decode({ words: words.slice(g, g + group), byteLength: (group * k) / 8 });
      const want = expected.slice(g, g + group);
      const same = unpackWords(out.bytes, k).every((d, i) => d === want[i]!.data);
      if (!same || out.corrected !== want.filter((e) => e.fixed).length) wrong.push(g);
    }
    expect(wrong).toEqual([]);
  });
});

describe('known codewords', () => {
  const word = (name: CodeName, bytes: number[]): string => {
    const code = getCode(name);
    return codewordStrings(code, code.encode(Uint8Array.from(bytes)))[0]!;
  };
  it('match the textbook examples', () => {
    // Hamming [7,4]: data 1011 → p1 p2 d1 p3 d2 d3 d4 = 0110011.
    expect(word('hamming74', [0b1011_0000])).toBe('0110011');
    // Cyclic [7,4], g = 1011: 1001·x^3 = 1001000, remainder 110.
    expect(word('cyclic74', [0b1001_0000])).toBe('1001110');
    // Hamming [15,11]: the last data bit sits at position 15 = 1111, covered by every parity.
    expect(word('hamming1511', [0, 0b0010_0000])).toBe('110100010000001');
    // Cyclic [15,11]: data 1 gives x^4 mod g = x + 1, so the codeword is g itself.
    expect(word('cyclic1511', [0, 0b0010_0000])).toBe('000000000010011');
  });
});

// ---- Frame level.

const LENGTHS = [0, 1, 2, 10, 11, 12, 1000, 16384];

describe.each(CORRECTING)('%s frames', (name) => {
  const code = getCode(name);
  const { n, k } = code;

  it.each(LENGTHS)('round-trips %i bytes without errors', (length) => {
    const frame = randomFrame(length, length + 1);
    const coded = code.encode(frame);
    expect(coded.byteLength).toBe(length);
    expect(coded.words.length).toBe(Math.ceil((8 * length) / k));
    expect(code.codedBits(coded)).toBe(coded.words.length * n);
    const { bytes, corrected } = code.decode(coded);
    expect(bytes).toEqual(frame);
    expect(corrected).toBe(0);
  });

  it.each(LENGTHS.filter((l) => l > 0))('corrects one flipped bit in %i bytes', (length) => {
    const frame = randomFrame(length, length + 2);
    const coded = code.encode(frame);
    const before = Uint16Array.from(coded.words);
    for (const bit of positionsToTry(code.codedBits(coded), length)) {
      code.flipBit(coded, bit);
      const { bytes, corrected } = code.decode(coded);
      expect(bytes, `bit ${bit}`).toEqual(frame);
      expect(corrected, `bit ${bit}`).toBe(1);
      code.flipBit(coded, bit);
    }
    expect(Uint16Array.from(coded.words)).toEqual(before);
  });

  it('handles frames and codeword arrays at any alignment', () => {
    for (let offset = 0; offset < 4; offset++) {
      for (const length of [1, 2, 3, 4, 5, 7, 8, 9, 13, 22, 1001]) {
        const frame = randomFrame(length + offset, length).subarray(offset);
        const coded = code.encode(frame);
        expect(Array.from(coded.words)).toEqual(Array.from(code.encode(frame.slice()).words));
        // The same codewords, stored at an offset in a larger array.
        const Words = coded.words instanceof Uint8Array ? Uint8Array : Uint16Array;
        const shifted = new Words(coded.words.length + offset).subarray(offset);
        shifted.set(coded.words);
        const moved = { words: shifted, byteLength: length };
        const bit = (length * 37) % code.codedBits(moved);
        code.flipBit(moved, bit);
        expect(code.decode(moved)).toEqual({ bytes: frame.slice(), corrected: 1 });
      }
    }
  });

  it('zero-pads the last data word and corrects errors in the padding', () => {
    // Lengths where the last codeword carries padding: 8·length is not a multiple of k.
    const lengths = k === 4 ? [] : [1, 2, 10, 12, 1000];
    for (const length of lengths) {
      const frame = randomFrame(length, length + 3);
      const coded = code.encode(frame);
      const last = coded.words.length - 1;
      const used = 8 * length - k * last;
      expect(used).toBeGreaterThan(0);
      expect(used).toBeLessThan(k);
      expect(dataOf(name, coded.words[last]!) & ((1 << (k - used)) - 1)).toBe(0);
      for (let t = used; t < k; t++) {
        const bit = last * n + dataBitIndex(name, t);
        code.flipBit(coded, bit);
        const { bytes, corrected } = code.decode(coded);
        expect(bytes).toEqual(frame);
        expect(corrected).toBe(1);
        code.flipBit(coded, bit);
      }
    }
    // [7,4] never pads: a byte is exactly two data words.
    if (k === 4) expect(code.encode(randomFrame(3, 0)).words.length).toBe(6);
  });

  it('corrects one error per codeword, including a burst across a codeword boundary', () => {
    const frame = randomFrame(1000, 4);
    const coded = code.encode(frame);
    const next = rng(5);
    const words = coded.words.length;
    for (let trial = 0; trial < 200; trial++) {
      const w1 = Math.floor(next() * words);
      let w2 = Math.floor(next() * (words - 1));
      if (w2 >= w1) w2++;
      const bits = [w1 * n + Math.floor(next() * n), w2 * n + Math.floor(next() * n)];
      for (const b of bits) code.flipBit(coded, b);
      const { bytes, corrected } = code.decode(coded);
      expect(bytes).toEqual(frame);
      expect(corrected).toBe(2);
      for (const b of bits) code.flipBit(coded, b);
    }
    for (let w = 1; w < words; w += 37) {
      code.flipBit(coded, w * n - 1);
      code.flipBit(coded, w * n);
      const { bytes, corrected } = code.decode(coded);
      expect(bytes).toEqual(frame);
      expect(corrected).toBe(2);
      code.flipBit(coded, w * n - 1);
      code.flipBit(coded, w * n);
    }
  });
});

describe('none', () => {
  const code = getCode('none');
  it.each(LENGTHS)('carries %i bytes as they are and leaves errors in', (length) => {
    const frame = randomFrame(length, length + 6);
    const coded = code.encode(frame);
    expect(code.codedBits(coded)).toBe(8 * length);
    expect(code.decode(coded)).toEqual({ bytes: frame, corrected: 0 });
    if (length === 0) return;
    const bit = 8 * length - 3;
    code.flipBit(coded, bit);
    const { bytes, corrected } = code.decode(coded);
    const expected = frame.slice();
    expected[length - 1] = expected[length - 1]! ^ 0b100;
    expect(bytes).toEqual(expected);
    expect(corrected).toBe(0);
    expect(frame).toEqual(randomFrame(length, length + 6)); // encode copied the frame
  });
});

// ---- Agreement with the bit-string reference of bench/reference.

describe.each([...CODE_NAMES])('%s agrees with the bit-string reference', (name) => {
  const fast = getCode(name);
  const ref = BITSTRING_CODES[name];
  const lengths = [0, 1, 2, 3, 10, 11, 12, 13, 37, 100, 257];

  it('produces the same codewords, bit for bit', () => {
    for (const length of lengths) {
      const frame = randomFrame(length, 100 + length);
      expect(codewordStrings(fast, fast.encode(frame))).toEqual(ref.encode(frame));
    }
  });

  it('decodes the same after the same flipped bits', () => {
    for (const length of lengths.filter((l) => l > 0)) {
      const frame = randomFrame(length, 200 + length);
      const coded = fast.encode(frame);
      const refCoded = ref.encode(frame);
      const next = rng(length);
      const bits = fast.codedBits(coded);
      for (let trial = 0; trial < 40; trial++) {
        // One bit, or two adjacent ones (which may share a codeword or not).
        const flips = [Math.floor(next() * bits)];
        if (trial % 2 === 1 && flips[0]! + 1 < bits) flips.push(flips[0]! + 1);
        const c = { words: coded.words.slice(), byteLength: coded.byteLength };
        const r = refCoded.slice();
        for (const b of flips) {
          fast.flipBit(c, b);
          ref.flipBit(r, b);
        }
        expect(codewordStrings(fast, c)).toEqual(r);
        expect(fast.decode(c)).toEqual(ref.decode(r, length));
      }
    }
  });
});

// ---- Two errors in one codeword: the code mis-corrects, the CRC-32 catches it.

describe.each(CORRECTING)('%s with two errors in one codeword', (name) => {
  const code = getCode(name);
  const { n } = code;

  it('mis-corrects them, and the CRC-32 of the frame always changes', () => {
    // 34 bytes: 68 [7,4] codewords, or 25 [15,11] codewords of which the last is padded.
    const frame = randomFrame(34, 7);
    const crc = crc32(frame);
    const coded = code.encode(frame);
    const words = coded.words.length;
    let miscorrected = 0;
    let harmless = 0;
    for (const w of [0, 1, Math.floor(words / 2), words - 2, words - 1]) {
      const padded = w === words - 1 && (8 * frame.length) % code.k !== 0;
      for (let a = 0; a < n; a++) {
        for (let b = a + 1; b < n; b++) {
          code.flipBit(coded, w * n + a);
          code.flipBit(coded, w * n + b);
          const { bytes, corrected } = code.decode(coded);
          code.flipBit(coded, w * n + a);
          code.flipBit(coded, w * n + b);
          // A perfect code sees a single error in every nonzero syndrome.
          expect(corrected).toBe(1);
          const differs = bytes.some((x, i) => x !== frame[i]);
          if (differs) {
            miscorrected++;
            expect(crc32(bytes), `codeword ${w}, bits ${a} and ${b}`).not.toBe(crc);
          } else {
            // Only possible when the wrong repair lands in the padding of the last word.
            expect(padded, `codeword ${w}, bits ${a} and ${b}`).toBe(true);
            harmless++;
          }
        }
      }
    }
    expect(miscorrected).toBeGreaterThan(0);
    // Every pair in the four unpadded codewords was mis-corrected.
    expect(miscorrected).toBeGreaterThanOrEqual((4 * n * (n - 1)) / 2);
    expect(miscorrected + harmless).toBe((5 * n * (n - 1)) / 2);
  });
});
