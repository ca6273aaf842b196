// History for a linked device (docs/accounts.md, "History on a new device"): a device that
// joined an account by a link code asks its account's other devices for the conversations
// so far, with a sealed request to its own account; a device that opens the request answers
// with the history in sealed batches, again to its own account (sealed, like every message,
// device to device). Texts come whole; files come as their description only (the bytes stay
// on the devices that have them). Whoever has a message already keeps it: importing is
// idempotent, so every device may answer and every device may read the answers.
import { toBase64, fromBase64 } from '../../shared/protocol/account.ts';
import { decodeFileHeader } from '../../shared/protocol/index.ts';
import { statementCache, type Db } from '../store/database.ts';
import type { MessageKey } from '../transport/context.ts';
import { transact } from '../../node/transactions.ts';

/** Body kinds of the two carriers (never shown: their rows are hidden). */
export const KIND_HISTORY_REQUEST = 0x7c;
export const KIND_HISTORY = 0x7d;
/** Bytes of history records per batch message. */
const BATCH_BYTES = 256 * 1024;
/** Why an imported file has no bytes here. */
export const HISTORY_FILE_ERROR =
  'sent or received before this device was linked: the file stays on the devices that had it';

interface Record {
  a: string;
  d: number;
  i: number;
  p: string;
  o: 'in' | 'out';
  s: string;
  r: number;
  b: string;
  /** A file's header (JSON), when the message is a file. */
  f?: string;
}

export interface HistoryHooks {
  /** Accepts a hidden message to our own account (sealed and sent by the pipeline). */
  sendToSelf(body: Uint8Array): void;
}

export class HistoryShare {
  private readonly db: Db;
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly me: { user: string; device: number };
  private readonly hooks: HistoryHooks;

  constructor(db: Db, me: { user: string; device: number }, hooks: HistoryHooks) {
    this.db = db;
    this.sql = statementCache(db);
    this.me = me;
    this.hooks = hooks;
  }

  /** On a welcome: a newly linked device asks for the history once. */
  requestIfWanted(): void {
    const row = this.sql("SELECT value FROM meta WHERE key = 'history'").get() as
      { value: string } | undefined;
    if (row?.value !== 'wanted') return;
    transact(this.db, () => {
      this.hooks.sendToSelf(new Uint8Array([KIND_HISTORY_REQUEST]));
      this.sql("INSERT OR REPLACE INTO meta (key, value) VALUES ('history', 'asked')").run();
    });
  }

  /**
   * A message was opened (inside the transaction that keeps it): a carrier of history from
   * our own account is taken here and true is returned (its row is then hidden).
   */
  absorb(key: MessageKey, body: Uint8Array): boolean {
    const kind = body[0];
    if (kind !== KIND_HISTORY_REQUEST && kind !== KIND_HISTORY) return false;
    // Only our own account's devices speak for our history; anyone else's carrier is dropped.
    if (key.author !== this.me.user) return true;
    if (kind === KIND_HISTORY_REQUEST) {
      if (key.authorDevice !== this.me.device) this.answer();
    } else {
      this.import(body.subarray(1));
    }
    return true;
  }

  /** Sends everything shown here, in batches, to our own account. */
  private answer(): void {
    const rows = this.sql(
      `SELECT m.author, m.author_device, m.id, m.peer, m.direction, m.status, m.read, m.body,
              f.header, f.author IS NOT NULL AS isFile
         FROM messages m
         LEFT JOIN files f USING (author, author_device, id)
        WHERE m.hidden = 0 AND m.crypto IS NULL AND m.body IS NOT NULL
        ORDER BY m.id`,
    ).iterate() as Iterable<{
      author: string;
      author_device: number;
      id: number;
      peer: string;
      direction: 'in' | 'out';
      status: string;
      read: number;
      body: Buffer;
      header: string | null;
      isFile: number;
    }>;
    let batch: string[] = [];
    let bytes = 0;
    const flush = () => {
      if (batch.length === 0) return;
      const json = new TextEncoder().encode(`[${batch.join(',')}]`);
      const body = new Uint8Array(1 + json.length);
      body[0] = KIND_HISTORY;
      body.set(json, 1);
      this.hooks.sendToSelf(body);
      batch = [];
      bytes = 0;
    };
    for (const r of rows) {
      // A file we sent has its description in its body; one we received, in its row.
      const header =
        r.header ?? (r.isFile ? JSON.stringify(decodeFileHeader(new Uint8Array(r.body))) : null);
      const record: Record = {
        a: r.author,
        d: r.author_device,
        i: r.id,
        p: r.peer,
        o: r.direction,
        s: r.status,
        r: r.read,
        b: toBase64(r.body),
        ...(header !== null ? { f: header } : {}),
      };
      const text = JSON.stringify(record);
      if (bytes + text.length > BATCH_BYTES) flush();
      batch.push(text);
      bytes += text.length;
    }
    flush();
  }

  /** Keeps the records we do not have yet. */
  private import(json: Uint8Array): void {
    let records: unknown;
    try {
      records = JSON.parse(new TextDecoder().decode(json));
    } catch {
      return;
    }
    if (!Array.isArray(records)) return;
    for (const r of records as Partial<Record>[]) {
      const body = typeof r.b === 'string' ? fromBase64(r.b) : null;
      if (
        typeof r.a !== 'string' ||
        typeof r.p !== 'string' ||
        typeof r.d !== 'number' ||
        typeof r.i !== 'number' ||
        (r.o !== 'in' && r.o !== 'out') ||
        body === null
      ) {
        continue;
      }
      const added = this.sql(
        `INSERT INTO messages (author, author_device, id, peer, direction, body, segment_count,
                               segment_size, status, received, read)
         VALUES (?, ?, ?, ?, ?, ?, 1, 1, ?, 1, ?) ON CONFLICT DO NOTHING`,
      ).run(
        r.a,
        r.d,
        r.i,
        r.p,
        r.o,
        body,
        r.o === 'in' ? 'delivered' : typeof r.s === 'string' ? r.s : 'sent',
        r.r === 1 ? 1 : 0,
      ).changes;
      if (added === 1 && typeof r.f === 'string') {
        this.sql(
          `INSERT INTO files (author, author_device, id, path, state, header, error)
           VALUES (?, ?, ?, '', 'failed', ?, ?) ON CONFLICT DO NOTHING`,
        ).run(r.a, r.d, r.i, r.f, HISTORY_FILE_ERROR);
      }
    }
  }
}
