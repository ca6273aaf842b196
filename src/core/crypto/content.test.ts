import { describe, expect, it } from 'vitest';
import { encodeChunk } from '../../shared/protocol/index.ts';
import {
  ChunkCipher,
  keyMessage,
  newContentKey,
  openBody,
  parseSealed,
  readKeyMessage,
  sealBody,
  SealError,
  TAG_BYTES,
} from './content.ts';

const author = { user: 'bob', device: 7, id: 42 };
const entry = { user: 'alice', device: 3, type: 2, ciphertext: new Uint8Array([1, 2, 3]) };

describe('sealed bodies', () => {
  it('open with their content key, and name every device of the key table', () => {
    const key = newContentKey();
    const wire = sealBody(new TextEncoder().encode('secret'), key, [entry], author);
    const sealed = parseSealed(wire);
    expect(sealed.entries).toEqual([entry]);
    expect(new TextDecoder().decode(openBody(sealed, key, author))).toBe('secret');
    expect(Buffer.from(wire).includes('secret')).toBe(false);
  });

  it('refuse a flipped bit, another key, and a body moved to another message or sender', () => {
    const key = newContentKey();
    const wire = sealBody(new Uint8Array(100), key, [entry], author);
    const flipped = wire.slice();
    flipped[flipped.length - 20]! ^= 1;
    expect(() => openBody(parseSealed(flipped), key, author)).toThrow(SealError);
    expect(() => openBody(parseSealed(wire), newContentKey(), author)).toThrow(SealError);
    expect(() => openBody(parseSealed(wire), key, { ...author, id: 43 })).toThrow(SealError);
    expect(() => openBody(parseSealed(wire), key, { ...author, user: 'eve' })).toThrow(SealError);
  });

  it('a malformed body is a SealError, never another exception', () => {
    for (const bad of [new Uint8Array(0), new Uint8Array([0xe2]), new Uint8Array([1, 2, 3])]) {
      expect(() => parseSealed(bad)).toThrow(SealError);
    }
  });

  it('a key message is bound to its message id', () => {
    const key = newContentKey();
    expect(readKeyMessage(keyMessage(key, 9), 9)).toEqual(key);
    expect(() => readKeyMessage(keyMessage(key, 9), 10)).toThrow(SealError);
  });
});

describe('sealed chunks', () => {
  const segment = encodeChunk(65536, new Uint8Array(1000).fill(7));

  it('open to the same segment; the offset stays readable, the bytes do not', () => {
    const chunks = new ChunkCipher(newContentKey());
    const sealed = chunks.seal(segment);
    expect(sealed.length).toBe(segment.length + TAG_BYTES);
    expect(sealed.subarray(0, 8)).toEqual(segment.subarray(0, 8));
    expect(Buffer.from(sealed).includes(Buffer.alloc(32, 7))).toBe(false);
    expect(chunks.open(sealed)).toEqual(segment);
  });

  it('a damaged or moved chunk is refused alone', () => {
    const chunks = new ChunkCipher(newContentKey());
    const sealed = chunks.seal(segment);
    const damaged = sealed.slice();
    damaged[100]! ^= 0x10;
    expect(chunks.open(damaged)).toBeNull();
    const moved = sealed.slice();
    moved[7] = 1; // another offset
    expect(chunks.open(moved)).toBeNull();
    expect(new ChunkCipher(newContentKey()).open(sealed)).toBeNull();
    expect(chunks.open(sealed)).toEqual(segment);
  });

  it('the benchmark copy moves the bytes as they are', () => {
    const chunks = new ChunkCipher(newContentKey(), 'copy');
    expect(chunks.open(chunks.seal(segment))).toEqual(segment);
  });
});

describe('sealed chunks opened into their parts', () => {
  it('give the offset and the bytes, and null when altered', () => {
    const chunks = new ChunkCipher(newContentKey());
    const sealed = chunks.seal(encodeChunk(4096, new Uint8Array([1, 2, 3])));
    expect(chunks.openChunk(sealed)).toEqual({ offset: 4096, bytes: Buffer.from([1, 2, 3]) });
    sealed[9]! ^= 1;
    expect(chunks.openChunk(sealed)).toBeNull();
  });
});
