// Frames the channel holds back (delay, jitter, reordering, rate limiting) wait here: one
// min-heap ordered by due time, then by arrival, checked by one timer. Equal due times keep
// their arrival order, so a plain delay never reorders frames.
import { TimeQueue } from '../../src/shared/time-queue.ts';

export class DelayLine<T> {
  private readonly queue = new TimeQueue<{ item: T; bytes: number }>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerDue = Infinity;
  private heldBytes = 0;
  private readonly deliver: (item: T) => void;
  private readonly now: () => number;

  constructor(deliver: (item: T) => void, now: () => number = () => performance.now()) {
    this.deliver = deliver;
    this.now = now;
  }

  get size(): number {
    return this.queue.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  schedule(item: T, delayMs: number, bytes: number): void {
    this.heldBytes += bytes;
    this.queue.push(this.now() + delayMs, { item, bytes });
    this.arm();
  }

  /** Removes and returns every held item in due order (used at shutdown to persist them). */
  drain(): T[] {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    const out: T[] = [];
    for (let e = this.queue.pop(); e; e = this.queue.pop()) out.push(e.item.item);
    this.heldBytes = 0;
    return out;
  }

  private arm(): void {
    const due = this.queue.peekTime();
    if (due === undefined || due >= this.timerDue) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.fire(), Math.max(0, due - this.now()));
  }

  private fire(): void {
    this.timer = null;
    this.timerDue = Infinity;
    const now = this.now();
    // Timers may fire a little early; treat anything due within a millisecond as due.
    while ((this.queue.peekTime() ?? Infinity) <= now + 1) {
      const { item, bytes } = this.queue.pop()!.item;
      this.heldBytes -= bytes;
      this.deliver(item);
    }
    this.arm();
  }
}
