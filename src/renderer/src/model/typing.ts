// Tells the peer that the user is typing without flooding the relay: one "typing" at the
// start and then at most one refresh per THROTTLE_MS while keys keep coming (the receiver's
// indicator expires on its own after a few seconds), and "stopped" after IDLE_MS without a
// key, or at once when the message is sent, the field loses focus or the chat changes.

export const TYPING_THROTTLE_MS = 3000;
export const TYPING_IDLE_MS = 4000;

export interface TypingClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: TypingClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
};

export class TypingNotifier {
  private readonly notify: (typing: boolean) => void;
  private readonly clock: TypingClock;
  private lastSent = Number.NEGATIVE_INFINITY;
  private active = false;
  private idleTimer: unknown = null;

  constructor(notify: (typing: boolean) => void, clock: TypingClock = realClock) {
    this.notify = notify;
    this.clock = clock;
  }

  /** The user changed the text. */
  input(): void {
    const now = this.clock.now();
    if (!this.active || now - this.lastSent >= TYPING_THROTTLE_MS) {
      this.active = true;
      this.lastSent = now;
      this.notify(true);
    }
    if (this.idleTimer !== null) this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = this.clock.setTimeout(() => this.stop(), TYPING_IDLE_MS);
  }

  /** Sent, emptied, blurred, idle or left: the peer's indicator should go now. */
  stop(): void {
    if (this.idleTimer !== null) this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (!this.active) return;
    this.active = false;
    this.lastSent = Number.NEGATIVE_INFINITY;
    this.notify(false);
  }
}
