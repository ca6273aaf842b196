// Where the Signal engine meets the transport (docs/security.md): our accepted messages are
// sealed in the order they were written, each committed with the ratchet step that sealed it;
// received ones are opened in id order, each committed with its ratchet step, its plain body
// (or, for a file, its checked header and its chunk key). What cannot be done now (the relay
// is away, a contact's new identity is not known yet) waits for the next kick: reconnection,
// new arrivals, identity news. Nothing is ever sealed or opened twice.
import { ErrorCode } from '@signalapp/libsignal-client';
import { fileFailureText } from '../../shared/failures.ts';
import { KIND_UNREADABLE } from '../message-views.ts';
import { statementCache, type Db } from '../store/database.ts';
import type { MessageKey } from '../transport/context.ts';
import type { Transport } from '../transport/transport.ts';
import type { StreamSink } from '../transport/stream.ts';
import { ChunkCipher, SealError } from './content.ts';
import { SealPending, type SignalEngine } from './engine.ts';
import { transact } from '../../node/transactions.ts';

/**
 * How soon what had to wait is tried again by itself (a peer's device that had published no
 * keys yet, a relay that did not answer): kicks (reconnection, arrivals) come sooner.
 */
export const RETRY_MS = 3000;
/** How long chunks that came with a file's header wait for it to be opened. */
export const OPEN_WAIT_MS = 2000;

export interface PipelineHooks {
  online(): boolean;
  /** Sealing for `peer` waits: their safety number changed and the user has not accepted it. */
  blocked(peer: string): boolean;
  /** A message's view changed (sealed, opened, or found unreadable). */
  changed(key: MessageKey): void;
  /** A sealed message cannot be sent at all (no such account...): it fails with `reason`. */
  failed(key: MessageKey, reason: string): void;
  /** A received file's header was refused once opened: its sender hears so. */
  refused(key: MessageKey): void;
  /**
   * An opened body, inside the transaction that keeps it: true when it was a carrier taken
   * by its reader (history between our devices), whose row is then hidden.
   */
  absorb(key: MessageKey, body: Uint8Array): boolean;
  /** A message came in a session's first message: its author's device waits for an answer. */
  answer(user: string, device: number): void;
  /** A message came sealed by another identity than the one known for `user`. */
  doubt(user: string): void;
}

interface Row {
  author: string;
  author_device: number;
  id: number;
  peer: string;
  body: Buffer | null;
  wire: Buffer | null;
  segment_count: number;
}

export class CryptoPipeline {
  private readonly db: Db;
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly engine: SignalEngine;
  private readonly transport: Transport;
  private readonly hooks: PipelineHooks;
  /** Where opened file headers go (src/core/files' sink). */
  private readonly files: StreamSink;
  /** Files whose sealed header is being opened: settled when it is (true) or is not. */
  private readonly opening = new Map<
    string,
    { promise: Promise<boolean>; settle: (ok: boolean) => void }
  >();
  /** Chunk ciphers of files being received, by message key. */
  private readonly chunkCiphers = new Map<string, ChunkCipher>();
  /** Messages that could not be done on the last pass: tried again on the next kick. */
  private readonly waiting = new Set<string>();
  private running = false;
  private again = false;
  private closed = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    db: Db,
    engine: SignalEngine,
    transport: Transport,
    files: StreamSink,
    hooks: PipelineHooks,
  ) {
    this.db = db;
    this.sql = statementCache(db);
    this.engine = engine;
    this.transport = transport;
    this.files = files;
    this.hooks = hooks;
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const o of this.opening.values()) o.settle(false);
    this.opening.clear();
  }

  /** Something changed that may let waiting work go on: retry it all. */
  retry(): void {
    this.waiting.clear();
    this.kick();
  }

  /** Seals and opens whatever is to be sealed or opened, one at a time, until none is left. */
  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
      if (this.again && !this.closed) {
        this.again = false;
        this.kick();
      } else if (this.waiting.size > 0 && !this.closed && this.retryTimer === null) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.retry();
        }, RETRY_MS);
        this.retryTimer.unref();
      }
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      this.again = false;
      const rows = this.sql(
        `SELECT author, author_device, id, peer, body, wire, segment_count, crypto FROM messages
          WHERE (crypto = 'seal' AND status = 'pending')
             OR (crypto = 'open' AND (body IS NOT NULL OR wire IS NOT NULL))
          ORDER BY crypto DESC, id`,
      ).all() as (Row & { crypto: 'seal' | 'open' })[];
      let progressed = false;
      for (const r of rows) {
        if (this.closed) return;
        const k = `${r.author}/${r.author_device}/${r.id}`;
        if (this.waiting.has(k)) continue;
        const done = r.crypto === 'seal' ? await this.seal(r) : await this.open(r);
        if (done) progressed = true;
        else this.waiting.add(k);
      }
      // An opened message may be what a later one's session needed: one more pass.
      if (!progressed && !this.again) return;
      if (progressed) this.waiting.clear();
      if (rows.length === 0) return;
    }
  }

  /** Seals one of ours; false when it must wait. */
  private async seal(r: Row): Promise<boolean> {
    // Accepted before a verified contact's number changed: it waits for the user's word.
    if (this.hooks.blocked(r.peer)) return false;
    const key = { author: r.author, authorDevice: r.author_device, id: r.id };
    const author = { user: r.author, device: r.author_device, id: r.id };
    try {
      await this.engine.seal(author, r.peer, r.body!, this.hooks.online(), (sealed, stage) => {
        this.transport.sealed(r.id, sealed.wire, sealed.contentKey, () => stage.apply(this.db));
      });
      return true;
    } catch (e) {
      if (e instanceof SealPending || !(e instanceof SealError)) return false;
      // It stays unsealed: `reseal` tries again when the user retries it. A file fails as a
      // refusal by the relay would fail it.
      this.sql(
        `UPDATE files SET state = 'failed', error = ? WHERE author = ? AND author_device = ? AND id = ?`,
      ).run(
        fileFailureText('relayRefusedAs', { detail: e.message, relayCode: 'unknownRecipient' }),
        r.author,
        r.author_device,
        r.id,
      );
      this.hooks.failed(key, e.message);
      return true;
    }
  }

  /** Opens one received message; false when it must wait. */
  private async open(r: Row): Promise<boolean> {
    const key = { author: r.author, authorDevice: r.author_device, id: r.id };
    const author = { user: r.author, device: r.author_device, id: r.id };
    // A file's sealed header waits in `wire` (its body is the opened header); a text's
    // sealed body is its body until opened.
    const isFile = r.wire !== null;
    const sealed = new Uint8Array(isFile ? r.wire! : r.body!);
    let refused = false;
    let preKey = false;
    try {
      await this.engine.open(author, sealed, (opened, stage) => {
        preKey = opened.preKey;
        transact(this.db, () => {
          stage.apply(this.db);
          if (isFile) {
            this.sql(
              'INSERT OR REPLACE INTO content_keys (author, author_device, id, key) VALUES (?, ?, ?, ?)',
            ).run(r.author, r.author_device, r.id, opened.contentKey);
            this.markOpened(key, null);
            refused = this.files.begin(key, r.segment_count, opened.body) !== null;
            if (!refused) {
              this.chunkCiphers.set(
                keyText(key),
                new ChunkCipher(opened.contentKey, this.engine.cipher),
              );
            }
          } else {
            this.markOpened(key, opened.body);
            if (this.hooks.absorb(key, opened.body)) {
              this.sql(
                'UPDATE messages SET hidden = 1 WHERE author = ? AND author_device = ? AND id = ?',
              ).run(key.author, key.authorDevice, key.id);
            }
          }
        });
      });
    } catch (e) {
      if (!(e instanceof SealError)) {
        // Sealed by an identity this device does not know (a recovered account): ask the
        // relay for it; the change (and its notice) lets the message open on the next try.
        if ((e as { code?: unknown }).code === ErrorCode.UntrustedIdentity) {
          this.hooks.doubt(r.author);
        }
        return false;
      }
      this.unreadable(key, isFile, e.message);
    }
    if (preKey) this.hooks.answer(key.author, key.authorDevice);
    if (refused) this.hooks.refused(key);
    if (isFile) this.opened(key, !refused && this.chunkCiphers.has(keyText(key)));
    this.hooks.changed(key);
    return true;
  }

  /** A message that can never be opened on this device is kept as such. */
  private unreadable(key: MessageKey, isFile: boolean, why: string): void {
    const body = new Uint8Array([KIND_UNREADABLE, ...new TextEncoder().encode(why)]);
    transact(this.db, () => {
      if (isFile) {
        this.sql(
          `UPDATE files SET state = 'failed', error = ? WHERE author = ? AND author_device = ? AND id = ?`,
        ).run(`it could not be decrypted: ${why}`, key.author, key.authorDevice, key.id);
        this.markOpened(key, null);
      } else {
        this.markOpened(key, body);
      }
    });
    if (isFile) this.hooks.refused(key);
  }

  private markOpened(key: MessageKey, body: Uint8Array | null): void {
    if (body === null) {
      this.sql(
        'UPDATE messages SET crypto = NULL, wire = NULL WHERE author = ? AND author_device = ? AND id = ?',
      ).run(key.author, key.authorDevice, key.id);
    } else {
      this.sql(
        'UPDATE messages SET crypto = NULL, body = ? WHERE author = ? AND author_device = ? AND id = ?',
      ).run(body, key.author, key.authorDevice, key.id);
    }
  }

  /** Retries one of ours that failed before it was sealed; false if it is not one. */
  reseal(key: MessageKey): boolean {
    const changed = this.sql(
      `UPDATE messages SET status = 'pending'
        WHERE author = ? AND author_device = ? AND id = ? AND crypto = 'seal' AND status = 'failed'
          AND NOT EXISTS (SELECT 1 FROM files f WHERE f.author = messages.author
            AND f.author_device = messages.author_device AND f.id = messages.id
            AND f.state = 'cancelled')`,
    ).run(key.author, key.authorDevice, key.id).changes;
    if (changed === 0) return false;
    this.sql(
      `UPDATE files SET state = 'sending', error = NULL
        WHERE author = ? AND author_device = ? AND id = ? AND state = 'failed'`,
    ).run(key.author, key.authorDevice, key.id);
    this.hooks.changed(key);
    this.retry();
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // The sealed sink's side (sealed-files.ts)

  /** A received file's sealed header (inside the burst's transaction): kept to be opened. */
  header(key: MessageKey, _count: number, sealed: Uint8Array): void {
    this.sql('UPDATE messages SET wire = ? WHERE author = ? AND author_device = ? AND id = ?').run(
      sealed,
      key.author,
      key.authorDevice,
      key.id,
    );
    const k = keyText(key);
    if (!this.opening.has(k)) {
      let settle: (ok: boolean) => void = () => {};
      const promise = new Promise<boolean>((resolve) => (settle = resolve));
      // Chunks wait for the opening only so long; then they are dropped, to come again.
      const timer = setTimeout(() => this.opened(key, false), OPEN_WAIT_MS);
      timer.unref();
      this.opening.set(k, {
        promise,
        settle: (ok) => {
          clearTimeout(timer);
          settle(ok);
        },
      });
    }
    setImmediate(() => this.kick());
  }

  /** Settles once the header of `key`, which arrived, is opened (or is not); null: none waits. */
  whenOpened(key: MessageKey): Promise<boolean> | null {
    return this.opening.get(keyText(key))?.promise ?? null;
  }

  private opened(key: MessageKey, ok: boolean): void {
    const k = keyText(key);
    this.opening.get(k)?.settle(ok);
    this.opening.delete(k);
  }

  /** The chunk cipher of a file being received, once its header is opened. */
  chunks(key: MessageKey): ChunkCipher | null {
    const k = keyText(key);
    const kept = this.chunkCiphers.get(k);
    if (kept) return kept;
    const row = this.sql(
      `SELECT k.key FROM content_keys k JOIN messages m USING (author, author_device, id)
        WHERE author = ? AND author_device = ? AND id = ? AND m.crypto IS NULL`,
    ).get(key.author, key.authorDevice, key.id) as { key: Buffer } | undefined;
    if (!row) return null;
    const chunks = new ChunkCipher(new Uint8Array(row.key), this.engine.cipher);
    this.chunkCiphers.set(k, chunks);
    return chunks;
  }
}

function keyText(key: MessageKey): string {
  return `${key.author}/${key.authorDevice}/${key.id}`;
}
