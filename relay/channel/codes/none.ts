// No coding: the channel carries the frame's bytes as they are (n = k = 8).
import { flipChannelBit } from './flip.ts';
import type { ChannelCode, CodedFrame, DecodedFrame } from './types.ts';

export const NONE: ChannelCode = {
  name: 'none',
  n: 8,
  k: 8,
  encode(frame: Uint8Array): CodedFrame {
    return { words: frame.slice(), byteLength: frame.length };
  },
  codedBits(coded: CodedFrame): number {
    return coded.words.length * 8;
  },
  flipBit(coded: CodedFrame, bit: number): void {
    flipChannelBit(coded.words, 8, bit);
  },
  decode(coded: CodedFrame): DecodedFrame {
    const { words, byteLength } = coded;
    if (!(words instanceof Uint8Array) || words.length !== byteLength) {
      throw new TypeError('none: not a frame of this code');
    }
    return { bytes: words.slice(), corrected: 0 };
  },
};
