// What the relay's store holds, counted by a key (a recipient, a sender): frames and bytes,
// kept in memory beside SQLite so that a quota check costs no query.

export interface Usage {
  frames: number;
  bytes: number;
}

export class Ledger {
  private readonly byKey = new Map<string, Usage>();

  /** What `key` holds now (nothing: zeros). */
  get(key: string): Usage {
    return this.byKey.get(key) ?? { frames: 0, bytes: 0 };
  }

  /** Adds (or, negative, takes away) frames and bytes; a key left with nothing is forgotten. */
  add(key: string, frames: number, bytes: number): void {
    const u = this.byKey.get(key) ?? { frames: 0, bytes: 0 };
    u.frames += frames;
    u.bytes += bytes;
    if (u.frames === 0 && u.bytes === 0) this.byKey.delete(key);
    else this.byKey.set(key, u);
  }

  /** Whether `key` may hold `frames` and `bytes` more (with `pending` not yet counted). */
  fits(
    key: string,
    frames: number,
    bytes: number,
    max: { frames: number; bytes: number },
    pending?: Ledger,
  ): boolean {
    const u = this.get(key);
    const p = pending?.get(key) ?? { frames: 0, bytes: 0 };
    return u.frames + p.frames + frames <= max.frames && u.bytes + p.bytes + bytes <= max.bytes;
  }

  /** Adds everything `other` counts. */
  merge(other: Ledger): void {
    for (const [key, u] of other.byKey) this.add(key, u.frames, u.bytes);
  }
}
