// Message ids are hybrid logical clock timestamps (Kulkarni et al., 2014) packed in one
// number: the physical time in milliseconds times 1024, plus a logical counter. They are
// derived from the send time (docs/protocol.md), unique per device, and causal: a message
// sent after one was received always has a larger id, even when the two machines' clocks
// disagree by up to MAX_CLOCK_OFFSET_MS. Sorting by id therefore gives send order.
//
// A received id is a peer's word, so what it may do to our clock is bounded (as CockroachDB's
// max offset bounds its clocks): it moves our ids to at most MAX_CLOCK_OFFSET_MS past our
// own physical time. A peer whose clock is years ahead, or which sends an id near 2^53, can
// therefore neither push our send times years ahead nor make our next id unencodable; its
// message is still stored and shown, and our replies to it sort by our own clock.

/** Ids per millisecond before the clock runs ahead of physical time. */
export const LOGICAL_PER_MS = 1024;

/**
 * How far ahead of our physical time a received id may move our clock: wide enough for
 * desktop clocks that drifted for months without NTP, narrow enough that a peer cannot move
 * the send time shown on our messages by more.
 */
export const MAX_CLOCK_OFFSET_MS = 5 * 60_000;

export class MessageClock {
  private last: number;

  constructor(last = 0) {
    this.last = last;
  }

  /**
   * The clock after a restart: past every id this device has issued (`ours`, which ids must
   * never repeat), and past the saved value as far as the max offset allows at `nowMs` (a
   * value saved by an older version may carry a peer's id from far ahead).
   */
  static restore(saved: number, ours: number, nowMs: number): MessageClock {
    return new MessageClock(Math.max(Math.min(saved, latestAcceptable(nowMs)), ours));
  }

  /** The id for a message sent at physical time `nowMs`. */
  next(nowMs: number): number {
    this.last = Math.max(Math.floor(nowMs) * LOGICAL_PER_MS, this.last + 1);
    return this.last;
  }

  /**
   * Takes a received message's id into account at physical time `nowMs`, so that replies sort
   * after it; an id beyond the max offset moves the clock only as far as the offset.
   */
  observe(remoteId: number, nowMs: number): void {
    if (!Number.isSafeInteger(remoteId)) return;
    const bounded = Math.min(remoteId, latestAcceptable(nowMs));
    if (bounded > this.last) this.last = bounded;
  }

  /** The latest id issued or observed (persist it to keep ids unique across restarts). */
  get current(): number {
    return this.last;
  }
}

/**
 * The largest id a received message may move the clock to at physical time `nowMs`: the next
 * id then carries a send time at most MAX_CLOCK_OFFSET_MS ahead.
 */
function latestAcceptable(nowMs: number): number {
  return (Math.floor(nowMs) + MAX_CLOCK_OFFSET_MS) * LOGICAL_PER_MS - 1;
}

/** The send time, in epoch milliseconds, that an id carries. */
export function sentAtOf(id: number): number {
  return Math.floor(id / LOGICAL_PER_MS);
}
