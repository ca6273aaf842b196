// Files uploaded to the browser host, waiting to be sent. A browser cannot give the host a
// path on disk, so the page POSTs the bytes (web-server.ts) and then sends the file by the
// upload's id: `sendFile({ to, upload })`, which the Host resolves through `pathOf`.
//
// Each upload lands in its own folder, `<profile>/uploads/<id>/<sanitised name>`, so that the
// name the peer sees is the user's own (sanitised) and two uploads of 'photo.jpg' never meet.
// The bytes are streamed to disk, never held in memory, into `<id>.part/` first; the folder is
// renamed to `<id>` only once the file is complete, so an upload cut off by a crash is never
// taken for a whole one and is removed at the next start.
//
// Lifetime: an id resolves only in the server run that created it. The file itself stays on
// disk, because a file message streams from it (also after a restart, to resume) and the page
// offers it for download; uploads older than MAX_AGE_MS are removed when the host starts.
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { checkRoom, DiskFullError } from '../files/disk.ts';
import { sanitizeFileName } from '../files/names.ts';

/** How long an upload is kept on disk: a week, long enough for any transfer to finish. */
export const MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** The shape of an upload id (what the contract's `upload` parameter accepts). */
const ID = /^[A-Za-z0-9_-]{16,64}$/;
const PART = '.part';

/** Why an upload was refused, with the HTTP status that says it. */
export class UploadError extends Error {
  override name = 'UploadError';
  readonly status: 400 | 413 | 499 | 507;
  constructor(status: UploadError['status'], message: string) {
    super(message);
    this.status = status;
  }
}

export interface Upload {
  id: string;
  /** The sanitised name the file is stored (and will be sent) under. */
  name: string;
  size: number;
  path: string;
}

export interface UploadsOptions {
  /** Uploads older than this are removed at start. */
  maxAgeMs?: number;
  now?: () => number;
  /** Where the bytes of a new upload go; a private, exclusively created file by default. */
  openOutput?: (path: string) => Writable;
}

export class Uploads {
  /** `<profile>/uploads`. */
  readonly dir: string;
  private readonly done = new Map<string, string>();
  private readonly openOutput: (path: string) => Writable;

  constructor(profileDir: string, options: UploadsOptions = {}) {
    this.dir = join(profileDir, 'uploads');
    this.openOutput =
      options.openOutput ?? ((path) => createWriteStream(path, { flags: 'wx', mode: 0o600 }));
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.removeStale((options.now ?? Date.now)() - (options.maxAgeMs ?? MAX_AGE_MS));
  }

  /** The stored file of an upload this very instance received; null for any other id. */
  pathOf(id: string): string | null {
    if (!ID.test(id)) return null;
    return this.done.get(id) ?? null;
  }

  /**
   * Streams body into a new upload. `limit` is the largest size accepted; `declared` the
   * Content-Length if the client sent one (checked before a byte is written). Refuses with an
   * UploadError (413 over the limit, 507 disk full, 499 cut off by the client, 400 bad name)
   * and then leaves nothing on disk.
   */
  async receive(
    body: Readable,
    encodedName: string | undefined,
    limit: number,
    declared: number | null,
  ): Promise<Upload> {
    const name = decodeName(encodedName);
    if (declared !== null && declared > limit) throw overLimit(name, declared, limit);
    if (declared !== null) {
      try {
        checkRoom(this.dir, declared);
      } catch (e) {
        if (e instanceof DiskFullError) throw new UploadError(507, e.message);
        throw e;
      }
    }
    const id = randomBytes(18).toString('base64url');
    const partDir = join(this.dir, id + PART);
    mkdirSync(partDir, { mode: 0o700 });
    try {
      const size = await streamTo(body, this.openOutput(join(partDir, name)), limit, name);
      renameSync(partDir, join(this.dir, id));
      const path = join(this.dir, id, name);
      this.done.set(id, path);
      return { id, name, size, path };
    } catch (e) {
      rmSync(partDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Removes unfinished uploads (a crash mid-upload) and those older than `before`. */
  private removeStale(before: number): void {
    for (const entry of readdirSync(this.dir)) {
      const path = join(this.dir, entry);
      let old: boolean;
      try {
        old = statSync(path).mtimeMs < before;
      } catch {
        continue;
      }
      if (entry.endsWith(PART) || old) rmSync(path, { recursive: true, force: true });
    }
  }
}

/** The X-File-Name header: percent-encoded UTF-8, sanitised to one safe path component. */
function decodeName(encoded: string | undefined): string {
  if (encoded === undefined || encoded === '') {
    throw new UploadError(400, 'X-File-Name is required: the percent-encoded name of the file');
  }
  let name: string;
  try {
    name = decodeURIComponent(encoded);
  } catch {
    throw new UploadError(400, 'X-File-Name must be percent-encoded UTF-8');
  }
  return sanitizeFileName(name);
}

function overLimit(name: string, size: number, limit: number): UploadError {
  return new UploadError(
    413,
    `${name} is ${size} bytes, over the limit of ${limit} bytes (Settings)`,
  );
}

/**
 * Pipes body into out, counting; stops at the first byte over limit. Unlike stream.pipeline it
 * never destroys body: the request must stay open for the refusal to be answered on it.
 * Resolves with the size once out has flushed and closed; rejects once out is closed.
 */
function streamTo(body: Readable, out: Writable, limit: number, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let size = 0;
    let failure: Error | null = null;
    const fail = (e: Error) => {
      if (failure !== null) return;
      failure = e;
      body.off('data', onData);
      body.pause();
      // Settle once the file is closed, so the caller can remove it.
      if (out.closed) reject(e);
      else out.once('close', () => reject(e)).destroy();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(overLimit(name, size, limit));
      if (!out.write(chunk)) {
        body.pause();
        out.once('drain', () => failure === null && body.resume());
      }
    };
    body.on('data', onData);
    body.once('end', () => failure === null && out.end());
    body.once('error', () => fail(new UploadError(499, 'the upload was cut off')));
    body.once('close', () => {
      if (!body.readableEnded) fail(new UploadError(499, 'the upload was cut off'));
    });
    out.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        e.code === 'ENOSPC' || e.code === 'EDQUOT'
          ? new UploadError(507, `no room on disk for ${name}: free some space and try again`)
          : e,
      ),
    );
    out.once('close', () => {
      if (failure === null) {
        if (body.readableEnded) resolve(size);
        else fail(new Error(`the file for ${name} was closed before the upload ended`));
      }
    });
  });
}
