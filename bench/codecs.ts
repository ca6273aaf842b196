// Channel codes: payload throughput of encode + one flipped bit + decode, for the
// table-driven codecs of relay/channel/codes against the bit-string version of the course
// materials (bench/reference), and the frame checksum (CRC-32: zlib's, and the portable
// JavaScript one) against its bitwise byte-at-a-time definition.
import { getCode } from '../relay/channel/codes/index.ts';
import type { CodeName } from '../relay/channel/codes/index.ts';
import '../src/node/native-crc32.ts';
import { crc32, portableCrc32 } from '../src/shared/protocol/crc32.ts';
import { bestRate } from './harness.ts';
import type { Report } from './harness.ts';
import { BITSTRING_CODES } from './reference/bitstring-codes.ts';

const FAST_FRAME = 16 * 1024;
const REFERENCE_FRAME = 1024;
const CODES: CodeName[] = ['hamming74', 'hamming1511', 'cyclic74', 'cyclic1511'];
const GOALS: Partial<Record<CodeName, string>> = {
  hamming74: '>= 300 MB/s, >= 100x bitstring',
};

function randomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x;
  }
  return bytes;
}

/** A cheap deterministic sequence of bit positions (xorshift), so both sides pay the same. */
function bitPicker(seed: number): (bits: number) => number {
  let x = seed >>> 0 || 1;
  return (bits) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % bits;
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function bitwiseCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return ~crc >>> 0;
}

export function runCodecBench(report: Report): void {
  for (const name of CODES) {
    const code = getCode(name);
    const frame = randomBytes(FAST_FRAME, 1);
    const pick = bitPicker(2);
    let bad = 0;
    const fastMBps = bestRate(() => {
      const coded = code.encode(frame);
      code.flipBit(coded, pick(code.codedBits(coded)));
      if (code.decode(coded).corrected !== 1) bad++;
    }, FAST_FRAME / 1e6);
    if (bad > 0) throw new Error(`${name}: ${bad} frames not repaired`);
    const check = code.encode(frame);
    code.flipBit(check, 12345);
    if (!sameBytes(code.decode(check).bytes, frame)) throw new Error(`${name}: wrong decode`);

    const ref = BITSTRING_CODES[name];
    const small = randomBytes(REFERENCE_FRAME, 3);
    const refPick = bitPicker(4);
    let refBad = 0;
    const refMBps = bestRate(
      () => {
        const words = ref.encode(small);
        ref.flipBit(words, refPick(words.length * ref.n));
        const { bytes, corrected } = ref.decode(words, small.length);
        if (corrected !== 1 || bytes.length !== small.length) refBad++;
      },
      REFERENCE_FRAME / 1e6,
      3,
    );
    if (refBad > 0) throw new Error(`${name}: ${refBad} reference frames not repaired`);

    const goal = GOALS[name];
    report.add(`codec.${name}.throughput`, fastMBps, 'MB/s', {
      baseline: { name: 'bitstring', value: refMBps },
      ...(goal ? { goal } : {}),
    });
  }

  const frame = randomBytes(FAST_FRAME, 5);
  const expected = crc32(frame);
  if (bitwiseCrc32(frame) !== expected) throw new Error('crc32 disagrees with bitwise');
  let bad = 0;
  const native = bestRate(() => {
    if (crc32(frame) !== expected) bad++;
  }, FAST_FRAME / 1e6);
  const bitwise = bestRate(
    () => {
      if (bitwiseCrc32(frame) !== expected) bad++;
    },
    FAST_FRAME / 1e6,
    3,
  );
  const portable = bestRate(() => {
    if (portableCrc32(frame, 0, frame.length, 0) !== expected) bad++;
  }, FAST_FRAME / 1e6);
  if (bad > 0) throw new Error('crc32: unstable result');
  report.add('crc32.throughput', native, 'MB/s', {
    baseline: { name: 'bitwise', value: bitwise },
  });
  report.add('crc32.portable.throughput', portable, 'MB/s', {
    baseline: { name: 'bitwise', value: bitwise },
  });
}
