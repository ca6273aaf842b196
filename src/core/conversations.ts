// Deleting a conversation from this device's database: every message with the peer, both
// directions, with what the transport and the file transfers kept for them.
import type { MessageKey } from './transport/transport.ts';
import type { Db } from './store/database.ts';
import { transact } from '../node/transactions.ts';

/** Incoming files from `peer` still arriving: cancelled (partial file and all) before deletion. */
export function unfinishedIncomingFiles(db: Db, peer: string): MessageKey[] {
  return db
    .prepare(
      `SELECT f.author, f.author_device AS authorDevice, f.id FROM files f
         JOIN messages m ON m.author = f.author AND m.author_device = f.author_device AND m.id = f.id
       WHERE m.peer = ? AND m.direction = 'in' AND f.state = 'receiving'`,
    )
    .all(peer) as MessageKey[];
}

/**
 * Deletes every row of the conversation with `peer`; `me` owns the outgoing segment state.
 * Returns how many messages went. Saved files stay where they were saved.
 */
export function deleteConversationRows(
  db: Db,
  me: { user: string; device: number },
  peer: string,
): number {
  const ofPeer = 'SELECT author, author_device, id FROM messages WHERE peer = ?';
  return transact(
    db,
    () => {
      db.prepare(
        `DELETE FROM out_segments WHERE message_id IN
           (SELECT id FROM messages WHERE peer = ? AND author = ? AND author_device = ?)`,
      ).run(peer, me.user, me.device);
      for (const table of ['in_segments', 'in_file_segments']) {
        db.prepare(
          `DELETE FROM ${table} WHERE (author, author_device, message_id) IN (${ofPeer})`,
        ).run(peer);
      }
      db.prepare(`DELETE FROM files WHERE (author, author_device, id) IN (${ofPeer})`).run(peer);
      return db.prepare('DELETE FROM messages WHERE peer = ?').run(peer).changes;
    },
    'immediate',
  );
}
