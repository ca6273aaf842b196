// The channel codes as the course materials write them: the frame becomes a string of '0'
// and '1' characters, cut into k-character data words; parity bits come from XORing
// characters (Hamming) or from long division of bit strings (cyclic); a bit is flipped by
// rebuilding its codeword string, and the syndrome is computed on the string. This is the
// benchmark's baseline, not product code: relay/channel/codes is the real thing.

export type BitStringCodeName = 'none' | 'hamming74' | 'hamming1511' | 'cyclic74' | 'cyclic1511';

export interface BitStringCode {
  readonly name: BitStringCodeName;
  readonly n: number;
  readonly k: number;
  /** One string of n '0'/'1' characters per codeword, first bit sent first. */
  encode(frame: Uint8Array): string[];
  flipBit(codewords: string[], bit: number): void;
  decode(codewords: string[], byteLength: number): { bytes: Uint8Array; corrected: number };
}

function bytesToBits(bytes: Uint8Array): string {
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  return bits;
}

function bitsToBytes(bits: string, byteLength: number): Uint8Array {
  const bytes = new Uint8Array(byteLength);
  for (let i = 0; i < byteLength; i++) bytes[i] = parseInt(bits.slice(8 * i, 8 * i + 8), 2);
  return bytes;
}

function splitIntoWords(bits: string, k: number): string[] {
  const words: string[] = [];
  for (let i = 0; i < bits.length; i += k) words.push(bits.slice(i, i + k).padEnd(k, '0'));
  return words;
}

function flipChar(word: string, i: number): string {
  return word.slice(0, i) + (word[i] === '1' ? '0' : '1') + word.slice(i + 1);
}

function flipChannelBit(codewords: string[], n: number, bit: number): void {
  const w = Math.floor(bit / n);
  codewords[w] = flipChar(codewords[w]!, bit % n);
}

function xor(a: string, b: string): string {
  return a === b ? '0' : '1';
}

// Hamming: positions 1..n, parity at the powers of two.

function isPowerOfTwo(p: number): boolean {
  return (p & (p - 1)) === 0;
}

function hammingEncodeWord(data: string, n: number): string {
  const code: string[] = [];
  let d = 0;
  for (let pos = 1; pos <= n; pos++) code.push(isPowerOfTwo(pos) ? '0' : data[d++]!);
  for (let p = 1; p <= n; p *= 2) {
    let parity = '0';
    for (let pos = 1; pos <= n; pos++) {
      if ((pos & p) !== 0 && pos !== p) parity = xor(parity, code[pos - 1]!);
    }
    code[p - 1] = parity;
  }
  return code.join('');
}

function hammingSyndrome(word: string): number {
  let syndrome = 0;
  for (let pos = 1; pos <= word.length; pos++) if (word[pos - 1] === '1') syndrome ^= pos;
  return syndrome;
}

function hammingData(word: string): string {
  let data = '';
  for (let pos = 1; pos <= word.length; pos++) if (!isPowerOfTwo(pos)) data += word[pos - 1];
  return data;
}

// Cyclic: polynomials as bit strings, highest degree first.

function mod2Remainder(dividend: string, generator: string): string {
  const bits = dividend.split('');
  for (let i = 0; i + generator.length <= bits.length; i++) {
    if (bits[i] === '1') {
      for (let j = 0; j < generator.length; j++) bits[i + j] = xor(bits[i + j]!, generator[j]!);
    }
  }
  return bits.slice(bits.length - (generator.length - 1)).join('');
}

function cyclicEncodeWord(data: string, generator: string): string {
  return data + mod2Remainder(data + '0'.repeat(generator.length - 1), generator);
}

/** Syndrome string → position of the single error that produces it. */
function cyclicErrorTable(n: number, generator: string): Map<string, number> {
  const table = new Map<string, number>();
  for (let pos = 0; pos < n; pos++) {
    table.set(mod2Remainder(flipChar('0'.repeat(n), pos), generator), pos);
  }
  return table;
}

function hamming(name: BitStringCodeName, n: number, k: number): BitStringCode {
  return {
    name,
    n,
    k,
    encode: (frame) => splitIntoWords(bytesToBits(frame), k).map((w) => hammingEncodeWord(w, n)),
    flipBit: (codewords, bit) => flipChannelBit(codewords, n, bit),
    decode(codewords, byteLength) {
      let bits = '';
      let corrected = 0;
      for (let word of codewords) {
        const syndrome = hammingSyndrome(word);
        if (syndrome !== 0) {
          word = flipChar(word, syndrome - 1);
          corrected++;
        }
        bits += hammingData(word);
      }
      return { bytes: bitsToBytes(bits, byteLength), corrected };
    },
  };
}

function cyclic(name: BitStringCodeName, n: number, generator: string): BitStringCode {
  const k = n - (generator.length - 1);
  const errors = cyclicErrorTable(n, generator);
  const zero = '0'.repeat(generator.length - 1);
  return {
    name,
    n,
    k,
    encode: (frame) =>
      splitIntoWords(bytesToBits(frame), k).map((w) => cyclicEncodeWord(w, generator)),
    flipBit: (codewords, bit) => flipChannelBit(codewords, n, bit),
    decode(codewords, byteLength) {
      let bits = '';
      let corrected = 0;
      for (let word of codewords) {
        const syndrome = mod2Remainder(word, generator);
        if (syndrome !== zero) {
          word = flipChar(word, errors.get(syndrome)!);
          corrected++;
        }
        bits += word.slice(0, k);
      }
      return { bytes: bitsToBytes(bits, byteLength), corrected };
    },
  };
}

const none: BitStringCode = {
  name: 'none',
  n: 8,
  k: 8,
  encode: (frame) => splitIntoWords(bytesToBits(frame), 8),
  flipBit: (codewords, bit) => flipChannelBit(codewords, 8, bit),
  decode: (codewords, byteLength) => ({
    bytes: bitsToBytes(codewords.join(''), byteLength),
    corrected: 0,
  }),
};

export const BITSTRING_CODES: Readonly<Record<BitStringCodeName, BitStringCode>> = {
  none,
  hamming74: hamming('hamming74', 7, 4),
  hamming1511: hamming('hamming1511', 15, 11),
  cyclic74: cyclic('cyclic74', 7, '1011'),
  cyclic1511: cyclic('cyclic1511', 15, '10011'),
};
