import { describe, expect, it } from 'vitest';
import { SizedCache } from './sized-cache.ts';

const length = (s: string | null) => s?.length ?? 0;

describe('SizedCache', () => {
  it('forgets the least recently used entries once the total passes the bound', () => {
    const cache = new SizedCache<string | null>(10, length);
    cache.set('a', 'aaaa');
    cache.set('b', 'bbbb');
    expect(cache.get('a')).toBe('aaaa');
    cache.set('c', 'cccc');
    // b was the least recently used.
    expect(cache.has('b')).toBe(false);
    expect(cache.get('a')).toBe('aaaa');
    expect(cache.get('c')).toBe('cccc');
    expect(cache.size).toBe(8);
  });

  it('keeps a null answer, replaces a value in place, and always keeps the newest', () => {
    const cache = new SizedCache<string | null>(10, length);
    cache.set('none', null);
    expect(cache.has('none')).toBe(true);
    expect(cache.get('none')).toBeNull();
    cache.set('x', 'xx');
    cache.set('x', 'xxxx');
    expect(cache.size).toBe(4);
    cache.set('huge', 'h'.repeat(50));
    expect(cache.get('huge')).toHaveLength(50);
    expect(cache.has('x')).toBe(false);
    expect(cache.get('missing')).toBeUndefined();
  });
});
