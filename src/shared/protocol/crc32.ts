// CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320, as in Ethernet, zlib, gzip and PNG), the
// checksum that ends every frame. It detects every burst of errors up to 32 bits long (what
// the relay's channel produces) and other damage with probability 1 - 2^-32.
//
// This code runs anywhere, so the computation here is JavaScript (slicing-by-8, about 1 GB/s).
// In Node, src/node/native-crc32.ts installs zlib's native CRC-32, several times faster: with
// the sender, the relay and the receiver each checking every byte of a file, that is a large
// share of a transfer's cost. (CRC-32C, which this protocol used before, has no native
// implementation in Node.) Both compute the same function.

const POLY = 0xedb88320;
const SLICES = 8;
const TABLE = buildTables();

function buildTables(): Uint32Array {
  const t = new Uint32Array(256 * SLICES);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let s = 1; s < SLICES; s++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[s * 256 + n] = c >>> 0;
    }
  }
  return t;
}

/** Word loads below assume little-endian words; elsewhere the bytewise loop does it all. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Slicing-by-8, reading eight bytes a step as two little-endian words once aligned. */
function portableCrc32(bytes: Uint8Array, start: number, end: number, seed: number): number {
  const t = TABLE;
  let crc = ~seed >>> 0;
  let i = start;
  if (LITTLE_ENDIAN) {
    // Bytewise up to a 4-byte boundary, then eight bytes a step read as two 32-bit words:
    // half the loads of reading them one by one, and about twice as fast.
    while (i < end && ((bytes.byteOffset + i) & 3) !== 0) {
      crc = t[(crc ^ bytes[i++]!) & 0xff]! ^ (crc >>> 8);
    }
    const steps = (end - i) >>> 3;
    if (steps > 0) {
      const w = new Int32Array(bytes.buffer, bytes.byteOffset + i, steps * 2);
      for (let k = 0; k < w.length; k += 2) {
        const a = crc ^ w[k]!;
        const b = w[k + 1]!;
        crc =
          t[7 * 256 + (a & 0xff)]! ^
          t[6 * 256 + ((a >>> 8) & 0xff)]! ^
          t[5 * 256 + ((a >>> 16) & 0xff)]! ^
          t[4 * 256 + (a >>> 24)]! ^
          t[3 * 256 + (b & 0xff)]! ^
          t[2 * 256 + ((b >>> 8) & 0xff)]! ^
          t[256 + ((b >>> 16) & 0xff)]! ^
          t[b >>> 24]!;
      }
      i += steps * 8;
    }
  }
  while (i < end) crc = t[(crc ^ bytes[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

type Crc32 = (bytes: Uint8Array, start: number, end: number, seed: number) => number;
let implementation: Crc32 = portableCrc32;

/** Computes CRC-32 with `fn` from now on (the same function, computed faster). */
export function useCrc32(fn: Crc32): void {
  implementation = fn;
}

/** The portable implementation, whatever is installed (for tests and benchmarks). */
export { portableCrc32 };

/**
 * CRC-32 of `bytes[start, end)`. Pass a previous result as `seed` to continue a running
 * checksum over several pieces.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  return implementation(bytes, start, end, seed);
}
