// The table-driven engine shared by the Hamming and cyclic codes: the tables come from the
// code's bit-level definition (tables.ts), the frame layout from k (pack4.ts, pack11.ts).
import { uninitializedBytes } from './alloc.ts';
import { flipChannelBit } from './flip.ts';
import { decode4, encode4, pairDecodeTable, pairEncodeTable } from './pack4.ts';
import { decode11, encode11, wordCount11 } from './pack11.ts';
import { CORRECTED, buildTables } from './tables.ts';
import type { BlockCodeSpec } from './tables.ts';
import type { ChannelCode, CodeName, CodedFrame, DecodedFrame } from './types.ts';

/** What every table-driven code shares: its name, its length, and how bits are addressed. */
abstract class TableCode implements ChannelCode {
  readonly name: CodeName;
  readonly n: number;
  abstract readonly k: number;

  constructor(spec: BlockCodeSpec) {
    this.name = spec.name;
    this.n = spec.n;
  }

  abstract encode(frame: Uint8Array): CodedFrame;
  abstract decode(coded: CodedFrame): DecodedFrame;

  codedBits(coded: CodedFrame): number {
    return coded.words.length * this.n;
  }

  flipBit(coded: CodedFrame, bit: number): void {
    flipChannelBit(coded.words, this.n, bit);
  }
}

class Nibble extends TableCode {
  readonly k = 4;
  readonly #encodePairs: Uint16Array;
  readonly #decodePairs: Uint16Array;

  constructor(spec: BlockCodeSpec) {
    super(spec);
    const tables = buildTables(spec);
    this.#encodePairs = pairEncodeTable(tables.encode);
    this.#decodePairs = pairDecodeTable(tables.decode, spec.n, CORRECTED);
  }

  encode(frame: Uint8Array): CodedFrame {
    return { words: encode4(frame, this.#encodePairs), byteLength: frame.length };
  }

  decode(coded: CodedFrame): DecodedFrame {
    const { words, byteLength } = coded;
    if (!(words instanceof Uint8Array) || words.length !== 2 * byteLength) {
      throw new TypeError(`${this.name}: not a frame of this code`);
    }
    const bytes = uninitializedBytes(byteLength);
    const corrected = decode4(words, this.#decodePairs, bytes);
    return { bytes, corrected };
  }
}

class Packed11 extends TableCode {
  readonly k = 11;
  readonly #encode: Uint16Array;
  readonly #decode: Uint16Array;

  constructor(spec: BlockCodeSpec) {
    super(spec);
    const tables = buildTables(spec);
    this.#encode = tables.encode;
    this.#decode = tables.decode;
  }

  encode(frame: Uint8Array): CodedFrame {
    return { words: encode11(frame, this.#encode), byteLength: frame.length };
  }

  decode(coded: CodedFrame): DecodedFrame {
    const { words, byteLength } = coded;
    if (!(words instanceof Uint16Array) || words.length !== wordCount11(byteLength)) {
      throw new TypeError(`${this.name}: not a frame of this code`);
    }
    const bytes = uninitializedBytes(byteLength);
    const corrected = decode11(words, this.n, this.#decode, bytes);
    return { bytes, corrected };
  }
}

/** A channel code served by lookup tables built from `spec`; k must be 4 or 11. */
export function blockCode(spec: BlockCodeSpec): ChannelCode {
  if (spec.k === 4 && spec.n <= 8) return new Nibble(spec);
  if (spec.k === 11 && spec.n <= 16) return new Packed11(spec);
  throw new Error(`${spec.name}: no frame layout for [${spec.n},${spec.k}]`);
}
