// Events that may change a thousand times a second, sent at most every `periodMs` per key:
// at once on the first change, then while changes keep coming, and once more with the last.

export class KeyedThrottle {
  private readonly timers = new Map<
    string,
    { timer: ReturnType<typeof setTimeout>; dirty: boolean }
  >();
  private readonly periodMs: number;
  private readonly fire: (key: string) => void;
  private stopped = false;

  constructor(periodMs: number, fire: (key: string) => void) {
    this.periodMs = periodMs;
    this.fire = fire;
  }

  changed(key: string): void {
    const pending = this.timers.get(key);
    if (pending) {
      pending.dirty = true;
      return;
    }
    this.fire(key);
    const tick = () => {
      const entry = this.timers.get(key)!;
      if (!entry.dirty || this.stopped) {
        this.timers.delete(key);
        return;
      }
      entry.dirty = false;
      this.fire(key);
      entry.timer = setTimeout(tick, this.periodMs);
    };
    this.timers.set(key, { timer: setTimeout(tick, this.periodMs), dirty: false });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
  }
}
