// Flipping one channel bit: bit `bit` of the stream is bit `bit % n` of codeword
// `floor(bit / n)`, counted from the first bit sent (the most significant of the n).

export function flipChannelBit(words: Uint8Array | Uint16Array, n: number, bit: number): void {
  if (!Number.isInteger(bit) || bit < 0 || bit >= words.length * n) {
    throw new RangeError(`channel bit ${bit} outside [0, ${words.length * n})`);
  }
  const w = Math.floor(bit / n);
  words[w] = words[w]! ^ (1 << (n - 1 - (bit - w * n)));
}
