// The sender's side of a file: its bytes are read from disk as segments need them (never the
// whole file in memory), and every read checks the file is still the one the transfer began
// with, so that a file edited, truncated, replaced or deleted mid-transfer fails the transfer
// with a clear reason instead of sending a mix of two files.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { CHUNK_OFFSET_BYTES, writeChunkOffset } from '../../shared/protocol/index.ts';
import {
  StreamSourceError,
  type SourceIdentity,
  type StreamReader,
  type StreamSource,
  type StreamSpec,
} from '../transport/stream.ts';

/** A file being sent changed or vanished: the transport fails its message. */
export class FileSourceError extends StreamSourceError {
  override name = 'FileSourceError';
}

/** What identifies the file's version: its size and modification time when it was sent. */
export type FileIdentity = SourceIdentity;

/**
 * Files as the transport's stream source (transport/stream.ts): segment 0 is the file's
 * header, every later one a chunk of the file after its offset, read as it goes out.
 */
export const fileStreams: StreamSource = {
  open(spec: StreamSpec): StreamReader {
    const { header, chunk } = spec;
    const size = spec.identity.size;
    const file = new FileSource(spec.path, spec.identity);
    let scratch: Uint8Array | null = null;
    return {
      read(index) {
        if (index === 0) return header;
        const offset = (index - 1) * chunk;
        const length = Math.min(chunk, size - offset);
        // One buffer per file, read into again for every segment: the frame is encoded
        // (copied) before send() returns, and nothing keeps a payload after that.
        if (scratch === null || scratch.length < CHUNK_OFFSET_BYTES + length) {
          scratch = new Uint8Array(CHUNK_OFFSET_BYTES + chunk);
        }
        const payload = scratch.subarray(0, CHUNK_OFFSET_BYTES + length);
        writeChunkOffset(payload, offset);
        file.readInto(payload, CHUNK_OFFSET_BYTES, offset, length);
        return payload;
      },
      close() {
        file.close();
      },
    };
  },
};

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
