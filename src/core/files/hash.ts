// SHA-256 of a file as it is on disk, in constant memory: one buffer is read into again and
// again, so hashing a file of any size leaves no garbage behind (a stream would hand over a
// fresh megabyte per read, and a gigabyte of those can sit uncollected, swelling the process).
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

const READ_BYTES = 1024 * 1024;

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  const fh = await open(path, 'r');
  try {
    for (let position = 0; ;) {
      const { bytesRead } = await fh.read(buffer, 0, READ_BYTES, position);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}
