import { describe, expect, it } from 'vitest';
import { crc32, portableCrc32 } from '../shared/protocol/crc32.ts';
import './native-crc32.ts';

describe('crc32 in Node (zlib)', () => {
  it('computes what the portable version does, at every length and offset', () => {
    const data = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 131 + 7) & 0xff);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    for (const [start, end] of [
      [0, 0],
      [0, 70_000],
      [3, 65_539],
      [1, 2],
      [17, 4113],
    ] as const) {
      expect(crc32(data, start, end)).toBe(portableCrc32(data, start, end, 0));
    }
    const whole = crc32(data);
    expect(crc32(data, 333, data.length, crc32(data, 0, 333))).toBe(whole);
  });
});
