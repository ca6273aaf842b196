// Consent: whom this device takes messages and files from. A peer is `accepted` once we wrote
// to them (from any of our devices) or accepted them; someone who wrote first is a message
// `request` until then: their texts are kept and shown, but their files wait, and they get no
// read receipts and no presence watch. A `blocked` peer's new messages are dropped.
import type { ContactState } from '../shared/api.ts';
import { statementCache, type Db } from './store/database.ts';

export class ContactBook {
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly me: string;
  /** States asked for on every segment of an incoming file: kept until a change. */
  private readonly cache = new Map<string, ContactState>();

  constructor(db: Db, me: string) {
    this.sql = statementCache(db);
    this.me = me;
  }

  /** The peer's state: what the user set, else accepted if we ever wrote to them. */
  state(user: string): ContactState {
    if (user === this.me) return 'accepted';
    let state = this.cache.get(user);
    if (state !== undefined) return state;
    const row = this.sql('SELECT state FROM contacts WHERE user = ?').get(user) as
      { state: 'accepted' | 'blocked' } | undefined;
    if (row) state = row.state;
    else {
      const wrote = this.sql(
        "SELECT 1 FROM messages WHERE peer = ? AND direction = 'out' LIMIT 1",
      ).get(user);
      state = wrote ? 'accepted' : 'request';
    }
    if (this.cache.size >= 1024) this.cache.clear();
    this.cache.set(user, state);
    return state;
  }

  accepted(user: string): boolean {
    return this.state(user) === 'accepted';
  }

  blocked(user: string): boolean {
    return this.state(user) === 'blocked';
  }

  /** Accepts `user` (writing to them does too). True when that changed their state. */
  accept(user: string): boolean {
    return this.set(user, 'accepted');
  }

  block(user: string): boolean {
    return this.set(user, 'blocked');
  }

  /** Lifts a block: the peer is what they were without it (accepted if we wrote to them). */
  unblock(user: string): boolean {
    if (this.state(user) !== 'blocked') return false;
    this.sql("DELETE FROM contacts WHERE user = ? AND state = 'blocked'").run(user);
    this.cache.delete(user);
    return true;
  }

  /** The peers the user blocked, by name. */
  blockedList(): string[] {
    return (
      this.sql("SELECT user FROM contacts WHERE state = 'blocked' ORDER BY user").all() as {
        user: string;
      }[]
    ).map((r) => r.user);
  }

  private set(user: string, state: 'accepted' | 'blocked'): boolean {
    if (user === this.me || this.state(user) === state) return false;
    this.sql(
      `INSERT INTO contacts (user, state, at) VALUES (?, ?, ?)
       ON CONFLICT (user) DO UPDATE SET state = excluded.state, at = excluded.at`,
    ).run(user, state, Date.now());
    this.cache.set(user, state);
    return true;
  }
}
