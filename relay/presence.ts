// Presence: which users exist on this relay, which are online, and who hears of it.
import { MAX_PRESENCE_ENTRIES, type PresenceEntry } from '../src/shared/protocol/index.ts';
import type { Router } from './routing.ts';
import { fromRelay } from './routing.ts';
import type { Session } from './session.ts';
import type { RelayStore } from './store.ts';

export class Presence {
  private readonly store: RelayStore;
  private readonly router: Router;
  /** Runs bookkeeping that may fail on a sick disk without failing the caller. */
  private readonly safely: (what: string, fn: () => void) => void;
  private readonly known = new Set<string>();

  constructor(store: RelayStore, router: Router, safely: (what: string, fn: () => void) => void) {
    this.store = store;
    this.router = router;
    this.safely = safely;
    for (const u of store.users()) this.known.add(u.name);
  }

  /** Whether `user` has ever connected to this relay. */
  knows(user: string): boolean {
    return this.known.has(user);
  }

  /** A device of `s.user` said hello: remember the user and tell everyone. */
  connected(s: Session, now: number): void {
    this.known.add(s.user);
    this.safely('remembering the user', () => this.store.rememberUser(s.user, now));
    this.sendSnapshot(s);
    this.broadcast(s.user, now);
  }

  /** A device of `user` left; `gone` when it was the last one. */
  disconnected(user: string, gone: boolean, now: number): void {
    if (gone) this.safely('recording last seen', () => this.store.touchUser(user, now));
    this.broadcast(user, now);
  }

  /** The relay is closing: every user online was last seen now. */
  close(now: number): void {
    this.safely('recording last seen', () => {
      for (const user of this.router.byUser.keys()) this.store.touchUser(user, now);
    });
  }

  private entryOf(user: string, lastSeen: number): PresenceEntry {
    const devices = this.router.byUser.get(user)?.size ?? 0;
    return { user, online: devices > 0, devices, lastSeen };
  }

  private sendSnapshot(s: Session): void {
    const entries = this.store.users().map((u) => this.entryOf(u.name, u.lastSeen));
    for (let i = 0; i === 0 || i < entries.length; i += MAX_PRESENCE_ENTRIES) {
      this.router.sendControl(s, {
        type: 'presence',
        ...fromRelay(s),
        kind: 'snapshot',
        entries: entries.slice(i, i + MAX_PRESENCE_ENTRIES),
      });
    }
  }

  private broadcast(user: string, now: number): void {
    const entry = this.entryOf(user, now);
    for (const s of this.router.sessions) {
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
