// Slows down guessing of the admin token. Each failed attempt from a source address is
// answered after a delay that doubles with that address's recent failures (up to a cap), and
// while an address already has its share of answers waiting, its further attempts are refused
// at once with 429, before their token is even looked at: a guesser gets a few answers per
// ten seconds whatever its concurrency. The relay keeps a bounded number of timers and
// addresses, so the guard itself cannot be used to fill its memory.
import type { Metrics } from './metrics.ts';

export interface AdminGuardLimits {
  /** The delay before the first failure's answer; each further failure doubles it... */
  firstDelayMs: number;
  /** ...up to this. */
  maxDelayMs: number;
  /** Failed attempts of one address waiting for their answer at once. */
  pendingPerAddress: number;
  /** Failed attempts waiting at once, all addresses together. */
  pendingTotal: number;
  /** Addresses remembered; the one failed longest ago is forgotten first. */
  addresses: number;
  /** An address without a failure for this long starts from the first delay again. */
  forgetAfterMs: number;
}

export const ADMIN_GUARD_LIMITS: AdminGuardLimits = {
  firstDelayMs: 100,
  maxDelayMs: 10_000,
  pendingPerAddress: 4,
  pendingTotal: 256,
  addresses: 4096,
  forgetAfterMs: 15 * 60_000,
};

interface Record {
  failures: number;
  lastFailureAt: number;
  pending: number;
}

interface Waiting {
  timer: ReturnType<typeof setTimeout>;
  answer: () => void;
}

export class AdminGuard {
  private readonly records = new Map<string, Record>();
  private readonly waiting = new Set<Waiting>();
  private readonly countFailure: () => void;
  private readonly countRefused: () => void;
  private closed = false;

  readonly limits: AdminGuardLimits;
  private readonly now: () => number;

  constructor(
    metrics: Metrics,
    limits: AdminGuardLimits = ADMIN_GUARD_LIMITS,
    now: () => number = Date.now,
  ) {
    this.limits = limits;
    this.now = now;
    this.countFailure = metrics.counter(
      'admin_auth_failures',
      'Admin API requests with a missing or wrong token (each answered after a growing delay).',
    );
    this.countRefused = metrics.counter(
      'admin_auth_throttled',
      'Admin API requests refused unchecked (429) while earlier failures of the address waited.',
    );
  }

  /**
   * Whether a request from `address` may have its token checked now. False (counted) when
   * failures of the address, or of everyone, already wait for their answers: answer 429.
   */
  mayTry(address: string): boolean {
    const r = this.record(address);
    if (
      this.closed ||
      (r !== undefined && r.pending >= this.limits.pendingPerAddress) ||
      this.waiting.size >= this.limits.pendingTotal
    ) {
      this.countRefused();
      return false;
    }
    return true;
  }

  /** The right token: the address starts afresh. */
  succeeded(address: string): void {
    const r = this.records.get(address);
    if (r !== undefined && r.pending === 0) this.records.delete(address);
    else if (r !== undefined) r.failures = 0;
  }

  /**
   * A wrong or missing token: `answer` runs after this address's delay (at once if the relay
   * closes first), with the delay it waited. Call only after mayTry() said yes.
   */
  failed(address: string, answer: (delayMs: number) => void): void {
    this.countFailure();
    const now = this.now();
    let r = this.record(address);
    if (r === undefined) {
      r = { failures: 0, lastFailureAt: now, pending: 0 };
      if (this.records.size >= this.limits.addresses) this.forgetOldest();
    }
    // Most recently failed last: the map's order is the order of forgetting.
    this.records.delete(address);
    this.records.set(address, r);
    r.failures++;
    r.lastFailureAt = now;
    r.pending++;
    const delayMs = Math.min(
      this.limits.maxDelayMs,
      this.limits.firstDelayMs * 2 ** Math.min(r.failures - 1, 30),
    );
    const record = r;
    const waiting: Waiting = {
      timer: setTimeout(() => waiting.answer(), delayMs),
      answer: () => {
        clearTimeout(waiting.timer);
        if (!this.waiting.delete(waiting)) return;
        record.pending--;
        answer(delayMs);
      },
    };
    this.waiting.add(waiting);
  }

  /** Answers every waiting failure now (the relay is closing). */
  close(): void {
    this.closed = true;
    for (const w of [...this.waiting]) w.answer();
  }

  /** The address's record, unless it has been quiet long enough to be forgotten. */
  private record(address: string): Record | undefined {
    const r = this.records.get(address);
    if (r && r.pending === 0 && this.now() - r.lastFailureAt >= this.limits.forgetAfterMs) {
      this.records.delete(address);
      return undefined;
    }
    return r;
  }

  private forgetOldest(): void {
    for (const [address, r] of this.records) {
      if (r.pending > 0) continue;
      this.records.delete(address);
      return;
    }
  }
}

/**
 * The key a source address is counted under: an IPv4 address (also as `::ffff:a.b.c.d`), or
 * an IPv6 address's /64, the block one host usually holds whole.
 */
export function addressKey(remote: string | undefined): string {
  if (remote === undefined) return '?';
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (v4) return v4[1]!;
  const [head = '', tail] = remote.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return (
    all
      .slice(0, 4)
      .map((g) => g.replace(/^0+(?=.)/, '').toLowerCase())
      .join(':') + '::/64'
  );
}
