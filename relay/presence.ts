// Presence: which users exist on this relay, which are online, and who hears of it. A
// connection hears only of the users it watches (its conversations' peers, the contacts its
// user asked for): it names them in watch frames, gets a snapshot of those names, then an
// update whenever one of them comes or goes. Nobody is told of users they do not watch, and a
// connect costs the relay the connecting user's watchers, never the number of users.
// A watcher hears the truth only about users it shares a conversation with (a data frame has
// passed between them, either way) or who watch it back; of anyone else it hears the
// "unknown" entry, the same as for a name that does not exist, and no updates: the relay is
// no directory of who is online.
import {
  MAX_PRESENCE_ENTRIES,
  MAX_WATCHED_USERS,
  type PresenceEntry,
  type WatchFrame,
} from '../src/shared/protocol/index.ts';
import type { Router } from './routing.ts';
import { fromRelay } from './routing.ts';
import type { Session } from './session.ts';
import type { RelayStore } from './store.ts';

export class Presence {
  private readonly store: RelayStore;
  private readonly router: Router;
  /** Runs bookkeeping that may fail on a sick disk without failing the caller. */
  private readonly safely: (what: string, fn: () => void) => void;
  /** Every user who ever connected, with when they were last seen. */
  private readonly lastSeen = new Map<string, number>();
  /** Who watches each user. */
  private readonly watchers = new Map<string, Set<Session>>();
  /** Whom each connection watches. */
  private readonly watching = new Map<Session, Set<string>>();
  /** Pairs of users who exchanged a data frame (pairKey), kept in the store as well. */
  private readonly peers = new Set<string>();

  constructor(store: RelayStore, router: Router, safely: (what: string, fn: () => void) => void) {
    this.store = store;
    this.router = router;
    this.safely = safely;
    for (const u of store.users()) this.lastSeen.set(u.name, u.lastSeen);
    for (const p of store.accounts.peers()) this.peers.add(pairKey(p.a, p.b));
  }

  /** Connections that watch `user`. */
  watchersOf(user: string): ReadonlySet<Session> {
    return this.watchers.get(user) ?? new Set();
  }

  /**
   * Whoever should hear of a change to `user`'s account (a new identity, devices added or
   * removed): the connections that watch them, and those of everyone who has exchanged a
   * message with them (a message request's recipient watches no presence, yet must see its
   * sender's identity change). A scan of the pairs: account changes are rare.
   */
  audienceOf(user: string): Set<Session> {
    const out = new Set(this.watchersOf(user));
    for (const key of this.peers) {
      const [a, b] = key.split('\0') as [string, string];
      const other = a === user ? b : b === user ? a : null;
      if (other === null) continue;
      for (const s of this.router.byUser.get(other) ?? []) out.add(s);
    }
    return out;
  }

  /**
   * A data frame passed from `a` to `b`: from now on each may see the other's presence.
   * O(1) for a pair already known, which is every frame but a conversation's first.
   */
  exchanged(a: string, b: string): void {
    if (!this.pair(a, b)) return;
    // Whoever of them watches the other hears the truth now.
    this.notify(a);
    this.notify(b);
  }

  /** Remembers that `a` and `b` may see each other; false if they already could. */
  private pair(a: string, b: string): boolean {
    const key = pairKey(a, b);
    if (a === b || this.peers.has(key)) return false;
    this.peers.add(key);
    this.safely('remembering a conversation', () => this.store.accounts.addPeers(a, b));
    return true;
  }

  /** Whether `viewer` may see `user`'s presence. */
  private visible(viewer: string, user: string): boolean {
    if (viewer === user || this.peers.has(pairKey(viewer, user))) return true;
    // Mutual contacts: a device of `user` watches `viewer` (who asks because it watches `user`).
    for (const w of this.watchers.get(viewer) ?? []) if (w.user === user) return true;
    return false;
  }

  /** Whether `user` has ever connected to this relay. */
  knows(user: string): boolean {
    return this.lastSeen.has(user);
  }

  /** How many users one connection watches (for tests and metrics). */
  watchedBy(s: Session): number {
    return this.watching.get(s)?.size ?? 0;
  }

  /** A device of `s.user` said hello: remember the user and tell its watchers. */
  connected(s: Session, now: number): void {
    this.lastSeen.set(s.user, now);
    this.safely('remembering the user', () => this.store.rememberUser(s.user, now));
    this.notify(s.user);
  }

  /** A device of `user` left; `gone` when it was the last one. */
  disconnected(user: string, gone: boolean, now: number): void {
    this.lastSeen.set(user, now);
    if (gone) this.safely('recording last seen', () => this.store.touchUser(user, now));
    this.notify(user);
  }

  /** A connection closed (open or not): it watches nobody any more. */
  closed(s: Session): void {
    const list = this.watching.get(s);
    if (!list) return;
    for (const user of list) this.unwatch(s, user);
    this.watching.delete(s);
  }

  /**
   * Applies a watch frame. Answers `set` and `add` with a snapshot of the names it carried;
   * returns false (nothing applied) when the list would grow past MAX_WATCHED_USERS.
   */
  watch(s: Session, frame: WatchFrame): boolean {
    const list = this.watching.get(s) ?? new Set<string>();
    const names = new Set(frame.users);
    if (frame.kind === 'remove') {
      for (const user of names) if (list.delete(user)) this.unwatch(s, user);
      return true;
    }
    let size = frame.kind === 'set' ? names.size : list.size;
    if (frame.kind === 'add') for (const user of names) if (!list.has(user)) size++;
    if (size > MAX_WATCHED_USERS) return false;
    if (frame.kind === 'set') {
      for (const user of list) if (!names.has(user)) this.unwatch(s, user);
      for (const user of [...list]) if (!names.has(user)) list.delete(user);
    }
    for (const user of names) {
      const mutual = !list.has(user);
      list.add(user);
      let set = this.watchers.get(user);
      if (!set) this.watchers.set(user, (set = new Set()));
      set.add(s);
      // Two users who watch each other are contacts: from now on each sees the other, as
      // after a conversation (and still after either goes offline). The one who watched
      // first could not see s.user until now: it hears now.
      if (mutual)
        for (const w of this.watchers.get(s.user) ?? []) {
          if (w.user !== user) continue;
          this.pair(s.user, user);
          this.tell(w, s.user);
        }
    }
    this.watching.set(s, list);
    const entries = [...names].map((user) => this.entryFor(s.user, user));
    for (let i = 0; i === 0 || i < entries.length; i += MAX_PRESENCE_ENTRIES) {
      this.router.sendControl(s, {
        type: 'presence',
        ...fromRelay(s),
        kind: 'snapshot',
        entries: entries.slice(i, i + MAX_PRESENCE_ENTRIES),
      });
    }
    return true;
  }

  /** The relay is closing: every user online was last seen now. */
  close(now: number): void {
    this.safely('recording last seen', () => {
      for (const user of this.router.byUser.keys()) this.store.touchUser(user, now);
    });
  }

  private unwatch(s: Session, user: string): void {
    const set = this.watchers.get(user);
    if (!set) return;
    set.delete(s);
    if (set.size === 0) this.watchers.delete(user);
  }

  /**
   * `user`'s presence as `viewer` may see it; a user who never connected, or whom the viewer
   * may not see, has lastSeen 0.
   */
  private entryFor(viewer: string, user: string): PresenceEntry {
    if (!this.visible(viewer, user)) return { user, online: false, devices: 0, lastSeen: 0 };
    const devices = this.router.byUser.get(user)?.size ?? 0;
    return { user, online: devices > 0, devices, lastSeen: this.lastSeen.get(user) ?? 0 };
  }

  /** Tells the watchers of `user` who may see it its presence now. */
  private notify(user: string): void {
    for (const s of this.watchers.get(user) ?? []) this.tell(s, user);
  }

  private tell(s: Session, user: string): void {
    if (s.state !== 'open' || !this.visible(s.user, user)) return;
    this.router.sendControl(s, {
      type: 'presence',
      ...fromRelay(s),
      kind: 'update',
      entries: [this.entryFor(s.user, user)],
    });
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\0${b}` : `${b}\0${a}`;
}
