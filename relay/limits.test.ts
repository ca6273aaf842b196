import { describe, expect, it } from 'vitest';
import { KeyedBuckets, NewNameLimit, UserBudgets, addressKey } from './limits.ts';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('KeyedBuckets', () => {
  it('lets a burst of its capacity through, then refills at its rate, per key', () => {
    const c = clock();
    const b = new KeyedBuckets(3, 1, c.now);
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')]).toEqual([true, true, true, false]);
    expect(b.take('b')).toBe(true);
    c.advance(1000);
    expect(b.take('a')).toBe(true);
    expect(b.take('a')).toBe(false);
  });

  it('forgets keys whose bucket is full again, so memory follows the active keys', () => {
    const c = clock();
    const b = new KeyedBuckets(2, 1, c.now);
    for (let i = 0; i < 100; i++) b.take(`k${i}`);
    expect(b.size).toBe(100);
    c.advance(60_000);
    b.take('fresh');
    expect(b.size).toBe(1);
  });
});

describe('addressKey', () => {
  it('takes IPv4 as it is, unwraps IPv4-mapped IPv6, and groups IPv6 by /64', () => {
    expect(addressKey('127.0.0.2')).toBe('127.0.0.2');
    expect(addressKey('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey(undefined)).toBe('?');
  });
});

describe('UserBudgets', () => {
  it('refuses by bytes or by frames, whichever runs out', () => {
    const c = clock();
    const u = new UserBudgets({ framesPerSec: 3, bytesPerSec: 1000 }, c.now);
    expect(u.take('alice', 600)).toBeNull();
    expect(u.take('alice', 600)).toBe('bytes');
    expect(u.take('alice', 1)).toBeNull();
    expect(u.take('alice', 1)).toBeNull();
    expect(u.take('alice', 1)).toBe('frames');
    expect(u.take('bob', 1000)).toBeNull();
  });

  it('lets a frame larger than the whole budget through once the bucket is full', () => {
    const u = new UserBudgets({ framesPerSec: 10, bytesPerSec: 1000 }, clock().now);
    expect(u.take('alice', 5000)).toBeNull();
    expect(u.take('alice', 1)).toBe('bytes');
  });
});

describe('NewNameLimit', () => {
  it('allows so many names per address and hour, refilled across the hour', () => {
    const c = clock();
    const n = new NewNameLimit(2, c.now);
    expect([n.take('10.0.0.1'), n.take('10.0.0.1'), n.take('10.0.0.1')]).toEqual([
      true,
      true,
      false,
    ]);
    expect(n.take('10.0.0.2')).toBe(true);
    c.advance(30 * 60_000);
    expect(n.take('10.0.0.1')).toBe(true);
    expect(n.take('10.0.0.1')).toBe(false);
  });
});
