// The shape every channel code presents to the relay's channel emulator.

export const CODE_NAMES = ['none', 'hamming74', 'hamming1511', 'cyclic74', 'cyclic1511'] as const;
export type CodeName = (typeof CODE_NAMES)[number];

/**
 * A frame after encoding: one n-bit codeword per array element, in transmission order.
 * Channel bit `b` is bit `b % n` of codeword `floor(b / n)`, counted from the first bit
 * sent, which is the most significant of the n bits (so `words[w] >> (n - 1 - i) & 1`).
 */
export interface CodedFrame {
  readonly words: Uint8Array | Uint16Array;
  /** Length in bytes of the frame that was encoded. */
  readonly byteLength: number;
}

export interface DecodedFrame {
  bytes: Uint8Array;
  /** Codewords whose syndrome was nonzero and which were repaired (rightly or not). */
  corrected: number;
}

export interface ChannelCode {
  readonly name: CodeName;
  /** Bits per codeword. */
  readonly n: number;
  /** Data bits per codeword. */
  readonly k: number;
  encode(frame: Uint8Array): CodedFrame;
  /** Total number of bits sent on the channel for this frame. */
  codedBits(coded: CodedFrame): number;
  /** Flips channel bit `bit` (0-based over the codeword stream) in place. */
  flipBit(coded: CodedFrame, bit: number): void;
  decode(coded: CodedFrame): DecodedFrame;
}
