// A map that forgets its least recently used entries once their total size passes a bound:
// image previews are kept this way, so that a history of large photos holds a few, not all.

export class SizedCache<V> {
  private readonly entries = new Map<string, V>();
  private total = 0;
  private readonly maxSize: number;
  private readonly sizeOf: (value: V) => number;

  constructor(maxSize: number, sizeOf: (value: V) => number) {
    this.maxSize = maxSize;
    this.sizeOf = sizeOf;
  }

  get size(): number {
    return this.total;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The value, now the most recently used; undefined when absent. */
  get(key: string): V | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key)!;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Stores a value; older entries go until the total fits (the newest always stays). */
  set(key: string, value: V): void {
    if (this.entries.has(key)) this.total -= this.sizeOf(this.entries.get(key)!);
    this.entries.delete(key);
    this.entries.set(key, value);
    this.total += this.sizeOf(value);
    for (const [k, v] of this.entries) {
      if (this.total <= this.maxSize || k === key) break;
      this.entries.delete(k);
      this.total -= this.sizeOf(v);
    }
  }
}
