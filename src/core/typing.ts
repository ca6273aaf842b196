// Typing indicators both ways: ours go to the peer's devices as they change; theirs show
// until they say they stopped, a message from them arrives, or TYPING_TTL_MS passes without
// a refresh (a peer that vanished mid-word does not type forever).
import type { MessengerEvent } from '../shared/api.ts';
import { isValidUserName } from '../shared/protocol/index.ts';

/** A typing indicator clears by itself after this long without a refresh. */
export const TYPING_TTL_MS = 6000;

export class TypingBook {
  /** Sends our state to `peer`'s devices (sealed end to end: crypto/controls.ts). */
  private readonly send: (peer: string, typing: boolean) => void;
  private readonly emit: (e: MessengerEvent) => void;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Peers we last told we are typing. */
  private readonly told = new Set<string>();
  /** Whether the user blocked `user`: their typing is not shown. */
  private readonly blocked: (user: string) => boolean;

  constructor(
    send: (peer: string, typing: boolean) => void,
    emit: (e: MessengerEvent) => void,
    blocked: (user: string) => boolean = () => false,
  ) {
    this.send = send;
    this.emit = emit;
    this.blocked = blocked;
  }

  /** Tells `peer`'s devices whether we are typing to them. */
  set(peer: string, typing: boolean): void {
    if (!isValidUserName(peer)) return;
    // "Stopped" goes only to whom we said we were typing (a message sent ends typing, and
    // each indicator costs a sealing).
    if (typing) this.told.add(peer);
    else if (!this.told.delete(peer)) return;
    this.send(peer, typing);
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
