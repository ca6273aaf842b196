// Presence: which users exist on this relay, which are online, and who hears of it. A
// connection hears only of the users it watches (its conversations' peers, the contacts its
// user asked for): it names them in watch frames, gets a snapshot of those names, then an
// update whenever one of them comes or goes. Nobody is told of users they do not watch, and a
// connect costs the relay the connecting user's watchers, never the number of users.
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

  constructor(store: RelayStore, router: Router, safely: (what: string, fn: () => void) => void) {
    this.store = store;
    this.router = router;
    this.safely = safely;
    for (const u of store.users()) this.lastSeen.set(u.name, u.lastSeen);
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
      list.add(user);
      let set = this.watchers.get(user);
      if (!set) this.watchers.set(user, (set = new Set()));
      set.add(s);
    }
    this.watching.set(s, list);
    const entries = [...names].map((user) => this.entryOf(user));
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

  /** A user's presence; a user who never connected has lastSeen 0. */
  private entryOf(user: string): PresenceEntry {
    const devices = this.router.byUser.get(user)?.size ?? 0;
    return { user, online: devices > 0, devices, lastSeen: this.lastSeen.get(user) ?? 0 };
  }

  /** Tells the watchers of `user` its presence now. */
  private notify(user: string): void {
    const set = this.watchers.get(user);
    if (!set) return;
    const entry = this.entryOf(user);
    for (const s of set) {
      if (s.state !== 'open') continue;
      this.router.sendControl(s, {
        type: 'presence',
        ...fromRelay(s),
        kind: 'update',
        entries: [entry],
      });
    }
  }
}
