import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartialFiles } from './partial.ts';

const CHUNK = 64 * 1024;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let dir: string;
let partial: PartialFiles;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-partial-'));
  partial = new PartialFiles(join(dir, 'partial'));
});
afterEach(() => {
  partial.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The file's chunks as the receiver gets them: offset and bytes. */
function chunksOf(bytes: Buffer): { offset: number; bytes: Buffer }[] {
  const out = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK) {
    out.push({ offset, bytes: bytes.subarray(offset, offset + CHUNK) });
  }
  return out;
}

/** Writes each chunk, then records it, as the transport does. */
async function receive(path: string, chunks: { offset: number; bytes: Buffer }[]): Promise<void> {
  for (const c of chunks) {
    await partial.write(path, c.offset, c.bytes);
    partial.recorded(path, c.offset, c.bytes);
  }
}

/** The file's SHA-256 is right, and it took reading the whole file back from disk. */
async function expectHashedFromDisk(path: string, bytes: Buffer): Promise<void> {
  expect(await partial.sha256(path, bytes.length)).toBe(sha256(bytes));
  expect(partial.bytesReadBack).toBe(bytes.length);
}

describe('PartialFiles: the SHA-256 runs as the file arrives', () => {
  it('hashes in-order chunks as they are recorded: nothing is read back at the end', async () => {
    const bytes = randomBytes(20 * CHUNK + 123);
    const path = partial.pathOf('alice', 1, 7);
    partial.begin(path);
    await receive(path, chunksOf(bytes));
    expect(await partial.sha256(path, bytes.length)).toBe(sha256(bytes));
    expect(partial.bytesReadBack).toBe(0);
  });

  it('reads back only what came ahead of a gap, once the gap fills', async () => {
    const bytes = randomBytes(30 * CHUNK);
    const chunks = chunksOf(bytes);
    const path = partial.pathOf('alice', 1, 8);
    partial.begin(path);
    // Chunks 5 and 12 are lost and come last, as retransmissions.
    const late = [chunks[5]!, chunks[12]!];
    await receive(
      path,
      chunks.filter((c) => !late.includes(c)),
    );
    await receive(path, late);
    expect(await partial.sha256(path, bytes.length)).toBe(sha256(bytes));
    // Chunks 6..29 came ahead of a gap: read back, once each, and nothing more.
    expect(partial.bytesReadBack).toBe(24 * CHUNK);
  });

  it('a file begun before a restart (no running hash) is hashed from disk', async () => {
    const bytes = randomBytes(5 * CHUNK);
    const path = partial.pathOf('alice', 1, 9);
    await receive(path, chunksOf(bytes));
    await expectHashedFromDisk(path, bytes);
  });

  it('a chunk over what is already hashed makes it hash the file from disk, as written', async () => {
    const bytes = randomBytes(4 * CHUNK);
    const path = partial.pathOf('alice', 1, 10);
    partial.begin(path);
    await receive(path, chunksOf(bytes));
    // A hostile sender's chunk overlapping the start: the file on disk is what is checked.
    const overlap = randomBytes(100);
    await receive(path, [{ offset: 10, bytes: overlap }]);
    overlap.copy(bytes, 10);
    expect(await partial.sha256(path, bytes.length)).toBe(sha256(bytes));
  });

  it('a write that fails (part of it may be on disk, unrecorded) makes it hash from disk', async () => {
    const bytes = randomBytes(3 * CHUNK);
    const chunks = chunksOf(bytes);
    const path = partial.pathOf('alice', 1, 13);
    partial.begin(path);
    await receive(path, chunks.slice(0, 1));
    // Bytes the file system cannot take: the write rejects (as with ENOSPC or EIO).
    const unwritable = { length: CHUNK } as unknown as Uint8Array;
    await expect(partial.write(path, CHUNK, unwritable)).rejects.toThrow();
    await receive(path, chunks.slice(1));
    await expectHashedFromDisk(path, bytes);
  });

  it('hashes only the announced size of a file with bytes beyond it', async () => {
    const bytes = randomBytes(3 * CHUNK);
    const path = partial.pathOf('alice', 1, 11);
    partial.begin(path);
    await receive(path, chunksOf(bytes));
    expect(await partial.sha256(path, 2 * CHUNK)).toBe(sha256(bytes.subarray(0, 2 * CHUNK)));
  });

  it('a removed file forgets its running hash', async () => {
    const bytes = randomBytes(3 * CHUNK);
    const path = partial.pathOf('alice', 1, 12);
    partial.begin(path);
    await receive(path, chunksOf(bytes).slice(0, 1));
    partial.remove(path);
    // The same path written again from scratch (not begun): hashed from disk, correctly.
    writeFileSync(path, bytes);
    await expectHashedFromDisk(path, bytes);
  });
});
