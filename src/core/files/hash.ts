// SHA-256 of a file as it is on disk, in constant memory: two buffers are read into again and
// again, so hashing a file of any size leaves no garbage behind (a stream would hand over a
// fresh megabyte per read, and a gigabyte of those can sit uncollected, swelling the process).
// The next block is read on the thread pool while the current one is hashed, so a pass costs
// about the hashing alone rather than reading plus hashing.
import { createHash, type Hash } from 'node:crypto';
import { close, open, read } from 'node:fs';

const READ_BYTES = 1024 * 1024;

/** Reads up to `length` bytes at `position` into the start of `buffer`; 0 at the end. */
export function readAt(
  fd: number,
  buffer: Uint8Array,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, length, position, (e, n) => (e ? reject(e) : resolve(n)));
  });
}

/**
 * Feeds the bytes of `fd` from `from` up to `to` (or its end) to `hash`; returns the position
 * reached, which is short of `to` when the file is.
 */
export async function hashFileRange(
  fd: number,
  hash: Hash,
  from: number,
  to = Number.POSITIVE_INFINITY,
): Promise<number> {
  if (from >= to) return from;
  const buffers = [Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES)] as const;
  let position = from;
  let turn = 0;
  const next = (): Promise<number> | null =>
    position < to
      ? readAt(fd, buffers[turn]!, Math.min(READ_BYTES, to - position), position)
      : null;
  let pending = next();
  while (pending !== null) {
    const n = await pending;
    if (n === 0) break;
    const current = buffers[turn]!;
    position += n;
    turn ^= 1;
    pending = next();
    hash.update(current.subarray(0, n));
  }
  return position;
}

export async function sha256OfFile(path: string): Promise<string> {
  const fd = await new Promise<number>((resolve, reject) =>
    open(path, 'r', (e, f) => (e ? reject(e) : resolve(f))),
  );
  try {
    const hash = createHash('sha256');
    await hashFileRange(fd, hash, 0);
    return hash.digest('hex');
  } finally {
    close(fd, () => {});
  }
}
