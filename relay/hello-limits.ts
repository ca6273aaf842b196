// Failed hellos per source address, in a sliding window: past the limit, the address's
// hellos are refused before any signature is checked (online guessing of a link code or a
// key must be hopeless, and must not cost the relay a verification each). The abuse limits
// (relay/limits.ts, when it lands) may take this over: AddressFailures is the one seam.

/** Addresses remembered before the old ones are swept. */
const MAX_ADDRESSES = 10_000;

export class AddressFailures {
  private readonly max: number;
  private readonly windowMs: number;
  private readonly failures = new Map<string, number[]>();

  constructor(max: number, windowMs: number) {
    this.max = max;
    this.windowMs = windowMs;
  }

  /** Whether `address` may try again now. */
  allows(address: string, now: number): boolean {
    return this.recent(address, now).length < this.max;
  }

  failed(address: string, now: number): void {
    // Many addresses (IPv6 makes that cheap) must not grow the map without end.
    if (this.failures.size >= MAX_ADDRESSES) this.prune(now);
    const list = this.recent(address, now);
    list.push(now);
    this.failures.set(address, list);
  }

  /** Forgets every address with no failure in the window. */
  private prune(now: number): void {
    for (const address of [...this.failures.keys()]) this.recent(address, now);
  }

  private recent(address: string, now: number): number[] {
    const list = this.failures.get(address);
    if (!list) return [];
    const kept = list.filter((t) => now - t < this.windowMs);
    if (kept.length === 0) this.failures.delete(address);
    else this.failures.set(address, kept);
    return kept;
  }
}

/** The address part of a session's `address:port`. */
export function addressOf(remote: string): string {
  const i = remote.lastIndexOf(':');
  return i > 0 ? remote.slice(0, i) : remote;
}
