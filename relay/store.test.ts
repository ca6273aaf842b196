import Database from 'better-sqlite3';
import type { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeFrame } from '../src/shared/protocol/index.ts';
import { SCHEMA_VERSION } from './schema.ts';
import { sampleFrames } from '../src/shared/protocol/testing.ts';
import {
  RelayStore,
  type CustodyRow,
  type EnqueueResult,
  type FrameRoute,
  type StoreLimits,
} from './store.ts';

const ROOMY: StoreLimits = {
  maxFramesPerUser: 1000,
  maxBytesPerUser: 1_000_000,
  maxBytesTotal: 10_000_000,
  maxAgeMs: 60_000,
  maxFramesPerSender: 1000,
  maxBytesPerSender: 1_000_000,
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

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('queue', () => {
  it('returns frames in enqueue order, with their routes, byte for byte', () => {
    const store = openStore();
    const frames = sampleFrames().map((f) => encodeFrame(f));
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

describe('quotas per sender', () => {
  it('holds one sender to its quota over every recipient, queue and custody together', () => {
    const store = openStore({ maxBytesPerSender: 100, maxFramesPerSender: 1000 });
    for (const to of ['f1', 'f2', 'f3']) ok(store.enqueue(to, 0, bytes(30), FROM_ALICE, 0));
    expect(store.enqueue('f4', 0, bytes(30), FROM_ALICE, 0)).toEqual({
      ok: false,
      reason: 'sender-quota',
    });
    // Custody counts against the same quota: 10 bytes left.
    expect(
      store.holdBatch(
        [row(1, 0, { recipient: 'f5', frame: bytes(11) }), row(2, 0, { frame: bytes(10) })],
        0,
      ),
    ).toEqual([{ ok: false, reason: 'sender-quota' }, { ok: true }]);
    // Another sender has its own.
    ok(store.enqueue('f4', 0, bytes(30), { type: 'data', sender: 'carol' }, 0));
  });

  it("frees a sender's quota as its frames leave, and counts what a restart finds", () => {
    const store = openStore({ maxFramesPerSender: 2 });
    ok(store.enqueue('bob', 0, bytes(10), FROM_ALICE, 0));
    expect(store.holdBatch([row(1, 0), row(1, 1)], 0)).toEqual([
      { ok: true },
      { ok: false, reason: 'sender-quota' },
    ]);
    closeStore(store);
    const again = openStore({ maxFramesPerSender: 2 });
    expect(again.enqueue('carol', 0, bytes(10), FROM_ALICE, 0)).toMatchObject({ ok: false });
    again.remove(again.pending('bob', 1, 0, 10).map((p) => p.id));
    expect(again.release('alice', 1, 'bob', [1], 0)).toBe(1);
    ok(again.enqueue('carol', 0, bytes(10), FROM_ALICE, 0));
    expect(again.holdBatch([row(2, 0)], 0)).toEqual(held(1));
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
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openStore()).toThrow(
      `relay database schema ${SCHEMA_VERSION + 1} is newer than this relay understands (${SCHEMA_VERSION})`,
    );
  });
});

describe('checkpoints', () => {
  const dbOf = (store: RelayStore) => (store as unknown as { db: Database.Database }).db;

  it('are made by a worker thread, not on the relay’s connection', async () => {
    const store = openStore();
    const db = dbOf(store);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    for (let i = 0; i < 200; i++) ok(store.enqueue('bob', 0, bytes(4000, i), FROM_ALICE, 0));
    // The checkpointer copies the whole log into the database soon after.
    await vi.waitFor(
      () => {
        const [state] = db.pragma('wal_checkpoint(NOOP)') as {
          log: number;
          checkpointed: number;
        }[];
        expect(state!.log).toBeGreaterThan(0);
        expect(state!.checkpointed).toBe(state!.log);
      },
      { timeout: 10_000, interval: 20 },
    );
  });

  it('fall back to the relay’s connection when the worker stops', async () => {
    const store = openStore();
    const { worker } = (store as unknown as { checkpoints: { worker: Worker } }).checkpoints;
    await worker.terminate();
    await vi.waitFor(() =>
      expect(dbOf(store).pragma('wal_autocheckpoint', { simple: true })).toBe(1000),
    );
    ok(store.enqueue('bob', 0, bytes(10), FROM_ALICE, 0));
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

// ---------------------------------------------------------------------------------------
// Custody

/** A custody row from alice/1 to bob for segment `index` of `messageId`. */
function row(messageId: number, index: number, over: Partial<CustodyRow> = {}): CustodyRow {
  return {
    sender: 'alice',
    senderDevice: 1,
    recipient: 'bob',
    recipientDevice: 0,
    messageId,
    segmentIndex: index,
    transmission: messageId * 100 + index,
    frame: bytes(10 + index, (messageId + index) & 0xff),
    ...over,
  };
}

const held = (n: number): EnqueueResult[] => Array.from({ length: n }, () => ({ ok: true }));
const segmentsOf = (store: RelayStore, sender = 'alice', device = 1, recipient = 'bob') =>
  store.unackedFor(sender, device, recipient, 1000).map((h) => [h.messageId, h.segmentIndex]);

describe('custody', () => {
  it('holds a batch and returns the unacknowledged segments by message and segment', () => {
    const store = openStore();
    const rows = [row(7, 1), row(5, 0), row(7, 0), row(5, 2), row(5, 1)];
    expect(store.holdBatch(rows, 100)).toEqual(held(5));
    expect(segmentsOf(store)).toEqual([
      [5, 0],
      [5, 1],
      [5, 2],
      [7, 0],
      [7, 1],
    ]);
    const first = store.unackedFor('alice', 1, 'bob', 1)[0]!;
    expect(first).toEqual({
      recipientDevice: 0,
      messageId: 5,
      segmentIndex: 0,
      transmission: 500,
      frame: bytes(10, 5),
    });
    expect(first.frame).toBeInstanceOf(Uint8Array);
    expect(store.custodyFrames).toBe(5);
    expect(store.custodyBytes).toBe(rows.reduce((n, r) => n + r.frame.length, 0));
    // Custody is not the offline queue.
    expect(store.frames).toBe(0);
    expect(store.countPending('bob', 1)).toBe(0);
  });

  it('keeps senders, their devices and recipients apart', () => {
    const store = openStore();
    store.holdBatch(
      [
        row(1, 0),
        row(2, 0, { senderDevice: 2 }),
        row(3, 0, { recipient: 'carol', recipientDevice: 4 }),
        row(4, 0, { sender: 'dave' }),
      ],
      0,
    );
    expect(segmentsOf(store)).toEqual([[1, 0]]);
    expect(segmentsOf(store, 'alice', 2)).toEqual([[2, 0]]);
    expect(segmentsOf(store, 'alice', 1, 'carol')).toEqual([[3, 0]]);
    expect(store.unackedFor('alice', 1, 'carol', 10)[0]!.recipientDevice).toBe(4);
    expect(segmentsOf(store, 'dave', 1)).toEqual([[4, 0]]);
    expect(store.senderDevicesWithCustody()).toEqual([
      { sender: 'alice', senderDevice: 1, recipient: 'bob' },
      { sender: 'alice', senderDevice: 1, recipient: 'carol' },
      { sender: 'alice', senderDevice: 2, recipient: 'bob' },
      { sender: 'dave', senderDevice: 1, recipient: 'bob' },
    ]);
  });

  it('a retransmission replaces the frame and transmission of its segment; an older one does not', () => {
    const store = openStore();
    store.holdBatch([row(1, 0), row(1, 1)], 0);
    const bytesBefore = store.custodyBytes;
    expect(store.holdBatch([row(1, 0, { transmission: 900, frame: bytes(30, 9) })], 10)).toEqual(
      held(1),
    );
    expect(store.custodyFrames).toBe(2);
    expect(store.custodyBytes).toBe(bytesBefore + 20);
    const [seg0] = store.unackedFor('alice', 1, 'bob', 10);
    expect(seg0).toMatchObject({ transmission: 900, frame: bytes(30, 9) });
    // A late copy of an older transmission changes nothing (and is still held).
    expect(store.holdBatch([row(1, 0, { transmission: 5, frame: bytes(3) })], 20)).toEqual(held(1));
    expect(store.unackedFor('alice', 1, 'bob', 10)[0]).toMatchObject({ transmission: 900 });
    expect(store.custodyBytes).toBe(bytesBefore + 20);
    // Twice in one batch: the later transmission wins.
    store.holdBatch(
      [row(1, 1, { transmission: 1000 }), row(1, 1, { transmission: 1001, frame: bytes(11, 3) })],
      30,
    );
    expect(store.unackedFor('alice', 1, 'bob', 10)[1]).toMatchObject({
      transmission: 1001,
      frame: bytes(11, 3),
    });
    expect(store.custodyFrames).toBe(2);
  });

  it('markAcked marks the transmissions in the ranges, for that recipient only', () => {
    const store = openStore();
    store.holdBatch(
      [row(1, 0), row(1, 1), row(1, 2), row(1, 3), row(2, 0), row(3, 0, { recipient: 'carol' })],
      0,
    );
    // Transmissions 100..103 (message 1), 200 (message 2); carol's is 300.
    expect(
      store.markAcked('alice', 1, 'bob', [
        [200, 400],
        [102, 103],
        [100, 100],
      ]),
    ).toBe(4);
    expect(segmentsOf(store)).toEqual([[1, 1]]);
    // Carol's frame is not bob's to acknowledge; nor is another device's.
    expect(segmentsOf(store, 'alice', 1, 'carol')).toEqual([[3, 0]]);
    expect(store.markAcked('alice', 2, 'bob', [[0, 1000]])).toBe(0);
    // Acknowledging again marks nothing new.
    expect(store.markAcked('alice', 1, 'bob', [[100, 103]])).toBe(1);
    expect(segmentsOf(store)).toEqual([]);
    // Acknowledged frames stay in custody until released.
    expect(store.custodyFrames).toBe(6);
    expect(store.senderDevicesWithCustody()).toEqual([
      { sender: 'alice', senderDevice: 1, recipient: 'carol' },
    ]);
    // A retransmission of an acknowledged segment keeps it acknowledged.
    store.holdBatch([row(1, 0, { transmission: 999 })], 10);
    expect(segmentsOf(store)).toEqual([]);
  });

  it('release deletes every segment of the messages, for that sender, device and recipient', () => {
    const store = openStore();
    store.holdBatch(
      [
        row(1, 0),
        row(1, 1),
        row(2, 0),
        row(1, 0, { senderDevice: 2 }),
        row(1, 0, { recipient: 'carol' }),
      ],
      0,
    );
    const total = store.custodyBytes;
    expect(store.release('alice', 1, 'bob', [1, 99], 0)).toBe(2);
    expect(segmentsOf(store)).toEqual([[2, 0]]);
    expect(segmentsOf(store, 'alice', 2)).toEqual([[1, 0]]);
    expect(segmentsOf(store, 'alice', 1, 'carol')).toEqual([[1, 0]]);
    expect(store.custodyFrames).toBe(3);
    expect(store.custodyBytes).toBe(total - 10 - 11);
    expect(store.release('alice', 1, 'bob', [1], 0)).toBe(0);
    expect(store.release('alice', 1, 'bob', [2], 0)).toBe(1);
    expect(store.senderDevicesWithCustody()).toEqual([
      { sender: 'alice', senderDevice: 1, recipient: 'carol' },
      { sender: 'alice', senderDevice: 2, recipient: 'bob' },
    ]);
  });

  it('unackedFor pages with a limit', () => {
    const store = openStore();
    store.holdBatch(
      Array.from({ length: 10 }, (_, i) => row(1, 9 - i)),
      0,
    );
    expect(store.unackedFor('alice', 1, 'bob', 3).map((h) => h.segmentIndex)).toEqual([0, 1, 2]);
  });

  it('holds each recipient’s custody to the per-user limits, row by row', () => {
    const store = openStore({ maxFramesPerUser: 3 });
    expect(store.holdBatch([row(1, 0), row(1, 1), row(1, 2), row(1, 3), row(2, 0)], 0)).toEqual([
      ...held(3),
      { ok: false, reason: 'user-quota' },
      { ok: false, reason: 'user-quota' },
    ]);
    expect(store.custodyFrames).toBe(3);
    // A retransmission of a held segment takes no new room.
    expect(store.holdBatch([row(1, 0, { transmission: 555 })], 0)).toEqual(held(1));
    // Another recipient has its own quota.
    expect(store.holdBatch([row(1, 0, { recipient: 'carol' })], 0)).toEqual(held(1));
    // Releasing frees the room.
    store.release('alice', 1, 'bob', [1], 0);
    expect(store.holdBatch([row(2, 0)], 0)).toEqual(held(1));
  });

  it('does not hold a copy of a released message again, until the age limit forgets it', () => {
    const store = openStore({ maxAgeMs: 1000 });
    store.holdBatch([row(1, 0), row(1, 1)], 0);
    expect(store.release('alice', 1, 'bob', [1, 99], 0)).toBe(2);
    expect(store.holdBatch([row(1, 0, { transmission: 900 })], 500)).toEqual(held(1));
    expect(store.custodyFrames).toBe(0);
    // A message custody never had (99) was not remembered: it is held like any other.
    expect(store.holdBatch([row(99, 0)], 500)).toEqual(held(1));
    expect(store.custodyFrames).toBe(1);
    store.expireCustody(1001);
    expect(store.holdBatch([row(1, 0, { transmission: 901 })], 1001)).toEqual(held(1));
    expect(store.custodyFrames).toBe(2);
  });

  it('holds custody to the per-user byte limit', () => {
    const store = openStore({ maxBytesPerUser: 25 });
    expect(store.holdBatch([row(1, 0), row(1, 1), row(1, 2, { frame: bytes(5) })], 0)).toEqual([
      ...held(2),
      { ok: false, reason: 'user-quota' },
    ]);
    expect(store.custodyBytes).toBe(21);
  });

  it('frees the bytes of acknowledged frames, so a large file needs room for its window only', () => {
    const store = openStore({ maxBytesPerUser: 25 });
    expect(store.holdBatch([row(1, 0), row(1, 1)], 0)).toEqual(held(2));
    expect(store.holdBatch([row(1, 2, { frame: bytes(5) })], 0)).toEqual([
      { ok: false, reason: 'user-quota' },
    ]);
    expect(store.markAcked('alice', 1, 'bob', [[100, 101]])).toBe(2);
    expect(store.custodyBytes).toBe(0);
    expect(store.holdBatch([row(1, 2, { frame: bytes(5) }), row(1, 3)], 0)).toEqual(held(2));
    // Acknowledging again frees nothing twice.
    expect(store.markAcked('alice', 1, 'bob', [[100, 101]])).toBe(0);
    expect(store.custodyBytes).toBe(5 + row(1, 3).frame.length);
  });

  it('counts custody and queued bytes together against the total limit', () => {
    const store = openStore({ maxBytesTotal: 100 });
    ok(store.enqueue('carol', 0, bytes(60), FROM_ALICE, 0));
    expect(
      store.holdBatch([row(1, 0, { frame: bytes(30) }), row(1, 1, { frame: bytes(11) })], 0),
    ).toEqual([{ ok: true }, { ok: false, reason: 'store-full' }]);
    expect(store.enqueue('carol', 0, bytes(11), FROM_ALICE, 0)).toEqual({
      ok: false,
      reason: 'store-full',
    });
    ok(store.enqueue('carol', 0, bytes(10), FROM_ALICE, 0));
  });

  it('keeps custody apart from the queue’s per-user quota', () => {
    // A data frame for an offline device sits in both; each is held to the limits once.
    const store = openStore({ maxFramesPerUser: 2 });
    ok(store.enqueue('bob', 0, bytes(10), FROM_ALICE, 0));
    ok(store.enqueue('bob', 0, bytes(10), FROM_ALICE, 0));
    expect(store.holdBatch([row(1, 0), row(1, 1)], 0)).toEqual(held(2));
    expect(store.enqueue('bob', 0, bytes(10), FROM_ALICE, 0)).toMatchObject({ ok: false });
  });

  it('on a full disk holds nothing of the batch and says so for every row', () => {
    const store = openStore({ maxBytesPerUser: 1e9, maxBytesTotal: 1e9, maxFramesPerUser: 1e6 });
    const db = (store as unknown as { db: Database.Database }).db;
    expect(store.holdBatch([row(1, 0)], 0)).toEqual(held(1));
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 4}`);
    const big = Array.from({ length: 50 }, (_, i) => row(2, i, { frame: bytes(4000, i) }));
    const results = store.holdBatch(big, 0);
    expect(results).toHaveLength(50);
    for (const r of results) {
      expect(r).toMatchObject({ ok: false, reason: 'store-error' });
      expect(r.ok ? '' : r.detail).toMatch(/full/i);
    }
    // The transaction rolled back: only the first frame is held, and the totals agree.
    expect(segmentsOf(store)).toEqual([[1, 0]]);
    expect(store.custodyFrames).toBe(1);
    expect(store.custodyBytes).toBe(10);
  });

  it('expires custody at the same age limit as the queue', () => {
    const store = openStore({ maxAgeMs: 1000 });
    store.holdBatch([row(1, 0), row(1, 1)], 100);
    store.holdBatch([row(2, 0, { recipient: 'carol' })], 200);
    store.holdBatch([row(3, 0)], 900);
    // A retransmission does not make a segment younger.
    store.holdBatch([row(1, 1, { transmission: 5000 })], 1000);
    expect(store.expireCustody(1100)).toEqual(new Map());
    expect(store.expireCustody(1201)).toEqual(
      new Map([
        ['bob', 2],
        ['carol', 1],
      ]),
    );
    expect(segmentsOf(store)).toEqual([[3, 0]]);
    expect(store.custodyFrames).toBe(1);
    expect(store.custodyBytes).toBe(10);
  });

  it('survives close and reopen, acknowledgements and totals included', () => {
    const limits = { maxFramesPerUser: 4 };
    const first = openStore(limits);
    first.holdBatch([row(1, 0), row(1, 1), row(2, 0)], 0);
    first.markAcked('alice', 1, 'bob', [[101, 101]]);
    const before = first.unackedFor('alice', 1, 'bob', 10);

    // The acknowledged frame keeps its row but not its bytes, before and after reopening.
    expect(first.custodyBytes).toBe(20);
    closeStore(first);

    const second = openStore(limits);
    expect(second.custodyFrames).toBe(3);
    expect(second.custodyBytes).toBe(20);
    expect(second.unackedFor('alice', 1, 'bob', 10)).toEqual(before);
    expect(second.senderDevicesWithCustody()).toEqual([
      { sender: 'alice', senderDevice: 1, recipient: 'bob' },
    ]);
    // Per-user custody is recomputed: room for exactly one more.
    expect(second.holdBatch([row(3, 0), row(3, 1)], 0)).toEqual([
      { ok: true },
      { ok: false, reason: 'user-quota' },
    ]);
  });

  it('migrates a version 1 database, keeping its users and queued frames', () => {
    // The schema of the first relays, written by hand.
    const old = new Database(join(dir, 'relay.db'));
    old.exec(`
      CREATE TABLE users (name TEXT PRIMARY KEY, first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL) STRICT;
      CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
        device INTEGER NOT NULL, enqueued_at INTEGER NOT NULL, type TEXT NOT NULL,
        sender TEXT NOT NULL, frame BLOB NOT NULL) STRICT;
      CREATE INDEX queue_by_user ON queue (user, id);
    `);
    old
      .prepare('INSERT INTO users (name, first_seen, last_seen) VALUES (?, ?, ?)')
      .run('bob', 1, 5);
    old
      .prepare(
        'INSERT INTO queue (user, device, enqueued_at, type, sender, frame) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run('bob', 0, 3, 'data', 'alice', Buffer.from(bytes(12, 4)));
    old.pragma('user_version = 1');
    old.close();

    const store = openStore();
    expect(store.users()).toEqual([{ name: 'bob', lastSeen: 5 }]);
    expect(store.frames).toBe(1);
    expect(store.pending('bob', 1, 0, 10).map((p) => p.frame)).toEqual([bytes(12, 4)]);
    expect(store.custodyFrames).toBe(0);
    expect(store.holdBatch([row(1, 0)], 0)).toEqual(held(1));
    closeStore(store);
    const db = new Database(join(dir, 'relay.db'));
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
    // And it opens again without migrating twice.
    expect(segmentsOf(openStore())).toEqual([[1, 0]]);
  });
});
