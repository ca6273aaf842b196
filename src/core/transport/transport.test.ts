// The transport's attempt limit, against a stand-in for the relay connection and a fake
// clock: a message the relay never holds fails after enough attempts and enough time, and
// not before.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Frame } from '../../shared/protocol/index.ts';
import { recordingLink } from './test-link.ts';
import { closeDatabase, openDatabase, type Db } from '../store/database.ts';
import { FAIL_AFTER_MS, MAX_SENDS_PER_SEGMENT, Transport, type MessageKey } from './transport.ts';
import { heldFrame } from '../../shared/protocol/testing.ts';

const silentLink = (sent: Frame[], alive = true) => recordingLink(sent, { alive });

let db: Db;
beforeEach(() => {
  vi.useFakeTimers();
  db = openDatabase(mkdtempSync(join(tmpdir(), 'strata-transport-test-')));
});
afterEach(() => {
  vi.useRealTimers();
  closeDatabase(db);
});

function status(key: MessageKey): string {
  return (db.prepare('SELECT status FROM messages WHERE id = ?').get(key.id) as { status: string })
    .status;
}

/** A started transport for alice over a silent link that records what it sends. */
function startTransport(sent: Frame[], alive = true): Transport {
  const t = new Transport(
    db,
    silentLink(sent, alive),
    { user: 'alice', device: 1 },
    { segmentSize: 1024, assemblyPeriodMs: 1000, idleCycles: 3 },
    () => Date.now(),
  );
  t.start();
  return t;
}

describe('the attempt limit', () => {
  it('fails a message the relay never holds, after enough sends and enough time', async () => {
    const sent: Frame[] = [];
    const t = startTransport(sent);
    const key = t.submit('bob', 1, new Uint8Array(10));
    expect(sent.filter((f) => f.type === 'data')).toHaveLength(1);
    // Probe timeouts resend it with growing back-off; it is still pending meanwhile.
    vi.advanceTimersByTime(FAIL_AFTER_MS - 1000);
    expect(status(key)).toBe('pending');
    const sends = sent.filter((f) => f.type === 'data').length;
    expect(sends).toBeGreaterThan(1);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(sent.filter((f) => f.type === 'data').length).toBeGreaterThanOrEqual(
      MAX_SENDS_PER_SEGMENT,
    );
    expect(status(key)).toBe('failed');
    t.close();
  });

  it('does not fail a message whose attempts went into a link that does not answer', async () => {
    const sent: Frame[] = [];
    const t = startTransport(sent, false);
    const key = t.submit('bob', 1, new Uint8Array(10));
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(sent.filter((f) => f.type === 'data').length).toBeGreaterThanOrEqual(
      MAX_SENDS_PER_SEGMENT,
    );
    expect(status(key)).toBe('pending');
    // The dropped link comes back: the message goes again, and the relay takes it.
    const before = sent.length;
    t.onOffline();
    t.onOnline();
    const again = sent.slice(before).find((f) => f.type === 'data')!;
    if (again.type !== 'data') throw new Error('expected data');
    t.onFrame(heldFrame([[again.transmission, again.transmission]]));
    expect(status(key)).toBe('sent');
    t.close();
  });

  it('does not fail a message the relay holds, however long the peer takes', () => {
    const sent: Frame[] = [];
    const t = startTransport(sent);
    const key = t.submit('bob', 1, new Uint8Array(10));
    const first = sent.find((f) => f.type === 'data')!;
    if (first.type !== 'data') throw new Error('expected data');
    t.onFrame(heldFrame([[first.transmission, first.transmission]]));
    expect(status(key)).toBe('sent');
    vi.advanceTimersByTime(30 * 60_000);
    expect(status(key)).toBe('sent');
    t.close();
  });
});

describe('acknowledging a burst', () => {
  it("acks every second segment, each ack's delay counted from when its segments arrived", () => {
    const sent: Frame[] = [];
    const t = startTransport(sent);
    for (let i = 0; i < 8; i++) {
      t.onFrame({
        type: 'data',
        from: 'bob',
        fromDevice: 2,
        to: 'alice',
        toDevice: 1,
        messageId: 5,
        transmission: 100 + i,
        segmentCount: 9,
        segmentIndex: i,
        payload: new Uint8Array(1024).fill(i),
      });
    }
    // The burst is stored at the end of the turn; say that came 7 ms after it arrived.
    vi.setSystemTime(Date.now() + 7);
    vi.advanceTimersByTime(0);
    const acks = sent.filter((f) => f.type === 'ack');
    expect(acks).toHaveLength(4);
    expect(acks[3]).toMatchObject({ to: 'bob', toDevice: 2, ranges: [[100, 107]] });
    for (const ack of acks) expect(ack.type === 'ack' && ack.ackDelayMicros).toBe(7000);
    t.close();
  });
});

describe('a message in one segment', () => {
  it('is whole as it comes, with nothing kept aside to assemble it, and taken once', () => {
    const sent: Frame[] = [];
    const t = startTransport(sent);
    const completed: MessageKey[] = [];
    t.on('changed', (key: MessageKey) => completed.push(key));
    const frame = (transmission: number): Frame => ({
      type: 'data',
      from: 'bob',
      fromDevice: 2,
      to: 'alice',
      toDevice: 1,
      messageId: 9,
      transmission,
      segmentCount: 1,
      segmentIndex: 0,
      payload: new Uint8Array([1, 104, 105]),
    });
    const changes = () => (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    // The segment, and the same segment again (a retransmission whose ack was lost).
    const before = changes();
    t.onFrame(frame(300));
    vi.advanceTimersByTime(0);
    // Its row made, and made whole: no segment row written, then deleted again.
    expect(changes() - before).toBe(2);
    t.onFrame(frame(301));
    vi.advanceTimersByTime(0);
    const row = db
      .prepare('SELECT body, received, segment_count AS count FROM messages WHERE id = 9')
      .get() as { body: Buffer; received: number; count: number };
    expect([...row.body]).toEqual([1, 104, 105]);
    expect(row).toMatchObject({ received: 1, count: 1 });
    expect(db.prepare('SELECT count(*) AS n FROM in_segments').get()).toEqual({ n: 0 });
    expect(completed).toHaveLength(1);
    // Both transmissions are acknowledged, so that the sender stops sending either.
    const acked = sent.flatMap((f) => (f.type === 'ack' ? f.ranges : []));
    expect(acked.flat()).toEqual(expect.arrayContaining([300, 301]));
    t.close();
  });
});

describe('draining before a quit', () => {
  it('sends nothing more, and settles once what is in flight is acknowledged', async () => {
    const sent: Frame[] = [];
    const t = startTransport(sent);
    t.submit('bob', 1, new Uint8Array(3000));
    const data = sent.filter((f) => f.type === 'data');
    expect(data).toHaveLength(3);
    let settled = false;
    const drained = t.drain(60_000).then(() => (settled = true));
    // A message accepted while draining waits for the next start.
    t.submit('bob', 2, new Uint8Array(10));
    expect(sent.filter((f) => f.type === 'data')).toHaveLength(3);
    await Promise.resolve();
    expect(settled).toBe(false);
    const transmissions = data.map((f) => (f.type === 'data' ? f.transmission : 0));
    t.onFrame({
      type: 'ack',
      from: 'bob',
      fromDevice: 2,
      to: 'alice',
      toDevice: 1,
      ackDelayMicros: 0,
      ranges: [[Math.min(...transmissions), Math.max(...transmissions)]],
    });
    await drained;
    expect(settled).toBe(true);
    expect(status({ author: 'alice', authorDevice: 1, id: 1 })).toBe('delivered');
    t.close();
  });

  it('gives up waiting after its timeout', async () => {
    const t = startTransport([]);
    t.submit('bob', 1, new Uint8Array(3000));
    const drained = t.drain(1000);
    vi.advanceTimersByTime(1000);
    await drained;
    t.close();
  });
});

describe('receipts', () => {
  /** A delivered or read receipt for alice's message `id` (from `device`), sent by `from`. */
  function receipt(from: string, kind: 'delivered' | 'read', id: number, device = 1): Frame {
    return {
      type: 'receipt',
      from,
      fromDevice: 7,
      to: 'alice',
      toDevice: 0,
      kind,
      messageDevice: device,
      messageIds: [id],
    };
  }

  it("moves a message's status only when it comes from the message's peer", () => {
    const sent: Frame[] = [];
    const t = startTransport(sent);
    const key = t.submit('bob', 1, new Uint8Array(10));
    // Another user of the relay forges receipts for alice's message to bob: nothing changes,
    // and the message is still being sent.
    t.onFrame(receipt('mallory', 'delivered', 1));
    t.onFrame(receipt('mallory', 'read', 1));
    expect(status(key)).toBe('pending');
    vi.advanceTimersByTime(2000);
    expect(sent.filter((f) => f.type === 'data').length).toBeGreaterThan(1);
    // Bob's own receipts count.
    t.onFrame(receipt('bob', 'delivered', 1));
    expect(status(key)).toBe('delivered');
    t.onFrame(receipt('bob', 'read', 1));
    expect(status(key)).toBe('read');
    t.close();
  });

  it("moves our other device's copy only on its peer's receipt", () => {
    const t = startTransport([]);
    // Alice's device 2 sent message 9 to bob; the relay copied it to this device.
    t.onFrame({
      type: 'data',
      from: 'alice',
      fromDevice: 2,
      to: 'bob',
      toDevice: 0,
      messageId: 9,
      transmission: 1,
      segmentCount: 1,
      segmentIndex: 0,
      payload: new Uint8Array(10),
    });
    vi.advanceTimersByTime(0);
    const copy = { author: 'alice', authorDevice: 2, id: 9 };
    expect(status(copy)).toBe('sent');
    t.onFrame(receipt('mallory', 'read', 9, 2));
    expect(status(copy)).toBe('sent');
    t.onFrame(receipt('bob', 'read', 9, 2));
    expect(status(copy)).toBe('read');
    t.close();
  });
});
