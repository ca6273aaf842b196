// The receiver's side of a file: each segment is written at its offset into a partial file in
// the profile (so disk use stays close to the file's size, with no copy in the database), and
// when every segment is in, the file's SHA-256 is compared with the sender's before it is moved
// to the downloads folder.
//
// The SHA-256 runs as the file arrives: a chunk recorded at the end of what is hashed so far is
// hashed from memory there and then; chunks that came ahead of a gap are read back from disk
// once the gap fills. So on a clean channel nothing is read back at the end, and under loss
// only what came out of order is. A file begun before a restart has no running hash and is
// hashed from disk once complete, as is one whose chunks overlap what was already hashed.
import { createHash, type Hash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync, write } from 'node:fs';
import { join } from 'node:path';
import { hashFileRange, readAt } from './hash.ts';

/** Open partial files kept at once; more transfers than this reopen as they take turns. */
const MAX_OPEN = 16;
/** Files hashed as they arrive at once; beyond this the oldest is hashed from disk instead. */
const MAX_RUNNING = 64;
/** Chunks remembered ahead of a gap per file; beyond this the file is hashed from disk. */
const MAX_AHEAD = 65_536;

/** A file's SHA-256 so far: bytes [0, next) are hashed; `ahead` maps offsets to lengths. */
interface RunningHash {
  hash: Hash;
  next: number;
  ahead: Map<number, number>;
  /** Reading back chunks that came ahead of a gap, once it filled. */
  catchingUp: Promise<void> | null;
}

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
  /** Running hashes by partial file path. */
  private readonly running = new Map<string, RunningHash>();
  /** Bytes read back from disk to hash them (a clean, in-order file needs none). */
  bytesReadBack = 0;

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
    try {
      await this.withFd(path, async (fd) => {
        let done = 0;
        while (done < bytes.length) {
          done += await new Promise<number>((resolve, reject) => {
            write(fd, bytes, done, bytes.length - done, offset + done, (e, n) =>
              e ? reject(e) : resolve(n),
            );
          });
        }
      });
    } catch (e) {
      // Part of it may be on disk, and it is not recorded: hash this file from disk instead.
      this.running.delete(path);
      throw e;
    }
  }

  /**
   * A file starts arriving (nothing of it is on disk yet): its SHA-256 is computed as its
   * chunks are recorded.
   */
  begin(path: string): void {
    if (this.running.size >= MAX_RUNNING) this.running.delete(this.running.keys().next().value!);
    this.running.set(path, {
      hash: createHash('sha256'),
      next: 0,
      ahead: new Map(),
      catchingUp: null,
    });
  }

  /**
   * A chunk is on disk and recorded (each offset once; a write still in flight must never
   * land on it later): it is hashed now if it continues what is hashed, else remembered.
   */
  recorded(path: string, offset: number, bytes: Uint8Array): void {
    const r = this.running.get(path);
    if (r === undefined) return;
    if (offset < r.next || r.ahead.size >= MAX_AHEAD) {
      // Overlapping what is hashed (only a hostile sender's chunks do): hash from disk.
      this.running.delete(path);
    } else if (offset === r.next && r.catchingUp === null) {
      r.hash.update(bytes);
      r.next += bytes.length;
      if (r.ahead.has(r.next)) r.catchingUp = this.catchUp(path, r);
    } else {
      r.ahead.set(offset, bytes.length);
    }
  }

  /** Hashes, from disk, the chunks that came ahead of a gap that has now filled. */
  private async catchUp(path: string, r: RunningHash): Promise<void> {
    let buffer: Buffer | null = null;
    try {
      for (let length = r.ahead.get(r.next); length !== undefined; length = r.ahead.get(r.next)) {
        if (buffer === null || buffer.length < length) buffer = Buffer.allocUnsafe(length);
        const into = buffer;
        const n = await this.withFd(path, (fd) => readAt(fd, into, length, r.next));
        // Removed, or given up on, meanwhile.
        if (this.running.get(path) !== r) return;
        if (n !== length) throw new Error(`a recorded chunk at ${r.next} is missing from disk`);
        r.ahead.delete(r.next);
        r.hash.update(into.subarray(0, n));
        r.next += n;
        this.bytesReadBack += n;
      }
    } catch {
      // Hashed from disk in full at the end instead, where a real fault will show.
      if (this.running.get(path) === r) this.running.delete(path);
    } finally {
      r.catchingUp = null;
    }
  }

  /** Cuts the file to its announced size (a last chunk may not have come from the end). */
  truncate(path: string, size: number): void {
    ftruncateSync(this.fd(path), size);
  }

  /**
   * SHA-256 of the file's first `size` bytes, complete on disk: the running hash finished
   * with whatever of the file it has not seen, or the whole file read back.
   */
  async sha256(path: string, size: number): Promise<string> {
    const r = this.running.get(path);
    if (r !== undefined) await r.catchingUp;
    const running = r !== undefined && this.running.get(path) === r && r.next <= size ? r : null;
    this.running.delete(path);
    const hash = running?.hash ?? createHash('sha256');
    const from = running?.next ?? 0;
    const reached = await this.withFd(path, (fd) => hashFileRange(fd, hash, from, size));
    this.bytesReadBack += reached - from;
    this.release(path);
    return hash.digest('hex');
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
    this.running.delete(path);
    this.release(path);
    rmSync(path, { force: true });
  }

  close(): void {
    this.running.clear();
    for (const path of [...this.open.keys()]) this.release(path);
  }

  /** Runs `use` on the file's descriptor, which stays open until it is done. */
  private async withFd<T>(path: string, use: (fd: number) => Promise<T>): Promise<T> {
    const fd = this.fd(path);
    this.busy.set(fd, (this.busy.get(fd) ?? 0) + 1);
    try {
      return await use(fd);
    } finally {
      const left = this.busy.get(fd)! - 1;
      if (left > 0) this.busy.set(fd, left);
      else {
        this.busy.delete(fd);
        if (this.retired.delete(fd)) closeSync(fd);
      }
    }
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
