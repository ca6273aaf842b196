// The user's word on a peer (contacts.ts keeps it) and what follows from it: accepting a
// message request starts its waiting files, follows its presence and sends the read receipts
// held back; blocking refuses their files in flight and stops following them; writing to
// someone accepts them.
import type { ContactState } from '../shared/api.ts';
import { isValidUserName } from '../shared/protocol/index.ts';
import type { ContactBook } from './contacts.ts';
import { MessengerError } from './errors.ts';
import { FileError, type FileTransfers } from './files/transfers.ts';
import type { PresenceBook } from './presence.ts';
import { statementCache, type Db } from './store/database.ts';
import type { MessageKey } from './transport/context.ts';

export type ContactAction = 'accept' | 'block' | 'unblock';

export interface ConsentParts {
  contacts: ContactBook;
  files: FileTransfers;
  peers: PresenceBook;
  /** Sends `read` receipts for messages of `peer`'s device. */
  sendReceipt: (peer: string, device: number, ids: number[]) => void;
  /** Their conversation's view changed (its banner, its files). */
  changed: (peer: string) => void;
}

export class Consent {
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly parts: ConsentParts;

  constructor(db: Db, parts: ConsentParts) {
    this.sql = statementCache(db);
    this.parts = parts;
  }

  /**
   * Marks everything received from `peer` as read; tells them, unless they are a request (they
   * hear when accepted). Returns how many messages became read.
   */
  markRead(peer: string): number {
    const rows = this.sql(
      `UPDATE messages SET read = 1 WHERE peer = ? AND direction = 'in' AND read = 0
         AND body IS NOT NULL AND crypto IS NULL RETURNING author_device AS device, id`,
    ).all(peer) as { device: number; id: number }[];
    if (this.follows(peer)) this.sendReadReceipts(peer, rows);
    return rows.length;
  }

  /** The user clicks Download on a file that waits (files' own checks apply). */
  download(key: MessageKey | null, text: string): void {
    if (key === null) throw new MessengerError(`"${text}" is not a message key`);
    try {
      this.parts.files.download(key);
    } catch (e) {
      throw e instanceof FileError ? new MessengerError(e.message) : e;
    }
  }

  /** Accepts, blocks or unblocks `peer`; returns their state after it. */
  apply(peer: string, action: ContactAction): ContactState {
    if (!isValidUserName(peer)) throw new MessengerError(`"${peer}" is not a valid user name`);
    const { contacts, files, peers } = this.parts;
    if (action === 'accept') {
      if (contacts.blocked(peer)) {
        throw new MessengerError(`${peer} is blocked: unblock them first`);
      }
      this.accepted(peer);
    } else if (action === 'block') {
      if (contacts.block(peer)) {
        files.refuseFrom(peer);
        peers.forget(peer);
        this.parts.changed(peer);
      }
    } else if (contacts.unblock(peer)) {
      if (contacts.accepted(peer)) peers.watch(peer);
      this.parts.changed(peer);
    }
    return contacts.state(peer);
  }

  /** We wrote to `peer` (here or from another of our devices): they are accepted. */
  wroteTo(peer: string): void {
    const { contacts } = this.parts;
    // A blocked peer stays blocked: unblocking is the user's own act.
    if (contacts.state(peer) === 'request') this.accepted(peer);
  }

  /** Whether this device may show `peer` it is here: presence, typing, read receipts. */
  follows(peer: string): boolean {
    return this.parts.contacts.accepted(peer);
  }

  private accepted(peer: string): void {
    const { contacts, files, peers } = this.parts;
    if (!contacts.accept(peer)) return;
    files.accepted(peer);
    peers.watch(peer);
    // What the user read of theirs while they were a request.
    const read = this.sql(
      `SELECT author_device AS device, id FROM messages WHERE peer = ? AND direction = 'in'
         AND read = 1`,
    ).all(peer) as { device: number; id: number }[];
    this.sendReadReceipts(peer, read);
    this.parts.changed(peer);
  }

  private sendReadReceipts(peer: string, rows: { device: number; id: number }[]): void {
    const byDevice = new Map<number, number[]>();
    for (const r of rows) byDevice.set(r.device, [...(byDevice.get(r.device) ?? []), r.id]);
    for (const [device, ids] of byDevice) this.parts.sendReceipt(peer, device, ids);
  }
}
