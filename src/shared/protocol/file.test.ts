import { describe, expect, it } from 'vitest';
import {
  MAX_FILE_HEADER_BYTES,
  decodeChunk,
  decodeFileHeader,
  encodeChunk,
  encodeFileHeader,
  fileSegmentCount,
  type FileHeader,
} from './file.ts';

const header: FileHeader = {
  name: 'отчёт 2026.pdf',
  size: 1_234_567,
  type: 'application/pdf',
  sha256: 'ab'.repeat(32),
};

describe('file headers', () => {
  it('round-trip, and the first byte is the version', () => {
    const bytes = encodeFileHeader(header);
    expect(bytes[0]).toBe(1);
    expect(decodeFileHeader(bytes)).toEqual(header);
  });

  it('refuse to encode what a receiver would refuse', () => {
    expect(() => encodeFileHeader({ ...header, name: '' })).toThrow(/name/);
    expect(() => encodeFileHeader({ ...header, size: -1 })).toThrow(/size/);
    expect(() => encodeFileHeader({ ...header, sha256: 'AB'.repeat(32) })).toThrow(/sha256/);
    expect(() => encodeFileHeader({ ...header, type: 'pdf' })).toThrow(/media type/);
  });

  it('decode hostile bytes to null, never throwing', () => {
    const good = encodeFileHeader(header);
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array([1]),
      Uint8Array.from([2, ...good.subarray(1)]),
      Uint8Array.from([1, 0xff, 0xfe]),
      new TextEncoder().encode('\u0001[1,2,3]'),
      new TextEncoder().encode(
        '\u0001{"name":"x","size":1.5,"type":"a/b","sha256":"' + '0'.repeat(64) + '"}',
      ),
      new TextEncoder().encode(
        '\u0001{"name":"x","size":1,"type":"a/b","sha256":"' + '0'.repeat(63) + '"}',
      ),
      new Uint8Array(MAX_FILE_HEADER_BYTES + 1).fill(1),
    ];
    for (const c of cases) expect(decodeFileHeader(c)).toBeNull();
    for (let i = 0; i < 2000; i++) {
      const copy = good.slice();
      const at = (i * 7919) % copy.length;
      copy[at] = copy[at]! ^ (1 << (i % 8));
      const d = decodeFileHeader(copy);
      if (d !== null) expect(encodeFileHeader(d).length).toBeLessThanOrEqual(MAX_FILE_HEADER_BYTES);
    }
  });
});

describe('chunks', () => {
  it('carry their offset, up to 2^50', () => {
    const bytes = Uint8Array.from([9, 8, 7]);
    for (const offset of [0, 16384, 2 ** 40 + 3, 2 ** 50]) {
      const c = decodeChunk(encodeChunk(offset, bytes))!;
      expect(c.offset).toBe(offset);
      expect([...c.bytes]).toEqual([9, 8, 7]);
    }
    expect(decodeChunk(new Uint8Array(7))).toBeNull();
    const far = new Uint8Array(8).fill(0xff);
    expect(decodeChunk(far)).toBeNull();
  });

  it('count the header segment and a last short chunk', () => {
    expect(fileSegmentCount(0, 1024)).toBe(1);
    expect(fileSegmentCount(1, 1024)).toBe(2);
    expect(fileSegmentCount(2048, 1024)).toBe(3);
    expect(fileSegmentCount(2049, 1024)).toBe(4);
  });
});
