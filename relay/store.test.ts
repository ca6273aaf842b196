import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../src/shared/protocol/index.ts';
import { sampleFrames } from '../src/shared/protocol/testing.ts';
import { RelayStore, type FrameRoute, type StoreLimits } from './store.ts';

const ROOMY: StoreLimits = {
  maxFramesPerUser: 1000,
  maxBytesPerUser: 1_000_000,
  maxBytesTotal: 10_000_000,
  maxAgeMs: 60_000,
};
const FROM_ALICE: FrameRoute = { type: 'data', sender: 'alice' };

let dir: string;
const open: RelayStore[] = [];

function openStore(limits: Partial<StoreLimits> = {}, dataDir = dir): RelayStore {
  const store = new RelayStore(dataDir, { ...ROOMY, ...limits });
  open.push(store);
  return store;
}

function closeStore(store: RelayStore): void {
  store.close();
  open.splice(open.indexOf(store), 1);
}

/** A frame of `size` bytes, all `fill`. */
function bytes(size: number, fill = 1): Uint8Array {
  return new Uint8Array(size).fill(fill);
}

function ok(result: ReturnType<RelayStore['enqueue']>): void {
  expect(result).toEqual({ ok: true });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-store-test-'));
});

afterEach(() => {
  for (const store of open.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('queue', () => {
  it('returns frames in enqueue order, with their routes, byte for byte', () => {
    const store = openStore();
    const frames = sampleFrames().map(encodeFrame);
    frames.forEach((f, i) => ok(store.enqueue('bob', 0, f, { type: 'data', sender: `s${i}` }, i)));
    const pending = store.pending('bob', 1, 0, 100);
    expect(pending.map((p) => p.frame)).toEqual(frames);
    expect(pending.map((p) => p.sender)).toEqual(frames.map((_, i) => `s${i}`));
    expect(pending.every((p) => p.type === 'data')).toBe(true);
    const ids = pending.map((p) => p.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(pending[0]!.frame).toBeInstanceOf(Uint8Array);
  });

  it('keeps each route type', () => {
    const store = openStore();
    ok(store.enqueue('bob', 0, bytes(20), { type: 'ack', sender: 'carol' }, 0));
    ok(store.enqueue('bob', 0, bytes(20), { type: 'receipt', sender: 'dave' }, 0));
    expect(store.pending('bob', 1, 0, 10).map(({ type, sender }) => ({ type, sender }))).toEqual([
      { type: 'ack', sender: 'carol' },
      { type: 'receipt', sender: 'dave' },
    ]);
  });

  it('keeps users apart', () => {
    const store = openStore();
    ok(store.enqueue('bob', 0, bytes(10, 1), FROM_ALICE, 0));
    ok(store.enqueue('carol', 0, bytes(10, 2), FROM_ALICE, 0));
    expect(store.pending('bob', 1, 0, 10).map((p) => p.frame)).toEqual([bytes(10, 1)]);
    expect(store.pending('carol', 1, 0, 10).map((p) => p.frame)).toEqual([bytes(10, 2)]);
    expect(store.pending('dave', 1, 0, 10)).toEqual([]);
  });

  it('device 0 frames go to any device, device N frames only to device N', () => {
    const store = openStore();
    ok(store.enqueue('bob', 0, bytes(10, 0), FROM_ALICE, 0));
    ok(store.enqueue('bob', 1, bytes(10, 1), FROM_ALICE, 0));
    ok(store.enqueue('bob', 2, bytes(10, 2), FROM_ALICE, 0));
    ok(store.enqueue('bob', 0, bytes(10, 3), FROM_ALICE, 0));
    const firstBytes = (device: number) =>
      store.pending('bob', device, 0, 10).map((p) => p.frame[0]);
    expect(firstBytes(1)).toEqual([0, 1, 3]);
    expect(firstBytes(2)).toEqual([0, 2, 3]);
    expect(firstBytes(3)).toEqual([0, 3]);
    expect(store.countPending('bob', 1)).toBe(3);
    expect(store.countPending('bob', 2)).toBe(3);
    expect(store.countPending('bob', 3)).toBe(2);
    expect(store.countPending('carol', 1)).toBe(0);
  });

  it('pages with afterId and limit', () => {
    const store = openStore();
    for (let i = 0; i < 7; i++) ok(store.enqueue('bob', 0, bytes(5, i), FROM_ALICE, 0));
    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const page = store.pending('bob', 1, after, 3);
      expect(page.length).toBeLessThanOrEqual(3);
      if (page.length === 0) break;
      seen.push(...page.map((p) => p.frame[0]!));
      after = page.at(-1)!.id;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('remove() forgets frames and updates the totals', () => {
    const store = openStore();
    ok(store.enqueue('bob', 0, bytes(100), FROM_ALICE, 0));
    ok(store.enqueue('bob', 0, bytes(30), FROM_ALICE, 0));
    ok(store.enqueue('carol', 0, bytes(7), FROM_ALICE, 0));
    expect(store.frames).toBe(3);
    expect(store.bytes).toBe(137);
    const [first, second] = store.pending('bob', 1, 0, 10);
    store.remove([first!.id]);
    expect(store.frames).toBe(2);
    expect(store.bytes).toBe(37);
    expect(store.pending('bob', 1, 0, 10).map((p) => p.id)).toEqual([second!.id]);
    // Unknown or already removed ids, and an empty list, change nothing.
    store.remove([first!.id, 999_999]);
    store.remove([]);
    expect(store.frames).toBe(2);
    expect(store.bytes).toBe(37);
    store.remove([second!.id]);
    expect(store.countPending('bob', 1)).toBe(0);
    expect(store.frames).toBe(1);
    expect(store.bytes).toBe(7);
  });
});

describe('quotas', () => {
  it('refuses a frame past the per-user frame quota', () => {
    const store = openStore({ maxFramesPerUser: 2 });
    ok(store.enqueue('bob', 0, bytes(10), FROM_ALICE, 0));
    ok(store.enqueue('bob', 1, bytes(10), FROM_ALICE, 0));
    expect(store.enqueue('bob', 2, bytes(10), FROM_ALICE, 0)).toEqual({
      ok: false,
      reason: 'user-quota',
    });
    expect(store.frames).toBe(2);
    expect(store.bytes).toBe(20);
    // Other users have their own quota.
    ok(store.enqueue('carol', 0, bytes(10), FROM_ALICE, 0));
  });

  it('refuses a frame past the per-user byte quota; exactly full is fine', () => {
    const store = openStore({ maxBytesPerUser: 100 });
    ok(store.enqueue('bob', 0, bytes(60), FROM_ALICE, 0));
    expect(store.enqueue('bob', 0, bytes(41), FROM_ALICE, 0)).toEqual({
      ok: false,
      reason: 'user-quota',
    });
    ok(store.enqueue('bob', 0, bytes(40), FROM_ALICE, 0));
    expect(store.enqueue('bob', 0, bytes(1), FROM_ALICE, 0)).toEqual({
      ok: false,
      reason: 'user-quota',
    });
    expect(store.pending('bob', 1, 0, 10)).toHaveLength(2);
    ok(store.enqueue('carol', 0, bytes(100), FROM_ALICE, 0));
  });

  it('refuses any frame past the total byte quota', () => {
    const store = openStore({ maxBytesTotal: 100 });
    ok(store.enqueue('bob', 0, bytes(60), FROM_ALICE, 0));
    expect(store.enqueue('carol', 0, bytes(41), FROM_ALICE, 0)).toEqual({
      ok: false,
      reason: 'store-full',
    });
    ok(store.enqueue('carol', 0, bytes(40), FROM_ALICE, 0));
    expect(store.bytes).toBe(100);
    expect(store.countPending('carol', 1)).toBe(1);
  });

  it('removing frames frees quota', () => {
    const store = openStore({ maxFramesPerUser: 1, maxBytesTotal: 100 });
    ok(store.enqueue('bob', 0, bytes(100), FROM_ALICE, 0));
    expect(store.enqueue('bob', 0, bytes(1), FROM_ALICE, 0)).toMatchObject({ ok: false });
    expect(store.enqueue('carol', 0, bytes(1), FROM_ALICE, 0)).toMatchObject({ ok: false });
    store.remove(store.pending('bob', 1, 0, 10).map((p) => p.id));
    ok(store.enqueue('bob', 0, bytes(50), FROM_ALICE, 0));
    ok(store.enqueue('carol', 0, bytes(50), FROM_ALICE, 0));
  });

  it('removing frames frees per-user byte quota', () => {
    const store = openStore({ maxBytesPerUser: 100 });
    ok(store.enqueue('bob', 0, bytes(60), FROM_ALICE, 0));
    ok(store.enqueue('bob', 0, bytes(40), FROM_ALICE, 0));
    expect(store.enqueue('bob', 0, bytes(60), FROM_ALICE, 0)).toMatchObject({ ok: false });
    store.remove([store.pending('bob', 1, 0, 1)[0]!.id]);
    ok(store.enqueue('bob', 0, bytes(60), FROM_ALICE, 0));
  });
});

describe('expiry', () => {
  it('discards frames older than maxAgeMs and reports them per user', () => {
    const store = openStore({ maxAgeMs: 1000 });
    ok(store.enqueue('bob', 0, bytes(10), FROM_ALICE, 100));
    ok(store.enqueue('bob', 0, bytes(20), FROM_ALICE, 200));
    ok(store.enqueue('carol', 0, bytes(40), FROM_ALICE, 300));
    ok(store.enqueue('bob', 0, bytes(80), FROM_ALICE, 900));
    expect(store.expire(1000)).toEqual(new Map());
    expect(store.expire(1301)).toEqual(
      new Map([
        ['bob', 2],
        ['carol', 1],
      ]),
    );
    expect(store.frames).toBe(1);
    expect(store.bytes).toBe(80);
    expect(store.pending('bob', 1, 0, 10).map((p) => p.frame.length)).toEqual([80]);
    expect(store.pending('carol', 1, 0, 10)).toEqual([]);
  });

  it('keeps a frame exactly maxAgeMs old, and drops it a millisecond later', () => {
    const store = openStore({ maxAgeMs: 1000 });
    ok(store.enqueue('bob', 0, bytes(10), FROM_ALICE, 500));
    expect(store.expire(1500).size).toBe(0);
    expect(store.expire(1501)).toEqual(new Map([['bob', 1]]));
    expect(store.frames).toBe(0);
  });

  it('frees the quota of expired frames', () => {
    const store = openStore({ maxAgeMs: 1000, maxFramesPerUser: 1 });
    ok(store.enqueue('bob', 0, bytes(10), FROM_ALICE, 0));
    expect(store.enqueue('bob', 0, bytes(10), FROM_ALICE, 10)).toMatchObject({ ok: false });
    store.expire(5000);
    ok(store.enqueue('bob', 0, bytes(10), FROM_ALICE, 5000));
  });
});

describe('durability', () => {
  it('keeps frames and users across close and reopen, and recomputes the totals', () => {
    const limits = { maxFramesPerUser: 3 };
    const first = openStore(limits);
    first.rememberUser('bob', 10);
    ok(first.enqueue('bob', 0, bytes(100, 1), FROM_ALICE, 0));
    ok(first.enqueue('bob', 2, bytes(50, 2), { type: 'ack', sender: 'carol' }, 0));
    ok(first.enqueue('carol', 0, bytes(25, 3), FROM_ALICE, 0));
    const before = first.pending('bob', 2, 0, 10);
    closeStore(first);

    const second = openStore(limits);
    expect(second.frames).toBe(3);
    expect(second.bytes).toBe(175);
    expect(second.pending('bob', 2, 0, 10)).toEqual(before);
    expect(second.users()).toEqual([{ name: 'bob', lastSeen: 10 }]);
    // Per-user usage is recomputed too: bob has room for exactly one more.
    ok(second.enqueue('bob', 0, bytes(1), FROM_ALICE, 0));
    expect(second.enqueue('bob', 0, bytes(1), FROM_ALICE, 0)).toEqual({
      ok: false,
      reason: 'user-quota',
    });
    // New ids continue after the old ones.
    const ids = second.pending('bob', 2, 0, 10).map((p) => p.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('creates its data directory, nested', () => {
    const nested = join(dir, 'a', 'b');
    const store = openStore({}, nested);
    ok(store.enqueue('bob', 0, bytes(1), FROM_ALICE, 0));
    expect(store.frames).toBe(1);
  });

  it('refuses a database written by a newer relay', () => {
    closeStore(openStore());
    const db = new Database(join(dir, 'relay.db'));
    db.pragma('user_version = 2');
    db.close();
    expect(() => openStore()).toThrow(
      'relay database schema 2 is newer than this relay understands (1)',
    );
  });
});

describe('users', () => {
  it('remembers users, sorted by name, with the time they were last seen', () => {
    const store = openStore();
    expect(store.users()).toEqual([]);
    store.rememberUser('bob', 10);
    store.rememberUser('alice', 20);
    expect(store.users()).toEqual([
      { name: 'alice', lastSeen: 20 },
      { name: 'bob', lastSeen: 10 },
    ]);
  });

  it('remembering a known user updates last seen without adding a row', () => {
    const store = openStore();
    store.rememberUser('bob', 10);
    store.rememberUser('bob', 30);
    expect(store.users()).toEqual([{ name: 'bob', lastSeen: 30 }]);
  });

  it('touch updates last seen of a known user only', () => {
    const store = openStore();
    store.rememberUser('bob', 10);
    store.touchUser('bob', 40);
    store.touchUser('zed', 50);
    expect(store.users()).toEqual([{ name: 'bob', lastSeen: 40 }]);
  });

  it('keeps non-ASCII names', () => {
    const store = openStore();
    store.rememberUser('Борис', 1);
    ok(store.enqueue('Борис', 0, bytes(3), { type: 'data', sender: 'ёж_1' }, 0));
    expect(store.users()).toEqual([{ name: 'Борис', lastSeen: 1 }]);
    expect(store.pending('Борис', 1, 0, 1)[0]!.sender).toBe('ёж_1');
  });
});

describe('a full disk', () => {
  it('refuses the frame that does not fit with store-error, and keeps every frame before it', () => {
    const store = openStore({ maxBytesPerUser: 1e9, maxBytesTotal: 1e9, maxFramesPerUser: 1e6 });
    // SQLite reports SQLITE_FULL once the file may not grow past max_page_count, exactly as
    // on a full disk.
    const db = (store as unknown as { db: Database.Database }).db;
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 8}`);
    let accepted = 0;
    let refusal: ReturnType<RelayStore['enqueue']> = { ok: true };
    for (let i = 0; i < 1000 && refusal.ok; i++) {
      refusal = store.enqueue('bob', 0, bytes(4000, i & 0xff), FROM_ALICE, 1);
      if (refusal.ok) accepted++;
    }
    expect(refusal).toMatchObject({ ok: false, reason: 'store-error' });
    expect(refusal.ok ? '' : refusal.detail).toMatch(/full/i);
    expect(accepted).toBeGreaterThan(0);
    expect(store.frames).toBe(accepted);
    const kept = store.pending('bob', 1, 0, 10_000);
    expect(kept).toHaveLength(accepted);
    kept.forEach((row, i) => expect(row.frame[0]).toBe(i & 0xff));
  });
});
