// Receipts about files, kept in the profile until the connection takes them. Each one ends a
// wait at the other end: the sender's for `delivered`, `cancelled` or `refused`, the
// receiver's for `withdrawn`, `paused` or `resumed`. Sent straight away, one would be lost
// whenever the relay is out of reach at that moment (a file verified at start-up, a file
// cancelled offline), and the other end would wait forever. The relay queues them for a peer
// that is away, as it does data.
import type { ReceiptKind } from '../../shared/protocol/index.ts';
import { statementCache, type Db } from '../store/database.ts';

/** Sends a receipt; a promise settles once it is on its way (a sealed one), or rejects. */
export type SendReceipt = (
  to: string,
  device: number,
  ids: number[],
  kind: ReceiptKind,
) => void | Promise<void>;

export class FileReceipts {
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly send: SendReceipt;
  private readonly online: () => boolean;
  private readonly db: Db;

  constructor(db: Db, send: SendReceipt, online: () => boolean) {
    this.db = db;
    this.sql = statementCache(db);
    this.send = send;
    this.online = online;
  }

  /**
   * Sends `kind` about message `id` of `device` to `to` as soon as the connection allows. A
   * later receipt about the same message replaces one not sent yet (paused, then resumed).
   */
  post(to: string, device: number, id: number, kind: ReceiptKind): void {
    this.sql(
      `INSERT OR REPLACE INTO file_receipts (to_user, message_device, message_id, kind)
       VALUES (?, ?, ?, ?)`,
    ).run(to, device, id, kind);
    this.flush();
  }

  /** Sends every receipt waiting, if the relay is connected (called again when it is). */
  flush(): void {
    if (!this.online()) return;
    const waiting = this.sql(
      `SELECT to_user AS "to", message_device AS device, message_id AS id, kind
       FROM file_receipts ORDER BY rowid`,
    ).all() as { to: string; device: number; id: number; kind: ReceiptKind }[];
    for (const r of waiting) {
      // Kept until it is on its way (a sealed receipt waits for its sealing); one that could
      // not be sealed is sent again at the next flush. A later kind that replaced it stays.
      const forget = () => {
        if (!this.db.open) return;
        this.sql(
          `DELETE FROM file_receipts
           WHERE to_user = ? AND message_device = ? AND message_id = ? AND kind = ?`,
        ).run(r.to, r.device, r.id, r.kind);
      };
      const sent = this.send(r.to, r.device, [r.id], r.kind);
      if (sent instanceof Promise) sent.then(forget, () => {});
      else forget();
    }
  }
}
