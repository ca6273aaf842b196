// Frames the channel holds back (delay, jitter, reordering, rate limiting) wait here: one
// min-heap ordered by due time, then by arrival, checked by one timer. Equal due times keep
// their arrival order, so a plain delay never reorders frames.

interface Entry<T> {
  due: number;
  seq: number;
  item: T;
  bytes: number;
}

export class DelayLine<T> {
  private readonly heap: Entry<T>[] = [];
  private seq = 0;
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
    return this.heap.length;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  schedule(item: T, delayMs: number, bytes: number): void {
    const entry = { due: this.now() + delayMs, seq: this.seq++, item, bytes };
    this.heldBytes += bytes;
    this.push(entry);
    this.arm();
  }

  /** Removes and returns every held item in due order (used at shutdown to persist them). */
  drain(): T[] {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    const out: T[] = [];
    while (this.heap.length > 0) out.push(this.pop().item);
    this.heldBytes = 0;
    return out;
  }

  private arm(): void {
    const head = this.heap[0];
    if (!head || head.due >= this.timerDue) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = head.due;
    this.timer = setTimeout(() => this.fire(), Math.max(0, head.due - this.now()));
  }

  private fire(): void {
    this.timer = null;
    this.timerDue = Infinity;
    const now = this.now();
    // Timers may fire a little early; treat anything due within a millisecond as due.
    while (this.heap.length > 0 && this.heap[0]!.due <= now + 1) {
      const entry = this.pop();
      this.heldBytes -= entry.bytes;
      this.deliver(entry.item);
    }
    this.arm();
  }

  private less(a: Entry<T>, b: Entry<T>): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(entry: Entry<T>): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Entry<T> {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
