// The receiver's side of a file: each segment is written at its offset into a partial file in
// the profile (so disk use stays close to the file's size, with no copy in the database), and
// when every segment is in, the whole file is hashed from disk and compared with the sender's
// SHA-256 before it is moved to the downloads folder.
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync, write } from 'node:fs';
import { join } from 'node:path';
import { sha256OfFile } from './hash.ts';

/** Open partial files kept at once; more transfers than this reopen as they take turns. */
const MAX_OPEN = 16;

export class PartialFiles {
  readonly dir: string;
  /** Open descriptors by partial file name, oldest use first. */
  private readonly open = new Map<string, number>();
  /** Writes in flight per descriptor: it is closed (and its file removed) only after them. */
  private readonly busy = new Map<number, number>();
  /** Descriptors retired while writes to them were in flight: the last write closes them. */
  private readonly retired = new Set<number>();
  /** pathOf's answers by message key. */
  private readonly paths = new Map<string, string>();

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  /** The partial file of a message: named by its key, never by anything the sender chose. */
  pathOf(author: string, device: number, id: number): string {
    const key = `${author}/${device}/${id}`;
    let path = this.paths.get(key);
    if (path === undefined) {
      const digest = createHash('sha256').update(key).digest('hex');
      path = join(this.dir, `${digest.slice(0, 32)}.part`);
      // Asked once per segment: remember the files in flight (a handful, but never unbounded).
      if (this.paths.size >= 256) this.paths.clear();
      this.paths.set(key, path);
    }
    return path;
  }

  /**
   * Writes `bytes` at `offset` on the thread pool, so that the event loop (in the desktop
   * app, Electron's main process) never waits for the disk; rejects with the file system's
   * error (ENOSPC...) as it is.
   */
  async write(path: string, offset: number, bytes: Uint8Array): Promise<void> {
    const fd = this.fd(path);
    this.busy.set(fd, (this.busy.get(fd) ?? 0) + 1);
    try {
      let done = 0;
      while (done < bytes.length) {
        done += await new Promise<number>((resolve, reject) => {
          write(fd, bytes, done, bytes.length - done, offset + done, (e, n) =>
            e ? reject(e) : resolve(n),
          );
        });
      }
    } finally {
      const left = this.busy.get(fd)! - 1;
      if (left > 0) this.busy.set(fd, left);
      else {
        this.busy.delete(fd);
        if (this.retired.delete(fd)) closeSync(fd);
      }
    }
  }

  /** Cuts the file to its announced size (a last chunk may not have come from the end). */
  truncate(path: string, size: number): void {
    ftruncateSync(this.fd(path), size);
  }

  /** SHA-256 of the file as it is on disk (constant memory). */
  async sha256(path: string): Promise<string> {
    this.release(path);
    return sha256OfFile(path);
  }

  /**
   * Closes the descriptor of `path`; while writes to it are in flight, the last of them
   * closes it.
   */
  release(path: string): void {
    const fd = this.open.get(path);
    if (fd === undefined) return;
    this.open.delete(path);
    if (this.busy.has(fd)) this.retired.add(fd);
    else closeSync(fd);
  }

  /** Deletes the partial file now (a write still in flight lands in the unlinked file). */
  remove(path: string): void {
    this.release(path);
    rmSync(path, { force: true });
  }

  close(): void {
    for (const path of [...this.open.keys()]) this.release(path);
  }

  private fd(path: string): number {
    let fd = this.open.get(path);
    if (fd !== undefined) {
      // Most recently used goes last.
      this.open.delete(path);
      this.open.set(path, fd);
      return fd;
    }
    if (this.open.size >= MAX_OPEN) this.release(this.open.keys().next().value!);
    // 'a+' would ignore offsets; 'r+' needs the file: create it first without truncating.
    closeSync(openSync(path, 'a'));
    fd = openSync(path, 'r+');
    this.open.set(path, fd);
    return fd;
  }
}
