// The sender's side of a file: its bytes are read from disk as segments need them (never the
// whole file in memory), and every read checks the file is still the one the transfer began
// with, so that a file edited, truncated, replaced or deleted mid-transfer fails the transfer
// with a clear reason instead of sending a mix of two files.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

export class FileSourceError extends Error {
  override name = 'FileSourceError';
}

/** What identifies the file's version: its size and modification time when it was sent. */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
}

export function identify(path: string): FileIdentity {
  const st = statSync(path);
  if (!st.isFile()) throw new FileSourceError(`${path} is not a regular file`);
  return { size: st.size, mtimeMs: st.mtimeMs };
}

export class FileSource {
  readonly path: string;
  readonly identity: FileIdentity;
  private fd: number | null = null;

  constructor(path: string, identity: FileIdentity) {
    this.path = path;
    this.identity = identity;
  }

  /** Reads `length` bytes at `offset` into a new buffer; throws FileSourceError if it changed. */
  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.readInto(out, 0, offset, length);
    return out;
  }

  /** Reads `length` bytes at `offset` into `out` from index `at` (a segment read in place). */
  readInto(out: Uint8Array, at: number, offset: number, length: number): void {
    const fd = this.open();
    const st = fstatSync(fd);
    if (st.size !== this.identity.size || st.mtimeMs !== this.identity.mtimeMs) {
      throw new FileSourceError(`${this.path} changed while it was being sent`);
    }
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, at + done, length - done, offset + done);
      if (n === 0) throw new FileSourceError(`${this.path} is shorter than when it was sent`);
      done += n;
    }
  }

  private open(): number {
    if (this.fd !== null) return this.fd;
    try {
      this.fd = openSync(this.path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new FileSourceError(
        code === 'ENOENT'
          ? `${this.path} is gone: it was moved or deleted while it was being sent`
          : `cannot read ${this.path}: ${(e as Error).message}`,
      );
    }
    // The path may now name another file: compare it with what was sent so far.
    const st = fstatSync(this.fd);
    if (st.size !== this.identity.size || st.mtimeMs !== this.identity.mtimeMs) {
      this.close();
      throw new FileSourceError(`${this.path} changed while it was being sent`);
    }
    return this.fd;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
