import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.ts';
import { TimeQueue } from './time-queue.ts';

describe('TimeQueue', () => {
  it('returns items by time, and items of equal time in the order they came', () => {
    const q = new TimeQueue<string>();
    q.push(5, 'c');
    q.push(1, 'a');
    q.push(5, 'd');
    q.push(3, 'b');
    q.push(5, 'e');
    expect(q.peekTime()).toBe(1);
    const out: string[] = [];
    for (let e = q.pop(); e; e = q.pop()) out.push(e.item);
    expect(out).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(q.size).toBe(0);
    expect(q.pop()).toBeUndefined();
  });

  it('agrees with a stable sort on random input', () => {
    const rand = seededRandom(3);
    const q = new TimeQueue<number>();
    const items = Array.from({ length: 2000 }, (_, i) => ({ at: Math.floor(rand() * 100), i }));
    for (const x of items) q.push(x.at, x.i);
    const sorted = [...items].sort((a, b) => a.at - b.at || a.i - b.i).map((x) => x.i);
    const out: number[] = [];
    for (let e = q.pop(); e; e = q.pop()) out.push(e.item);
    expect(out).toEqual(sorted);
  });
});
