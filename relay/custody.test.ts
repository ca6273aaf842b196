import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_ACK_RANGES,
  decodeFrame,
  encodeFrame,
  type AckRange,
  type DataFrame,
  type ErrorCodeName,
  type Frame,
  type ReceiptKind,
} from '../src/shared/protocol/index.ts';
import {
  Custody,
  PENDING_FRAMES,
  RETRY_MS,
  ROUND_FRAMES,
  toRanges,
  type CustodyHost,
} from './custody.ts';
import { createLogger } from './log.ts';
import { Metrics } from './metrics.ts';
import type { Session } from './session.ts';
import { RelayStore, type StoreLimits } from './store.ts';

const ROOMY: StoreLimits = {
  maxFramesPerUser: 100_000,
  maxBytesPerUser: 100_000_000,
  maxBytesTotal: 1_000_000_000,
  maxAgeMs: 3_600_000,
  maxFramesPerSender: 100_000,
  maxBytesPerSender: 100_000_000,
};

/** A stand-in for a connection: who it is, and whether it takes more. */
interface FakeSession {
  state: 'open' | 'closed';
  user: string;
  device: number;
  label: string;
  busy: boolean;
}

/** The relay around custody: connections, and everything custody sent. */
class FakeRelay implements CustodyHost {
  readonly sessions: FakeSession[] = [];
  readonly control: { to: string; frame: Frame }[] = [];
  readonly errors: { to: string; code: ErrorCodeName; messageId: number }[] = [];
  readonly resent: { to: string; frame: DataFrame }[] = [];

  connect(user: string, device: number): Session {
    const s: FakeSession = { state: 'open', user, device, label: `${user}/${device}`, busy: false };
    this.sessions.push(s);
    return s as unknown as Session;
  }

  disconnect(s: Session): void {
    (s as unknown as FakeSession).state = 'closed';
  }

  devicesOf(user: string, device: number): Session[] {
    return this.sessions.filter(
      (s) => s.state === 'open' && s.user === user && (device === 0 || s.device === device),
    ) as unknown as Session[];
  }
  sendControl(target: Session, frame: Frame): void {
    // Whatever custody composes must encode.
    encodeFrame(frame);
    this.control.push({ to: target.label, frame });
  }
  sendError(target: Session, code: ErrorCodeName, messageId: number): void {
    this.errors.push({ to: target.label, code, messageId });
  }
  resend(target: Session, bytes: Uint8Array): void {
    const r = decodeFrame(bytes);
    if (!r.ok || r.frame.type !== 'data') throw new Error('custody re-sent something else');
    this.resent.push({ to: target.label, frame: r.frame });
  }
  ready(target: Session): boolean {
    return !(target as unknown as FakeSession).busy;
  }

  held(): AckRange[][] {
    return this.control.flatMap((c) => (c.frame.type === 'held' ? [c.frame.ranges] : []));
  }
}

let dir: string;
let store: RelayStore;
let relay: FakeRelay;
let metrics: Metrics;
let clock: number;
let custody: Custody;
/** Whether the test started a store and custody (toRanges needs neither). */
let active = false;

function start(limits: Partial<StoreLimits> = {}, holdDelayMs = 0): void {
  store = new RelayStore(dir, { ...ROOMY, ...limits });
  relay = new FakeRelay();
  metrics = new Metrics();
  custody = new Custody(store, relay, createLogger('error'), metrics, {
    tickMs: 0,
    holdDelayMs,
    now: () => clock,
  });
  custody.start();
  active = true;
}

function data(
  from: Session,
  to: string,
  messageId: number,
  index = 0,
  count = 1,
  transmission = messageId * 100 + index,
  payload = new Uint8Array(10).fill(index),
): [DataFrame, Uint8Array] {
  const frame: DataFrame = {
    type: 'data',
    from: from.user,
    fromDevice: from.device,
    to,
    toDevice: 0,
    messageId,
    transmission,
    segmentCount: count,
    segmentIndex: index,
    payload,
  };
  return [frame, encodeFrame(frame)];
}

function send(from: Session, to: string, messageId: number, segments = 1): void {
  for (let i = 0; i < segments; i++) custody.take(from, ...data(from, to, messageId, i, segments));
}

/** An ack from `from` (device 1) to device `toDevice` of `to` passes the relay. */
function passAck(from: string, to: string, toDevice: number, ranges: AckRange[]): void {
  custody.onAck({ type: 'ack', from, fromDevice: 1, to, toDevice, ackDelayMicros: 0, ranges });
}

/** The same, and custody commits and applies it at once. */
function ack(from: string, to: string, toDevice: number, ranges: AckRange[]): void {
  passAck(from, to, toDevice, ranges);
  custody.flush();
}

/** Advances the clock and runs the rounds then due; returns the segments re-sent. */
function advance(ms: number): [number, number][] {
  const before = relay.resent.length;
  clock += ms;
  custody.tick();
  return relay.resent.slice(before).map((r) => [r.frame.messageId, r.frame.segmentIndex]);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-custody-test-'));
  clock = 1_000_000;
});

afterEach(async () => {
  if (active) {
    custody.close();
    await store.close();
  }
  active = false;
  rmSync(dir, { recursive: true, force: true });
});

describe('toRanges', () => {
  it('turns numbers into descending, disjoint, non-adjacent ranges', () => {
    expect(toRanges([])).toEqual([]);
    expect(toRanges([5])).toEqual([[5, 5]]);
    expect(toRanges([3, 1, 2, 2, 7, 9, 8, 0, 11])).toEqual([
      [11, 11],
      [7, 9],
      [0, 3],
    ]);
  });
});

describe('taking custody', () => {
  it('commits at the end of the turn and answers with one held frame per sender', async () => {
    start();
    const alice = relay.connect('alice', 1);
    const carol = relay.connect('carol', 2);
    send(alice, 'bob', 1, 3);
    send(carol, 'bob', 2);
    expect(store.custodyFrames).toBe(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(store.custodyFrames).toBe(4);
    expect(relay.control).toEqual([
      {
        to: 'alice/1',
        frame: {
          type: 'held',
          from: '',
          fromDevice: 0,
          to: 'alice',
          toDevice: 1,
          ackDelayMicros: 0,
          ranges: [[100, 102]],
        },
      },
      {
        to: 'carol/2',
        frame: expect.objectContaining({ type: 'held', to: 'carol', ranges: [[200, 200]] }),
      },
    ]);
    expect(metrics.value('custody_held')).toBe(4);
    expect(metrics.value('custody_frames')).toBe(4);
  });

  it('answers in ranges an ack frame can carry', () => {
    start();
    const alice = relay.connect('alice', 1);
    // 256 transmissions with gaps between them: 256 ranges, the most one frame carries.
    for (let i = 0; i < 256; i++) custody.take(alice, ...data(alice, 'bob', 1, i, 256, 2 * i));
    custody.flush();
    expect(store.custodyFrames).toBe(256);
    const held = relay.held();
    expect(held).toHaveLength(1);
    expect(held[0]).toHaveLength(MAX_ACK_RANGES);
    expect(held[0]![0]).toEqual([510, 510]);
  });

  it('answers a reconnected device on its new connection, and nobody when it is gone', () => {
    start();
    const first = relay.connect('alice', 1);
    send(first, 'bob', 1);
    relay.disconnect(first);
    const second = relay.connect('alice', 1);
    custody.flush();
    expect(relay.control.map((c) => c.to)).toEqual(['alice/1']);
    expect(relay.control[0]!.frame).toMatchObject({ to: 'alice', toDevice: 1 });
    relay.disconnect(second);
    send(second, 'bob', 2);
    custody.flush();
    expect(relay.control).toHaveLength(1);
    // Held all the same.
    expect(store.custodyFrames).toBe(2);
  });

  it('refuses over quota with one error per message, and holds the rest', () => {
    start({ maxFramesPerUser: 2 });
    const alice = relay.connect('alice', 1);
    send(alice, 'bob', 1, 2);
    send(alice, 'bob', 2, 3);
    send(alice, 'carol', 3);
    custody.flush();
    expect(relay.errors).toEqual([{ to: 'alice/1', code: 'quotaExceeded', messageId: 2 }]);
    expect(relay.held()).toEqual([
      [
        [300, 300],
        [100, 101],
      ],
    ]);
    expect(metrics.json().custody_refused).toEqual({ 'user-quota': 3 });
  });

  it('on a full disk answers every message with a transient storeUnavailable and sends no held frame', () => {
    start();
    const alice = relay.connect('alice', 1);
    const db = (store as unknown as { db: Database.Database }).db;
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 2}`);
    for (let m = 1; m <= 3; m++) {
      for (let i = 0; i < 10; i++) {
        custody.take(alice, ...data(alice, 'bob', m, i, 10, m * 100 + i, new Uint8Array(4000)));
      }
    }
    custody.flush();
    expect(relay.held()).toEqual([]);
    expect(relay.errors.map((e) => [e.code, e.messageId])).toEqual([
      ['storeUnavailable', 1],
      ['storeUnavailable', 2],
      ['storeUnavailable', 3],
    ]);
    expect(store.custodyFrames).toBe(0);
    expect(metrics.json().custody_refused).toEqual({ 'store-error': 30 });
  });

  it('commits what is pending when closed, and takes nothing after', () => {
    start();
    const alice = relay.connect('alice', 1);
    send(alice, 'bob', 1);
    custody.close();
    expect(store.custodyFrames).toBe(1);
    expect(relay.held()).toEqual([[[100, 100]]]);
    send(alice, 'bob', 2);
    custody.flush();
    expect(store.custodyFrames).toBe(1);
  });
});

describe('waiting for the acknowledgement first', () => {
  const DELAY = 250;

  it('never writes frames the recipient acknowledged in time, and holds the rest after the delay', () => {
    start({}, DELAY);
    const alice = relay.connect('alice', 1);
    relay.connect('bob', 1);
    send(alice, 'bob', 1, 3);
    // Segment 1 went twice (transmissions 101 and 150); the ack names the first copy only.
    custody.take(alice, ...data(alice, 'bob', 1, 1, 3, 150));
    custody.flush(false);
    expect(store.custodyFrames).toBe(0);
    passAck('bob', 'alice', 1, [[100, 101]]);
    clock += DELAY - 1;
    custody.flush(false);
    expect(store.custodyFrames).toBe(0);
    clock += 1;
    custody.flush(false);
    expect(store.unackedFor('alice', 1, 'bob', 10).map((h) => h.segmentIndex)).toEqual([2]);
    expect(relay.held()).toEqual([[[102, 102]]]);
    expect(metrics.value('custody_spared')).toBe(2);
    expect(metrics.value('custody_held')).toBe(1);
  });

  it('an ack of a spared copy also settles the copy of the same segment written before', () => {
    start({}, DELAY);
    const alice = relay.connect('alice', 1);
    send(alice, 'bob', 1);
    clock += DELAY;
    custody.flush(false);
    expect(store.unackedFor('alice', 1, 'bob', 10)).toHaveLength(1);
    // The first copy was lost on its way; the retransmission is acknowledged in time.
    custody.take(alice, ...data(alice, 'bob', 1, 0, 1, 150));
    passAck('bob', 'alice', 1, [[150, 150]]);
    custody.flush(false);
    expect(store.unackedFor('alice', 1, 'bob', 10)).toEqual([]);
    expect(store.custodyFrames).toBe(1);
    // Its bytes no longer count against bob's quota.
    expect(metrics.value('custody_bytes')).toBe(0);
  });

  it('a late retransmission of a segment already acknowledged is not written again and costs no quota', () => {
    start();
    const alice = relay.connect('alice', 1);
    relay.connect('bob', 1);
    custody.take(alice, ...data(alice, 'bob', 1, 0, 2, 100, new Uint8Array(1000)));
    custody.take(alice, ...data(alice, 'bob', 1, 1, 2, 101, new Uint8Array(1000)));
    custody.flush();
    ack('bob', 'alice', 1, [[100, 100]]);
    expect(metrics.value('custody_bytes')).toBeGreaterThan(1000);
    const before = metrics.value('custody_bytes');
    // A retransmission of segment 0 sent before the ack came back arrives after it.
    custody.take(alice, ...data(alice, 'bob', 1, 0, 2, 150, new Uint8Array(1000)));
    custody.flush();
    expect(metrics.value('custody_bytes')).toBe(before);
    expect(store.unackedFor('alice', 1, 'bob', 10).map((h) => h.segmentIndex)).toEqual([1]);
    // Its bytes are not on disk either: releasing the message frees exactly what was counted.
    const db = (store as unknown as { db: Database.Database }).db;
    const onDisk = db.prepare('SELECT sum(length(frame)) AS n FROM custody').get() as {
      n: number;
    };
    expect(onDisk.n).toBe(before);
  });

  it('an ack from someone else, or to every device, spares nothing', () => {
    start({}, DELAY);
    const alice = relay.connect('alice', 1);
    send(alice, 'bob', 1, 2);
    passAck('carol', 'alice', 1, [[100, 101]]);
    passAck('bob', 'alice', 0, [[100, 101]]);
    clock += DELAY;
    custody.flush(false);
    expect(store.custodyFrames).toBe(2);
  });

  it('a delivered receipt spares the waiting frames of its messages', () => {
    start({}, DELAY);
    const alice = relay.connect('alice', 1);
    send(alice, 'bob', 1, 2);
    send(alice, 'bob', 2);
    custody.onReceipt({
      type: 'receipt',
      from: 'bob',
      fromDevice: 1,
      to: 'alice',
      toDevice: 0,
      kind: 'delivered',
      messageDevice: 1,
      messageIds: [1],
    });
    custody.flush();
    expect(store.unackedFor('alice', 1, 'bob', 10).map((h) => h.messageId)).toEqual([2]);
  });

  it('writes on its own once the delay has passed, oldest first', async () => {
    start({}, DELAY);
    const alice = relay.connect('alice', 1);
    send(alice, 'bob', 1);
    const held = new Promise<void>((resolve) => {
      const push = relay.control.push.bind(relay.control);
      relay.control.push = (...items) => {
        const n = push(...items);
        resolve();
        return n;
      };
    });
    // The turn ends with nothing due: the frame waits for its timer.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(store.custodyFrames).toBe(0);
    clock += DELAY;
    await held;
    expect(relay.held()).toEqual([[[100, 100]]]);
    expect(store.custodyFrames).toBe(1);
  });

  it(`writes at once what waits beyond ${PENDING_FRAMES} frames, oldest first`, async () => {
    start({}, DELAY);
    const alice = relay.connect('alice', 1);
    for (let i = 0; i < PENDING_FRAMES + 3; i++) {
      custody.take(alice, ...data(alice, 'bob', 1, i, PENDING_FRAMES + 3, i));
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(relay.held()).toEqual([[[0, 2]]]);
    expect(store.custodyFrames).toBe(3);
  });

  it('writes a frame for a recipient who is away at the end of the turn: no ack can come soon', async () => {
    start({}, DELAY);
    const alice = relay.connect('alice', 1);
    custody.take(alice, ...data(alice, 'bob', 1, 0, 2), false);
    custody.take(alice, ...data(alice, 'bob', 1, 1, 2));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(relay.held()).toEqual([[[100, 100]]]);
    expect(store.custodyFrames).toBe(1);
  });

  it('commits everything waiting when closed', () => {
    start({}, DELAY);
    const alice = relay.connect('alice', 1);
    send(alice, 'bob', 1, 2);
    custody.close();
    expect(store.custodyFrames).toBe(2);
  });
});

describe('acks and receipts', () => {
  it('an ack to the sending device marks frames; an ack to every device marks none', () => {
    start();
    const alice = relay.connect('alice', 1);
    relay.connect('bob', 1);
    send(alice, 'bob', 1, 3);
    custody.flush();
    ack('bob', 'alice', 0, [[100, 102]]);
    expect(store.unackedFor('alice', 1, 'bob', 10)).toHaveLength(3);
    ack('bob', 'alice', 1, [[101, 101]]);
    expect(store.unackedFor('alice', 1, 'bob', 10).map((h) => h.segmentIndex)).toEqual([0, 2]);
    // Someone else's ack names nothing of bob's.
    ack('carol', 'alice', 1, [[100, 102]]);
    expect(store.unackedFor('alice', 1, 'bob', 10)).toHaveLength(2);
  });

  it('copies of a message delivered while its sender was away leave no custody behind', () => {
    start();
    const alice = relay.connect('alice', 1);
    send(alice, 'bob', 1, 2);
    custody.flush();
    expect(store.custodyFrames).toBe(2);
    relay.disconnect(alice);
    // bob takes the message from custody and says it is delivered; alice is away.
    relay.connect('bob', 1);
    custody.onReceipt({
      type: 'receipt',
      from: 'bob',
      fromDevice: 1,
      to: 'alice',
      toDevice: 1,
      kind: 'delivered',
      messageDevice: 1,
      messageIds: [1],
    });
    custody.flush();
    expect(store.custodyFrames).toBe(0);
    // Restarted before hearing so, alice sends the message again; bob acknowledges the copies.
    const again = relay.connect('alice', 1);
    custody.take(again, ...data(again, 'bob', 1, 0, 2, 500), false);
    custody.take(again, ...data(again, 'bob', 1, 1, 2, 501), false);
    custody.flush();
    ack('bob', 'alice', 1, [[500, 501]]);
    expect(store.custodyFrames).toBe(0);
    expect(metrics.value('custody_frames')).toBe(0);
    // A message not yet delivered is held as before.
    send(again, 'bob', 2);
    custody.flush();
    expect(store.custodyFrames).toBe(1);
  });

  it('a delivered, cancelled or refused receipt releases the message; a read receipt does not', () => {
    start();
    const alice = relay.connect('alice', 1);
    send(alice, 'bob', 1, 3);
    send(alice, 'bob', 2);
    custody.flush();
    const receipt = (kind: ReceiptKind, ids: number[]) =>
      custody.onReceipt({
        type: 'receipt',
        from: 'bob',
        fromDevice: 1,
        to: 'alice',
        toDevice: 0,
        kind,
        messageDevice: 1,
        messageIds: ids,
      });
    receipt('read', [1]);
    custody.flush();
    expect(store.custodyFrames).toBe(4);
    receipt('delivered', [1]);
    custody.flush();
    expect(store.custodyFrames).toBe(1);
    expect(metrics.value('custody_released')).toBe(3);
    // A message its recipient cancelled or refused is owed no more either.
    send(alice, 'bob', 3);
    send(alice, 'bob', 4);
    custody.flush();
    receipt('cancelled', [3]);
    receipt('refused', [4]);
    custody.flush();
    expect(store.custodyFrames).toBe(1);
  });

  it("a sender's withdrawn receipt releases its own message; paused and resumed release nothing", () => {
    start();
    const alice = relay.connect('alice', 1);
    const bob = relay.connect('bob', 1);
    send(alice, 'bob', 5, 2);
    // Bob's message to alice with the same id and device: a sender's receipt must not touch it.
    send(bob, 'alice', 5);
    custody.flush();
    const fromAlice = (kind: ReceiptKind) =>
      custody.onReceipt({
        type: 'receipt',
        from: 'alice',
        fromDevice: 1,
        to: 'bob',
        toDevice: 0,
        kind,
        messageDevice: 1,
        messageIds: [5],
      });
    fromAlice('paused');
    fromAlice('resumed');
    custody.flush();
    expect(store.custodyFrames).toBe(3);
    fromAlice('withdrawn');
    custody.flush();
    expect(store.unackedFor('alice', 1, 'bob', 10)).toHaveLength(0);
    expect(store.unackedFor('bob', 1, 'alice', 10)).toHaveLength(1);
  });
});

describe('retransmission by the relay', () => {
  it('waits while the sender is connected, then re-sends with exponential backoff', () => {
    start();
    const alice = relay.connect('alice', 1);
    relay.connect('bob', 1);
    send(alice, 'bob', 2, 2);
    send(alice, 'bob', 1);
    custody.flush();
    expect(advance(60_000)).toEqual([]);
    relay.disconnect(alice);
    // The first round one interval after the sender left; message and segment order.
    expect(advance(RETRY_MS - 1)).toEqual([]);
    expect(advance(1)).toEqual([
      [1, 0],
      [2, 0],
      [2, 1],
    ]);
    const gaps: number[] = [];
    let since = 0;
    for (let t = 0; t < 200_000; t += 100) {
      since += 100;
      if (advance(100).length > 0) {
        gaps.push(since);
        since = 0;
      }
    }
    expect(gaps.slice(0, 6)).toEqual([2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(metrics.value('custody_retransmitted')).toBe(3 * (gaps.length + 1));
  });

  it('re-sends only what is not acknowledged, resets the backoff on progress, stops when all is', () => {
    start();
    const alice = relay.connect('alice', 1);
    relay.connect('bob', 1);
    send(alice, 'bob', 1, 4);
    custody.flush();
    relay.disconnect(alice);
    ack('bob', 'alice', 1, [
      [102, 102],
      [100, 100],
    ]);
    expect(advance(RETRY_MS)).toEqual([
      [1, 1],
      [1, 3],
    ]);
    // Next round in 2 s, unless the recipient makes progress.
    expect(advance(RETRY_MS)).toEqual([]);
    ack('bob', 'alice', 1, [[101, 101]]);
    expect(advance(RETRY_MS)).toEqual([[1, 3]]);
    ack('bob', 'alice', 1, [[103, 103]]);
    expect(metrics.value('custody_retrying')).toBe(0);
    expect(advance(60_000)).toEqual([]);
  });

  it('stops as soon as the sender reconnects', () => {
    start();
    const alice = relay.connect('alice', 1);
    relay.connect('bob', 1);
    send(alice, 'bob', 1);
    custody.flush();
    relay.disconnect(alice);
    expect(advance(RETRY_MS)).toHaveLength(1);
    relay.connect('alice', 1);
    expect(advance(60_000)).toEqual([]);
  });

  it('waits for the recipient, and for a recipient that is busy', () => {
    start();
    const alice = relay.connect('alice', 1);
    send(alice, 'bob', 1);
    custody.flush();
    relay.disconnect(alice);
    expect(advance(60_000)).toEqual([]);
    const bob = relay.connect('bob', 1) as unknown as FakeSession;
    bob.busy = true;
    expect(advance(RETRY_MS)).toEqual([]);
    bob.busy = false;
    // A blocked round does not grow the backoff.
    expect(advance(RETRY_MS)).toEqual([[1, 0]]);
  });

  it('sends to every connected device of the recipient the frame was for', () => {
    start();
    const alice = relay.connect('alice', 1);
    relay.connect('bob', 1);
    relay.connect('bob', 2);
    const [toAll, allBytes] = data(alice, 'bob', 1);
    custody.take(alice, toAll, allBytes);
    const [toTwo, twoBytes] = data(alice, 'bob', 2);
    const only2 = { ...toTwo, toDevice: 2 };
    custody.take(alice, only2, encodeFrame(only2));
    custody.flush();
    relay.disconnect(alice);
    advance(RETRY_MS);
    expect(relay.resent.map((r) => [r.to, r.frame.messageId])).toEqual([
      ['bob/1', 1],
      ['bob/2', 1],
      ['bob/2', 2],
    ]);
    expect(twoBytes.length).toBeGreaterThan(0);
  });

  it(`re-sends at most ${ROUND_FRAMES} frames per round, oldest first`, () => {
    start();
    const alice = relay.connect('alice', 1);
    relay.connect('bob', 1);
    for (let i = 0; i < ROUND_FRAMES + 10; i++) {
      custody.take(alice, ...data(alice, 'bob', 1, i, ROUND_FRAMES + 10));
    }
    custody.flush();
    relay.disconnect(alice);
    const round = advance(RETRY_MS);
    expect(round).toHaveLength(ROUND_FRAMES);
    expect(round.at(-1)).toEqual([1, ROUND_FRAMES - 1]);
  });

  it('picks up custody left by a previous run', () => {
    start();
    const alice = relay.connect('alice', 1);
    send(alice, 'bob', 1);
    custody.close();
    store.close();
    start();
    relay.connect('bob', 1);
    expect(advance(RETRY_MS)).toEqual([[1, 0]]);
  });
});
