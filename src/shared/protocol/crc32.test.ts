import { describe, expect, it } from 'vitest';
import { portableCrc32 } from './crc32.ts';

const crc32 = (bytes: Uint8Array, start = 0, end = bytes.length, seed = 0) =>
  portableCrc32(bytes, start, end, seed);

/** The definition, a bit at a time: what the fast version must agree with. */
function reference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('crc32, portable', () => {
  it('matches the published check values', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(new TextEncoder().encode('The quick brown fox jumps over the lazy dog'))).toBe(
      0x414fa339,
    );
  });

  it('agrees with the bitwise definition at every length and alignment', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= data.length; end += 7) {
        expect(crc32(data, start, end)).toBe(reference(data.subarray(start, end)));
        const view = data.subarray(start, end);
        expect(crc32(view)).toBe(reference(view));
      }
    }
  });

  it('continues a running checksum across pieces', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 17) & 0xff);
    const whole = crc32(data);
    expect(crc32(data, 333, 1000, crc32(data, 0, 333))).toBe(whole);
  });
});
