// Message ids are hybrid logical clock timestamps (Kulkarni et al., 2014) packed in one
// number: the physical time in milliseconds times 1024, plus a logical counter. They are
// derived from the send time (docs/protocol.md), unique per device, and causal: a message
// sent after one was received always has a larger id, even when the two machines' clocks
// disagree. Sorting by id therefore gives send order.

/** Ids per millisecond before the clock runs ahead of physical time. */
export const LOGICAL_PER_MS = 1024;

export class MessageClock {
  private last: number;

  constructor(last = 0) {
    this.last = last;
  }

  /** The id for a message sent at physical time `nowMs`. */
  next(nowMs: number): number {
    this.last = Math.max(Math.floor(nowMs) * LOGICAL_PER_MS, this.last + 1);
    return this.last;
  }

  /** Takes a received message's id into account, so that replies sort after it. */
  observe(remoteId: number): void {
    if (Number.isSafeInteger(remoteId) && remoteId > this.last) this.last = remoteId;
  }

  /** The latest id issued or observed (persist it to keep ids unique across restarts). */
  get current(): number {
    return this.last;
  }
}

/** The send time, in epoch milliseconds, that an id carries. */
export function sentAtOf(id: number): number {
  return Math.floor(id / LOGICAL_PER_MS);
}
