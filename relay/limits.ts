// Rate limits the relay keeps per key (a source address, a user): token buckets that refill
// continuously, and the budgets built on them. One bucket per key that has been active
// lately; a key whose bucket has refilled to full is forgotten, so that memory follows the
// keys active now, not every key ever seen. docs/relay.md, section 9.
import { isIPv6 } from 'node:net';

/** Token buckets by key: `capacity` tokens each, refilled at `perSecond`. */
export class KeyedBuckets {
  private readonly capacity: number;
  private readonly perSecond: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sweptAt: number;

  constructor(capacity: number, perSecond: number, now: () => number = () => performance.now()) {
    this.capacity = capacity;
    this.perSecond = perSecond;
    this.now = now;
    this.sweptAt = now();
  }

  /** Takes `cost` tokens from `key`'s bucket; false (nothing taken) when it has fewer. */
  take(key: string, cost = 1): boolean {
    const now = this.now();
    this.sweep(now);
    const b = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    b.tokens = Math.min(this.capacity, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens < cost) {
      this.buckets.set(key, b);
      return false;
    }
    b.tokens -= cost;
    this.buckets.set(key, b);
    return true;
  }

  /** Keys with a bucket not yet full again (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  /** Forgets buckets that have refilled to full: they behave as a new one would. */
  private sweep(now: number): void {
    const full = (this.capacity / this.perSecond) * 1000;
    if (now - this.sweptAt < Math.min(full, 60_000)) return;
    this.sweptAt = now;
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.perSecond >= this.capacity)
        this.buckets.delete(key);
    }
  }
}

/**
 * The key a source address is limited by: an IPv4 address (also when it arrives as an
 * IPv4-mapped IPv6 address), or the /64 of an IPv6 address, since one host is usually given
 * a whole /64 and could otherwise take a fresh address for every connection.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return '?';
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head, tail = ''] = address.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const zeros = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...(address.includes('::') ? zeros : []), ...right].map((g) =>
    (g || '0').toLowerCase().replace(/^0+(?=.)/, ''),
  );
}

/** What a user's devices together may send: frames and bytes per second. */
export interface UserBudgetLimits {
  framesPerSec: number;
  bytesPerSec: number;
}

export type BudgetRefusal = 'frames' | 'bytes';

/**
 * Frames and bytes per user, across all of its devices: a user who opens more connections
 * gets no more room. A bucket holds one second of its rate, so bursts up to that pass.
 */
export class UserBudgets {
  readonly limits: UserBudgetLimits;
  private readonly frames: KeyedBuckets;
  private readonly bytes: KeyedBuckets;

  constructor(limits: UserBudgetLimits, now?: () => number) {
    this.limits = limits;
    this.frames = new KeyedBuckets(limits.framesPerSec, limits.framesPerSec, now);
    this.bytes = new KeyedBuckets(limits.bytesPerSec, limits.bytesPerSec, now);
  }

  /** Counts one frame of `length` bytes from `user`; says which budget refused it, if one did. */
  take(user: string, length: number): BudgetRefusal | null {
    // A frame larger than the whole byte budget could never pass: it is charged the budget.
    if (!this.bytes.take(user, Math.min(length, this.limits.bytesPerSec))) return 'bytes';
    if (!this.frames.take(user)) return 'frames';
    return null;
  }
}

/** New names per source address and hour: a sliding allowance, refilled continuously. */
export class NewNameLimit {
  readonly perHour: number;
  private readonly buckets: KeyedBuckets;

  constructor(perHour: number, now?: () => number) {
    this.perHour = perHour;
    this.buckets = new KeyedBuckets(perHour, perHour / 3600, now);
  }

  /** Whether `address` may create one more name now; counts it when it may. */
  take(address: string): boolean {
    return this.buckets.take(addressKey(address));
  }
}
