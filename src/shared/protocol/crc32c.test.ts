import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c.ts';

/** The byte-at-a-time definition, to check the sliced version against. */
function reference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('crc32c', () => {
  it('matches the published check value and RFC 3720 vectors', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  });

  it('agrees with the bitwise definition at every length and alignment', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= data.length; end += 7) {
        expect(crc32c(data, start, end)).toBe(reference(data.subarray(start, end)));
        // The same bytes through a view that starts there (word loads follow byteOffset).
        const view = data.subarray(start, end);
        expect(crc32c(view)).toBe(reference(view));
      }
    }
  });

  it('continues a running checksum across pieces', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 17) & 0xff);
    const whole = crc32c(data);
    expect(crc32c(data, 333, 1000, crc32c(data, 0, 333))).toBe(whole);
  });
});
