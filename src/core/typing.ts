// Typing indicators both ways: ours go to the peer's devices as they change; theirs show
// until they say they stopped, a message from them arrives, or TYPING_TTL_MS passes without
// a refresh (a peer that vanished mid-word does not type forever).
import type { MessengerEvent } from '../shared/api.ts';
import { isValidUserName } from '../shared/protocol/index.ts';
import type { RelayConnection } from './connection.ts';

/** A typing indicator clears by itself after this long without a refresh. */
export const TYPING_TTL_MS = 6000;

export class TypingBook {
  private readonly conn: RelayConnection;
  private readonly me: { user: string; device: number };
  private readonly emit: (e: MessengerEvent) => void;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Whether the user blocked `user`: their typing is not shown. */
  private readonly blocked: (user: string) => boolean;

  constructor(
    conn: RelayConnection,
    me: { user: string; device: number },
    emit: (e: MessengerEvent) => void,
    blocked: (user: string) => boolean = () => false,
  ) {
    this.conn = conn;
    this.me = me;
    this.emit = emit;
    this.blocked = blocked;
  }

  /** Tells `peer`'s devices whether we are typing to them. */
  set(peer: string, typing: boolean): void {
    if (!isValidUserName(peer)) return;
    this.conn.send({
      type: 'typing',
      from: this.me.user,
      fromDevice: this.me.device,
      to: peer,
      toDevice: 0,
      typing,
    });
  }

  /** `user` is typing to us, or stopped. */
  heard(user: string, typing: boolean): void {
    if (typing && this.blocked(user)) return;
    const old = this.timers.get(user);
    if (old) clearTimeout(old);
    this.timers.delete(user);
    if (typing) {
      this.timers.set(
        user,
        setTimeout(() => this.heard(user, false), TYPING_TTL_MS),
      );
    }
    this.emit({ type: 'typing', user, typing });
  }

  /** A message from `user` arrived: they are done typing it. */
  messageFrom(user: string): void {
    if (this.timers.has(user)) this.heard(user, false);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
