import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ADMIN_GUARD_LIMITS, AdminGuard, addressKey } from './admin-guard.ts';
import { Metrics } from './metrics.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function guard(limits = ADMIN_GUARD_LIMITS) {
  const metrics = new Metrics();
  return { g: new AdminGuard(metrics, limits, () => Date.now()), metrics };
}

/** Fails once from `address` and returns the delay its answer came after. */
async function failOnce(g: AdminGuard, address: string): Promise<number> {
  expect(g.mayTry(address)).toBe(true);
  const answered = new Promise<number>((resolve) => g.failed(address, resolve));
  await vi.runOnlyPendingTimersAsync();
  return answered;
}

describe('the admin guard', () => {
  it('answers each failure of an address twice as late as the one before, up to the cap', async () => {
    const { g, metrics } = guard();
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) delays.push(await failOnce(g, '10.0.0.1'));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]);
    // Another address starts from the first delay.
    expect(await failOnce(g, '10.0.0.2')).toBe(100);
    expect(metrics.value('admin_auth_failures')).toBe(11);
  });

  it('refuses an address unchecked while its share of answers waits, and counts it', () => {
    const { g, metrics } = guard();
    for (let i = 0; i < ADMIN_GUARD_LIMITS.pendingPerAddress; i++) {
      expect(g.mayTry('10.0.0.1')).toBe(true);
      g.failed('10.0.0.1', () => {});
    }
    expect(g.mayTry('10.0.0.1')).toBe(false);
    expect(g.mayTry('10.0.0.2')).toBe(true);
    expect(metrics.value('admin_auth_throttled')).toBe(1);
  });

  it('keeps at most pendingTotal answers waiting, whatever the number of addresses', () => {
    const { g } = guard({ ...ADMIN_GUARD_LIMITS, pendingTotal: 3 });
    for (let i = 0; i < 3; i++) g.failed(`10.0.0.${i}`, () => {});
    expect(vi.getTimerCount()).toBe(3);
    expect(g.mayTry('10.0.1.1')).toBe(false);
  });

  it('starts an address afresh after the right token, or after a quiet while', async () => {
    const { g } = guard();
    await failOnce(g, '10.0.0.1');
    await failOnce(g, '10.0.0.1');
    g.succeeded('10.0.0.1');
    expect(await failOnce(g, '10.0.0.1')).toBe(100);
    expect(await failOnce(g, '10.0.0.1')).toBe(200);
    vi.advanceTimersByTime(ADMIN_GUARD_LIMITS.forgetAfterMs);
    expect(await failOnce(g, '10.0.0.1')).toBe(100);
  });

  it('remembers a bounded number of addresses, forgetting the one failed longest ago', async () => {
    const { g } = guard({ ...ADMIN_GUARD_LIMITS, addresses: 2 });
    await failOnce(g, 'a');
    await failOnce(g, 'a');
    await failOnce(g, 'b');
    await failOnce(g, 'c');
    // a was forgotten for c: it starts from the first delay again; b was kept.
    expect(await failOnce(g, 'b')).toBe(200);
    expect(await failOnce(g, 'a')).toBe(100);
  });

  it('answers everything waiting when the relay closes, and refuses from then on', () => {
    const { g } = guard();
    const answered: number[] = [];
    g.failed('10.0.0.1', (d) => answered.push(d));
    g.failed('10.0.0.1', (d) => answered.push(d));
    g.close();
    expect(answered).toEqual([100, 200]);
    expect(vi.getTimerCount()).toBe(0);
    expect(g.mayTry('10.0.0.3')).toBe(false);
  });
});

describe('the key an address is counted under', () => {
  it('is the IPv4 address, also when mapped into IPv6', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
  });

  it("is an IPv6 address's /64, which one host holds whole", () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});
