// The presence this device follows. The relay tells a connection only of the users it
// watches: this device names its conversations' peers at every connect, and adds whoever it
// writes to or looks up. What the relay says is kept in the `peers` table, so that the last
// known presence survives a restart.
import type { PresenceView } from '../shared/api.ts';
import type { UserLookupView } from '../shared/contract.ts';
import {
  isValidUserName,
  MAX_WATCHED_USERS,
  MAX_WATCH_NAMES,
  type PresenceEntry,
  type PresenceFrame,
  type WatchKind,
} from '../shared/protocol/index.ts';
import type { RelayConnection } from './connection.ts';
import { MessengerError } from './errors.ts';
import { statementCache, type Db } from './store/database.ts';
import { transact } from '../node/transactions.ts';

/** How long lookup() waits for the relay's answer. */
export const LOOKUP_TIMEOUT_MS = 10_000;

export class LookupError extends Error {
  override name = 'LookupError';
}

export class PresenceBook {
  private readonly db: Db;
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly me: { user: string; device: number };
  private readonly conn: RelayConnection;
  /** Told of each user this device starts to follow (the account asks for their key). */
  private readonly onWatch: (user: string) => void;
  /** Whether a conversation's peer is followed (a message request's is not: consent.ts). */
  private readonly follows: (user: string) => boolean;
  /** The users named to the relay: conversations' peers, and anyone written to or looked up. */
  private readonly watched = new Set<string>();
  /** lookup() calls waiting for the relay's word on a name. */
  private readonly lookups = new Map<string, ((entry: PresenceEntry) => void)[]>();

  constructor(
    db: Db,
    me: { user: string; device: number },
    conn: RelayConnection,
    onWatch: (user: string) => void = () => {},
    follows: (user: string) => boolean = () => true,
  ) {
    this.db = db;
    this.sql = statementCache(db);
    this.me = me;
    this.conn = conn;
    this.onWatch = onWatch;
    this.follows = follows;
  }

  /** Connected: names every conversation's peer (newest first) and whoever else is watched. */
  connected(): void {
    const peers = this.sql(
      'SELECT peer FROM messages WHERE peer != ? GROUP BY peer ORDER BY max(id) DESC LIMIT ?',
    ).all(this.me.user, MAX_WATCHED_USERS) as { peer: string }[];
    const names = new Set(peers.map((p) => p.peer).filter((p) => this.follows(p)));
    for (const name of this.watched) names.add(name);
    const list = [...names].slice(0, MAX_WATCHED_USERS);
    for (const name of list) this.watched.add(name);
    for (let i = 0; i === 0 || i < list.length; i += MAX_WATCH_NAMES) {
      this.send(i === 0 ? 'set' : 'add', list.slice(i, i + MAX_WATCH_NAMES));
    }
  }

  /** Starts hearing of `user`'s presence, if this device does not already. */
  watch(user: string): void {
    if (user === this.me.user || this.watched.has(user)) return;
    this.watched.add(user);
    this.send('add', [user]);
    this.onWatch(user);
  }

  /** Stops hearing of `user` and forgets what was known of them. */
  forget(user: string): void {
    if (this.watched.delete(user)) this.send('remove', [user]);
    this.sql('DELETE FROM peers WHERE name = ?').run(user);
  }

  /**
   * Asks the relay about `user`: whether anyone of that name has ever connected to it, and
   * their presence. From then on this device hears of their presence too.
   */
  async lookup(user: string): Promise<UserLookupView> {
    if (!this.conn.isOnline) {
      throw new LookupError('not connected to the relay: a name cannot be looked up now');
    }
    const entry = await new Promise<PresenceEntry>((resolve, reject) => {
      const done = (e: PresenceEntry) => {
        clearTimeout(timer);
        resolve(e);
      };
      const timer = setTimeout(() => {
        const left = (this.lookups.get(user) ?? []).filter((w) => w !== done);
        if (left.length > 0) this.lookups.set(user, left);
        else this.lookups.delete(user);
        reject(new LookupError('the relay did not answer'));
      }, LOOKUP_TIMEOUT_MS);
      this.lookups.set(user, [...(this.lookups.get(user) ?? []), done]);
      this.watched.add(user);
      this.send('add', [user]);
    });
    return {
      user,
      exists: entry.lastSeen > 0,
      online: entry.online,
      lastSeen: entry.lastSeen > 0 ? entry.lastSeen : null,
    };
  }

  /**
   * A presence frame from the relay: answers lookups, keeps what it says of users who exist,
   * and returns those entries (the caller tells the transport and the UI).
   */
  onFrame(frame: PresenceFrame): PresenceEntry[] {
    for (const e of frame.entries) {
      const waiters = this.lookups.get(e.user);
      this.lookups.delete(e.user);
      for (const w of waiters ?? []) w(e);
    }
    // A name nobody has used yet has no presence to keep.
    const known = frame.entries.filter((e) => e.lastSeen > 0 && e.user !== this.me.user);
    const upsert = this.sql(
      `INSERT INTO peers (name, online, devices, last_seen) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET online = excluded.online, devices = excluded.devices,
         last_seen = excluded.last_seen`,
    );
    transact(this.db, () => {
      for (const e of known) upsert.run(e.user, e.online ? 1 : 0, e.devices, e.lastSeen);
    });
    return known;
  }

  /** The last known presence of every user this device has heard of. */
  list(): PresenceView[] {
    return (
      this.sql(
        'SELECT name, online, devices, last_seen AS lastSeen FROM peers ORDER BY name',
      ).all() as { name: string; online: number; devices: number; lastSeen: number }[]
    ).map((r) => ({
      user: r.name,
      online: r.online === 1,
      devices: r.devices,
      lastSeen: r.lastSeen,
    }));
  }

  private send(kind: WatchKind, users: string[]): void {
    const { user, device } = this.me;
    this.conn.send({
      type: 'watch',
      from: user,
      fromDevice: device,
      to: '',
      toDevice: 0,
      kind,
      users,
    });
  }
}

/**
 * Asks the relay about `user`: whether the name has an account there, and their presence
 * (shown only to those who share a conversation with them, or follow each other; a stranger
 * shows as a name nobody has, so the account itself is asked about then).
 */
export async function lookupUser(
  user: string,
  peers: PresenceBook,
  hasAccount: (user: string) => Promise<boolean>,
): Promise<UserLookupView> {
  if (!isValidUserName(user)) throw new MessengerError(`"${user}" is not a valid user name`);
  try {
    const seen = await peers.lookup(user);
    if (seen.exists) return seen;
    return { ...seen, exists: await hasAccount(user) };
  } catch (e) {
    if (e instanceof LookupError) throw new MessengerError(e.message);
    throw e;
  }
}
