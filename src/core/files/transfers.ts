// Files as messages, the application layer's part: hashing and describing a file before it is
// sent, verifying one that has arrived (SHA-256 from disk) before it is shown as received,
// placing it in the downloads folder under a sanitised, unique name, and reporting progress.
// The transport moves the segments (transport.ts), and incoming.ts and source.ts give it and
// take from it the files' bytes; this file decides what they mean.
import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { sha256OfFile } from './hash.ts';
import { basename } from 'node:path';
import type { FileState, FileView } from '../../shared/api.ts';
import { fileFailureText } from '../../shared/failures.ts';
import {
  CHUNK_OFFSET_BYTES,
  encodeFileHeader,
  type FileHeader,
  type ReceiptFrame,
  type SenderReceiptKind,
} from '../../shared/protocol/index.ts';
import { statementCache, type Db } from '../store/database.ts';
import type { MessageKey, Transport } from '../transport/transport.ts';
import type { IncomingFiles } from './incoming.ts';
import { DiskFullError } from './disk.ts';
import { fileView, type FileRow } from './file-view.ts';
import { PARTIAL_EXPIRY_DAYS, sweepPartials } from './partial-sweep.ts';
import { ensureDownloadsDir } from './downloads.ts';
import { FileReceipts } from './receipts.ts';
import { mediaTypeOf, SNIFF_BYTES } from './media-type.ts';
import { moveToUniqueDestination, sanitizeFileName } from './names.ts';
import { identify, type FileIdentity } from './source.ts';
import { CHUNK_SEAL_BYTES } from '../crypto/sealed-files.ts';
import { transact } from '../../node/transactions.ts';

const PROGRESS_INTERVAL_MS = 250;

export class FileError extends Error {
  override name = 'FileError';
}

export interface FileSettings {
  /** Where received files are saved. */
  downloadsDir: string;
  /** The largest file sent or accepted, in bytes. */
  maxFileBytes: number;
  /** Files from accepted contacts up to this size download by themselves; larger ones wait. */
  autoDownloadBytes: number;
}

export type FileAction = 'pause' | 'resume' | 'cancel';

/**
 * Whether `path` holds the file `header` describes, whole: a regular file (not a link to
 * one) of its size and SHA-256.
 */
async function isSavedCopy(path: string, header: FileHeader): Promise<boolean> {
  let stats;
  try {
    stats = lstatSync(path);
  } catch {
    return false;
  }
  return (
    stats.isFile() && stats.size === header.size && (await sha256OfFile(path)) === header.sha256
  );
}

export class FileTransfers {
  private readonly db: Db;
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly transport: Transport;
  private readonly incoming: IncomingFiles;
  private readonly me: { user: string; device: number };
  settings: FileSettings;
  private readonly changed: (key: MessageKey) => void;
  private readonly verifying = new Set<string>();
  private closed = false;
  /** Reports progress of files in flight while there are any. */
  private progressTimer: ReturnType<typeof setInterval> | null = null;
  private readonly lastProgress = new Map<string, number>();
  /** Receipts about files, kept until the connection takes them. */
  private readonly receipts: FileReceipts;

  constructor(
    db: Db,
    transport: Transport,
    incoming: IncomingFiles,
    me: { user: string; device: number },
    settings: FileSettings,
    changed: (key: MessageKey) => void,
    /** Whether the relay is connected (receipts wait for it). */
    online: () => boolean,
  ) {
    this.db = db;
    this.sql = statementCache(db);
    this.transport = transport;
    this.incoming = incoming;
    this.me = me;
    this.settings = settings;
    this.changed = changed;
    this.receipts = new FileReceipts(
      db,
      (to, device, ids, kind) => transport.sendReceipt(to, device, ids, kind),
      online,
    );
    transport.on('fileComplete', (key) => void this.verify(key));
    transport.on('fileActivity', () => this.watchProgress());
    transport.on('hold', (frame) => this.onHold(frame));
    incoming.onSenderReceipt((key, kind) => this.onSenderReceipt(key, kind));
  }

  /** The relay is connected: the receipts that waited for it go. */
  online(): void {
    this.receipts.flush();
  }

  /**
   * While files are in flight, emits each one's view when its progress moved (4 times a
   * second). Called whenever a file starts moving again (a resume, a retry).
   */
  private watchProgress(): void {
    if (this.progressTimer !== null || this.closed) return;
    this.progressTimer = setInterval(() => this.reportProgress(), PROGRESS_INTERVAL_MS);
    this.progressTimer.unref();
  }

  private reportProgress(): void {
    const active = this.sql(
      `SELECT f.author, f.author_device AS authorDevice, f.id,
         (SELECT count(*) FROM out_segments s WHERE f.author = @user AND f.author_device = @device
            AND s.message_id = f.id AND s.acked = 1)
         + (SELECT count(*) FROM in_file_segments s WHERE s.author = f.author
            AND s.author_device = f.author_device AND s.message_id = f.id) AS done
       FROM files f WHERE f.state IN ('sending', 'receiving', 'verifying')`,
    ).all({ user: this.me.user, device: this.me.device }) as (MessageKey & { done: number })[];
    if (active.length === 0) {
      clearInterval(this.progressTimer!);
      this.progressTimer = null;
      this.lastProgress.clear();
      return;
    }
    for (const a of active) {
      const id = `${a.author}/${a.authorDevice}/${a.id}`;
      if (this.lastProgress.get(id) === a.done) continue;
      this.lastProgress.set(id, a.done);
      this.changed({ author: a.author, authorDevice: a.authorDevice, id: a.id });
    }
  }

  /**
   * Pauses, resumes or cancels one of our files in flight, and tells its receiver, whose
   * bubble would otherwise show a transfer that is no longer moving as live; an incoming file
   * can only be cancelled. False if that does not apply.
   */
  control(key: MessageKey, action: FileAction): boolean {
    if (key.author !== this.me.user || key.authorDevice !== this.me.device) {
      return action === 'cancel' && this.cancelIncoming(key);
    }
    // Held by its recipient: it goes on when they take it, not before.
    if (action === 'resume' && this.row(key)?.peerHeld === 1) return false;
    const id = key.id;
    const done =
      action === 'pause'
        ? this.transport.pauseFile(id)
        : action === 'resume'
          ? this.transport.resumeFile(id)
          : this.transport.cancelFile(id);
    if (!done) return false;
    const { peer } = this.sql(
      'SELECT peer FROM messages WHERE author = ? AND author_device = ? AND id = ?',
    ).get(key.author, key.authorDevice, id) as { peer: string };
    const receipt: Record<FileAction, SenderReceiptKind> = {
      pause: 'paused',
      resume: 'resumed',
      cancel: 'withdrawn',
    };
    this.receipts.post(peer, key.authorDevice, id, receipt[action]);
    if (action === 'resume') this.watchProgress();
    if (action === 'cancel') {
      this.sql(
        `UPDATE files SET cancelled_by = 'sender' WHERE author = ? AND author_device = ? AND id = ?`,
      ).run(key.author, key.authorDevice, id);
      this.changed(key);
    }
    return true;
  }

  /**
   * Sends one of our failed messages again (a file's progress shows again). A file we
   * cancelled is over, its receiver has deleted what it had: it is sent anew instead.
   */
  retry(key: MessageKey): boolean {
    if (this.row(key)?.state === 'cancelled' || !this.transport.retry(key.id)) return false;
    this.watchProgress();
    return true;
  }

  /**
   * The sender of an incoming file withdrew it (its partial file goes, and later segments
   * are dropped), paused it or resumed it: the bubble shows so, across restarts.
   */
  private onSenderReceipt(key: MessageKey, kind: SenderReceiptKind): void {
    const partial = this.incoming.partial;
    if (this.closed || key.author === this.me.user) return;
    const row = this.row(key);
    if (kind === 'withdrawn' && !row) {
      // Withdrawn before any segment came (or after ours were lost): none that follows is kept.
      this.sql(
        `INSERT OR IGNORE INTO files (author, author_device, id, path, state, cancelled_by)
         VALUES (?, ?, ?, ?, 'cancelled', 'sender')`,
      ).run(
        key.author,
        key.authorDevice,
        key.id,
        partial.pathOf(key.author, key.authorDevice, key.id),
      );
      return;
    }
    if (row?.state !== 'receiving') return;
    if (kind === 'withdrawn') {
      this.stopReceiving(key, row.path, 'sender');
      return;
    }
    this.sql(
      'UPDATE files SET sender_paused = ? WHERE author = ? AND author_device = ? AND id = ?',
    ).run(kind === 'paused' ? 1 : 0, key.author, key.authorDevice, key.id);
    this.changed(key);
  }

  /**
   * The recipient of one of our files asks us to hold it (`wait`: it waits for its user, and
   * dropped what we sent beyond its header) or to go on (`proceed`, for good). Only the
   * file's peer speaks for it; a file we paused ourselves stays paused.
   */
  private onHold(frame: ReceiptFrame): void {
    if (this.closed || frame.messageDevice !== this.me.device) return;
    for (const id of frame.messageIds) {
      const key = { author: this.me.user, authorDevice: this.me.device, id };
      const row = this.row(key);
      const peer = this.sql(
        'SELECT peer FROM messages WHERE author = ? AND author_device = ? AND id = ?',
      ).get(key.author, key.authorDevice, id) as { peer: string } | undefined;
      if (!row || peer?.peer !== frame.from) continue;
      if (frame.kind === 'wait' && row.state === 'sending' && row.peerHeld === 0) {
        if (!this.transport.pauseFile(id)) continue;
        this.setPeerHeld(key, 1);
        this.changed(key);
      } else if (frame.kind === 'proceed' && row.peerHeld !== 2) {
        this.setPeerHeld(key, 2);
        if (row.state === 'paused' && row.peerHeld === 1) this.transport.resumeFile(id);
        this.watchProgress();
        this.changed(key);
      }
    }
  }

  private setPeerHeld(key: MessageKey, held: 0 | 1 | 2): void {
    this.sql(
      'UPDATE files SET peer_held = ? WHERE author = ? AND author_device = ? AND id = ?',
    ).run(held, key.author, key.authorDevice, key.id);
  }

  /**
   * The user takes an incoming file that waits (Download): it must fit on the disk beside the
   * files already arriving; its sender hears `proceed`. A file from a request waits for Accept.
   */
  download(key: MessageKey): void {
    const row = this.row(key);
    if (!row || key.author === this.me.user || row.state !== 'receiving' || row.held === null) {
      throw new FileError('this file is not waiting to be downloaded');
    }
    if (row.held === 'request') {
      throw new FileError(`accept ${key.author} first: files from a message request wait`);
    }
    try {
      this.incoming.take(key);
    } catch (e) {
      if (e instanceof DiskFullError) throw new FileError(e.message);
      throw e;
    }
    this.proceed(key);
  }

  /**
   * A request's sender is accepted: their files that waited for it are taken, except those
   * over the auto-download size (they wait for a click now), or without room (refused).
   */
  accepted(user: string): void {
    const waiting = this.sql(
      `SELECT author, author_device AS authorDevice, id FROM files
       WHERE author = ? AND state = 'receiving' AND held = 'request'`,
    ).all(user) as MessageKey[];
    for (const key of waiting) {
      const row = this.row(key)!;
      const size = row.header === null ? null : (JSON.parse(row.header) as FileHeader).size;
      if (size !== null && size > this.settings.autoDownloadBytes) {
        this.incoming.hold(key, 'size');
        this.changed(key);
        continue;
      }
      try {
        this.incoming.take(key);
      } catch (e) {
        if (!(e instanceof DiskFullError)) throw e;
        this.fail(key, `refused: ${e.message}`);
        continue;
      }
      this.proceed(key);
    }
  }

  /** A blocked user's files in flight here are refused: what came of them is deleted. */
  refuseFrom(user: string): void {
    const open = this.sql(
      `SELECT author, author_device AS authorDevice, id, path FROM files
       WHERE author = ? AND state = 'receiving'`,
    ).all(user) as (MessageKey & { path: string })[];
    for (const f of open) {
      const key = { author: f.author, authorDevice: f.authorDevice, id: f.id };
      this.fail(key, fileFailureText('blocked', { peer: user }));
    }
  }

  /** A waiting file is taken: its sender sends the rest. */
  private proceed(key: MessageKey): void {
    this.receipts.post(key.author, key.authorDevice, key.id, 'proceed');
    this.watchProgress();
    this.changed(key);
  }

  /** Verifies files whose last segment arrived before a restart. */
  start(): void {
    const partial = this.incoming.partial;
    for (const f of sweepPartials(this.db, partial.dir, Date.now()).expired) {
      const key = { author: f.author, authorDevice: f.authorDevice, id: f.id };
      this.fail(key, fileFailureText('expired', { days: String(PARTIAL_EXPIRY_DAYS) }));
    }
    for (const key of this.incoming.awaitingVerification()) void this.verify(key);
    this.watchProgress();
  }

  close(): void {
    this.closed = true;
    if (this.progressTimer !== null) clearInterval(this.progressTimer);
  }

  /**
   * Describes a file for sending: checks it, hashes it from disk (constant memory), and makes
   * sure it did not change while it was hashed. The caller submits it with `submit`.
   */
  async describe(path: string): Promise<{ header: FileHeader; identity: FileIdentity }> {
    let identity: FileIdentity;
    try {
      identity = identify(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new FileError(
        code === 'ENOENT'
          ? `no such file: ${path}`
          : `cannot send ${path}: ${(e as Error).message}`,
      );
    }
    if (identity.size > this.settings.maxFileBytes) {
      throw new FileError(
        `${basename(path)} is ${identity.size} bytes, over the limit of ${this.settings.maxFileBytes} bytes (Settings)`,
      );
    }
    const sha256 = await sha256OfFile(path);
    const after = identify(path);
    if (after.size !== identity.size || after.mtimeMs !== identity.mtimeMs) {
      throw new FileError(`${basename(path)} changed while it was being read: try again`);
    }
    const head = new Uint8Array(SNIFF_BYTES);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, SNIFF_BYTES, 0);
    } finally {
      closeSync(fd);
    }
    const name = basename(path);
    return {
      header: {
        name,
        size: identity.size,
        type: mediaTypeOf(name, head),
        sha256,
      },
      identity,
    };
  }

  /** Hands a described file to the transport as message `id` to `peer`. */
  submit(
    peer: string,
    id: number,
    path: string,
    described: { header: FileHeader; identity: FileIdentity },
    segmentSize: number,
  ): MessageKey {
    // A chunk segment carries its offset and its seal's tag too, and stays within the
    // segment size X. The header is sealed before anything is sent (src/core/crypto).
    const chunk = segmentSize - CHUNK_OFFSET_BYTES - CHUNK_SEAL_BYTES;
    return this.transport.accept(peer, id, encodeFileHeader(described.header), {
      path,
      identity: described.identity,
      chunk,
    });
  }

  /**
   * Checks a complete incoming file against its SHA-256 and moves it into the downloads
   * folder; a mismatch fails it, with the reason, and the damaged bytes are deleted.
   *
   * The move and the commit of 'done' cannot be one atomic step, so the destination is
   * recorded first (`saving_to`): after a crash between the two, the next start finds the
   * file there, whole, and commits it, instead of verifying a partial file that is gone.
   */
  private async verify(key: MessageKey): Promise<void> {
    const id = `${key.author}/${key.authorDevice}/${key.id}`;
    if (this.verifying.has(id) || this.closed) return;
    this.verifying.add(id);
    const partial = this.incoming.partial;
    try {
      const row = this.row(key);
      if (!row || row.header === null) return;
      const header = JSON.parse(row.header) as FileHeader;
      if (row.savingTo !== null && (await isSavedCopy(row.savingTo, header))) {
        if (this.closed) return;
        partial.remove(row.path);
        this.saved(key, header, row.savingTo);
        return;
      }
      this.setState(key, 'verifying', null);
      partial.truncate(row.path, header.size);
      const sha256 = await partial.sha256(row.path, header.size);
      if (this.closed) return;
      if (sha256 !== header.sha256) {
        partial.remove(row.path);
        this.fail(key, fileFailureText('damaged'));
        return;
      }
      let saved: string;
      try {
        const dir = ensureDownloadsDir(this.settings.downloadsDir);
        saved = moveToUniqueDestination(row.path, dir, sanitizeFileName(header.name), (path) =>
          this.sql(
            'UPDATE files SET saving_to = ? WHERE author = ? AND author_device = ? AND id = ?',
          ).run(path, key.author, key.authorDevice, key.id),
        );
      } catch (e) {
        this.fail(key, fileFailureText('notSaved', { detail: (e as Error).message }));
        return;
      }
      this.saved(key, header, saved);
    } catch (e) {
      if (!this.closed) {
        this.fail(key, fileFailureText('notVerified', { detail: (e as Error).message }));
      }
    } finally {
      this.verifying.delete(id);
    }
  }

  /** Commits a verified file saved at `path` as received, and tells its sender. */
  private saved(key: MessageKey, header: FileHeader, path: string): void {
    this.commitSaved(key, header, path);
    // Delivered now, not when the last segment came: the file is whole and in its place.
    this.tellSender(key, 'delivered');
    this.changed(key);
  }

  /** Records, in one transaction, that the file of `key` is done and saved at `path`. */
  private commitSaved(key: MessageKey, header: FileHeader, path: string): void {
    transact(this.db, () => {
      this.sql(
        `UPDATE files SET path = ?, state = 'done', error = NULL, saving_to = NULL
         WHERE author = ? AND author_device = ? AND id = ?`,
      ).run(path, key.author, key.authorDevice, key.id);
      this.sql(
        `UPDATE messages SET body = ?, error = 0, idle_passes = 0
         WHERE author = ? AND author_device = ? AND id = ?`,
      ).run(encodeFileHeader(header), key.author, key.authorDevice, key.id);
      this.sql(
        'DELETE FROM in_file_segments WHERE author = ? AND author_device = ? AND message_id = ?',
      ).run(key.author, key.authorDevice, key.id);
    });
  }

  /** Stops receiving a file: its partial file is deleted; segments still coming are dropped. */
  cancelIncoming(key: MessageKey): boolean {
    const row = this.row(key);
    if (!row || row.state !== 'receiving') return false;
    this.tellSender(key, 'cancelled');
    this.stopReceiving(key, row.path, 'receiver');
    return true;
  }

  /** An incoming file is cancelled by either end: what has arrived of it goes. */
  private stopReceiving(key: MessageKey, path: string, by: 'sender' | 'receiver'): void {
    transact(this.db, () => {
      this.sql(
        `UPDATE files SET state = 'cancelled', error = NULL, cancelled_by = ?, sender_paused = 0
         WHERE author = ? AND author_device = ? AND id = ?`,
      ).run(by, key.author, key.authorDevice, key.id);
      this.sql(
        'DELETE FROM in_file_segments WHERE author = ? AND author_device = ? AND message_id = ?',
      ).run(key.author, key.authorDevice, key.id);
    });
    this.incoming.partial.remove(path);
    this.changed(key);
  }

  /**
   * An incoming file fails for good: what arrived of it is deleted, and the sender hears that
   * it was refused, and stops.
   */
  private fail(key: MessageKey, why: string): void {
    const row = this.row(key);
    if (row && row.path === this.incoming.partial.pathOf(key.author, key.authorDevice, key.id)) {
      this.incoming.partial.remove(row.path);
    }
    transact(this.db, () => {
      this.sql(
        'DELETE FROM in_file_segments WHERE author = ? AND author_device = ? AND message_id = ?',
      ).run(key.author, key.authorDevice, key.id);
      this.sql(
        'UPDATE files SET held = NULL WHERE author = ? AND author_device = ? AND id = ?',
      ).run(key.author, key.authorDevice, key.id);
    });
    this.setState(key, 'failed', why);
    this.tellSender(key, 'refused');
    this.changed(key);
  }

  private tellSender(key: MessageKey, kind: 'delivered' | 'cancelled' | 'refused'): void {
    if (key.author !== this.me.user) this.receipts.post(key.author, key.authorDevice, key.id, kind);
  }

  private setState(key: MessageKey, state: FileState, error: string | null): void {
    this.sql(
      'UPDATE files SET state = ?, error = ? WHERE author = ? AND author_device = ? AND id = ?',
    ).run(state, error, key.author, key.authorDevice, key.id);
  }

  private row(key: MessageKey): FileRow | undefined {
    return this.sql(
      `SELECT path, size, header, state, error, saving_to AS savingTo,
         cancelled_by AS cancelledBy, sender_paused AS senderPaused, held,
         peer_held AS peerHeld FROM files
       WHERE author = ? AND author_device = ? AND id = ?`,
    ).get(key.author, key.authorDevice, key.id) as FileRow | undefined;
  }

  /** The file part of a message's view, or null when the message is not a file. */
  view(
    key: MessageKey,
    direction: 'in' | 'out',
    body: Uint8Array | null,
    segmentCount: number,
    segmentSize: number,
  ): FileView | null {
    const row = this.row(key);
    if (!row) return null;
    return fileView(this.sql, this.me, row, { key, direction, body, segmentCount, segmentSize });
  }
}
