// Messages as the UI and the CLI see them: rows of the profile's `messages` table read back
// as MessageView (text decoded, file state from the transfers, what is still missing from
// the transport), one at a time or as a conversation's history in pages.
import type { ConversationView, MessageStatus, MessageView, PresenceView } from '../shared/api.ts';
import type { FileTransfers } from './files/transfers.ts';
import type { statementCache } from './store/database.ts';
import { sentAtOf } from './transport/message-clock.ts';
import type { MessageKey, Transport } from './transport/transport.ts';

/** Application-layer message kinds (the first byte of a message body). */
export const KIND_TEXT = 1;
/** A received message this device could not decrypt: the reason follows (src/core/crypto). */
export const KIND_UNREADABLE = 0x7e;

/** What a view reads of a message row (never its sealed `wire`). */
const COLUMNS = `author, author_device, id, peer, direction, body, segment_count, segment_size,
  received, status, error, read`;
const utf8 = new TextDecoder();

interface MessageRow {
  author: string;
  author_device: number;
  id: number;
  peer: string;
  direction: 'in' | 'out';
  body: Buffer | null;
  segment_count: number;
  segment_size: number;
  received: number;
  status: MessageStatus;
  error: number;
  read: number;
}

export class MessageViews {
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly files: FileTransfers;
  private readonly transport: Transport;

  constructor(sql: ReturnType<typeof statementCache>, files: FileTransfers, transport: Transport) {
    this.sql = sql;
    this.files = files;
    this.transport = transport;
  }

  /**
   * Messages with `peer` in send order, newest last. `before` (a message key) pages
   * backwards; ids are unique per device only, so the key breaks ties.
   */
  history(peer: string, options: { before?: string; limit?: number } = {}): MessageView[] {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const b = options.before === undefined ? null : parseKey(options.before);
    // Without `before`, from the newest: no bound, so that an id as large as 2^53 - 1 (a
    // peer's clock far ahead) is shown too.
    const rows = (
      b === null
        ? this.sql(
            `SELECT ${COLUMNS} FROM messages WHERE peer = ? AND hidden = 0 AND NOT (crypto IS 'open' AND body IS NOT NULL)
               ORDER BY id DESC, author DESC, author_device DESC LIMIT ?`,
          ).all(peer, limit)
        : this.sql(
            `SELECT ${COLUMNS} FROM messages WHERE peer = ? AND hidden = 0 AND NOT (crypto IS 'open' AND body IS NOT NULL)
               AND (id, author, author_device) < (?, ?, ?)
               ORDER BY id DESC, author DESC, author_device DESC LIMIT ?`,
          ).all(peer, b.id, b.author, b.authorDevice, limit)
    ) as MessageRow[];
    return rows.reverse().map((r) => this.toView(r));
  }

  /**
   * Every conversation, the latest first, with its last message, unread count and the peer's
   * contact state (a message request, accepted, blocked).
   */
  conversations(
    presence: readonly PresenceView[],
    contactOf: (peer: string) => ConversationView['contact'],
  ): ConversationView[] {
    const peers = this.sql(
      `SELECT peer, max(id) AS last,
              sum(direction = 'in' AND read = 0 AND body IS NOT NULL AND crypto IS NULL) AS unread
         FROM messages WHERE hidden = 0 AND NOT (crypto IS 'open' AND body IS NOT NULL)
        GROUP BY peer ORDER BY last DESC`,
    ).all() as { peer: string; unread: number }[];
    const byUser = new Map(presence.map((p) => [p.user, p]));
    return peers.map((p) => ({
      peer: p.peer,
      lastMessage: this.history(p.peer, { limit: 1 })[0] ?? null,
      unread: p.unread,
      presence: byUser.get(p.peer) ?? null,
      contact: contactOf(p.peer),
    }));
  }

  view(key: MessageKey): MessageView | null {
    const row = this.sql(
      `SELECT ${COLUMNS} FROM messages WHERE author = ? AND author_device = ? AND id = ?
         AND hidden = 0 AND NOT (crypto IS 'open' AND body IS NOT NULL)`,
    ).get(key.author, key.authorDevice, key.id) as MessageRow | undefined;
    // A received message whole but not opened yet (src/core/crypto) is ciphertext: it is
    // shown once opened. While it arrives, its progress shows as any message's.
    return row ? this.toView(row) : null;
  }

  private toView(r: MessageRow): MessageView {
    const complete = r.body !== null;
    const key = { author: r.author, authorDevice: r.author_device, id: r.id };
    const file = this.files.view(key, r.direction, r.body, r.segment_count, r.segment_size);
    const text =
      file === null && complete && r.body![0] === KIND_TEXT
        ? utf8.decode(r.body!.subarray(1))
        : null;
    const unreadable =
      complete && r.body![0] === KIND_UNREADABLE ? utf8.decode(r.body!.subarray(1)) : undefined;
    return {
      ...(unreadable !== undefined ? { unreadable } : {}),
      key: `${r.author}/${r.author_device}/${r.id}`,
      id: r.id,
      author: r.author,
      authorDevice: r.author_device,
      peer: r.peer,
      direction: r.direction,
      text,
      sentAt: sentAtOf(r.id),
      status: r.direction === 'in' ? (r.read ? 'read' : 'delivered') : r.status,
      error: !complete && r.error === 1,
      missing: !complete && r.error === 1 ? this.transport.missing(key, r.segment_count) : [],
      segmentCount: r.segment_count,
      received: complete ? r.segment_count : r.received,
      file,
    };
  }
}

/** A message key's parts, from its `author/device/id` form; null for anything else. */
export function parseKey(key: string): MessageKey | null {
  const m = /^(.+)\/(\d+)\/(\d+)$/.exec(key);
  return m ? { author: m[1]!, authorDevice: Number(m[2]), id: Number(m[3]) } : null;
}
