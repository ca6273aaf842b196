// Transmission numbers with several active peers: each peer sees a sequence of its own, as
// the sender's loss detection and the receiver's ack policy assume (QUIC's packet number
// spaces). Against a stand-in for the relay connection and a fake clock.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DataFrame, Frame } from '../../shared/protocol/index.ts';
import { recordingLink } from './test-link.ts';
import { closeDatabase, openDatabase, type Db } from '../store/database.ts';
import { AckScheduler } from './ack-ranges.ts';
import { Transport } from './transport.ts';
import { heldFrame } from '../../shared/protocol/testing.ts';

const PEERS = ['bob', 'carol', 'dave'];

let db: Db;
let dir: string;
beforeEach(() => {
  vi.useFakeTimers();
  dir = mkdtempSync(join(tmpdir(), 'strata-peer-spaces-test-'));
  db = openDatabase(dir);
});
afterEach(() => {
  vi.useRealTimers();
  closeDatabase(db);
});

/**
 * A started transport for alice over a link that records what it sends and never answers.
 * The link starts offline: messages submitted then go out together, peers in turn, once
 * `goOnline` is called.
 */
function startTransport(sent: Frame[], database = db): Transport & { goOnline(): void } {
  let online = false;
  const link = recordingLink(sent, { online: () => online });
  const t = new Transport(
    database,
    link,
    { user: 'alice', device: 1 },
    { segmentSize: 1024, assemblyPeriodMs: 60_000, idleCycles: 3 },
    () => Date.now(),
  );
  t.start();
  return Object.assign(t, {
    goOnline: () => {
      online = true;
      t.onOnline();
    },
  });
}

const dataTo = (sent: Frame[], peer: string) =>
  sent.filter((f): f is DataFrame => f.type === 'data' && f.to === peer);

function ack(t: Transport, from: string, ranges: [number, number][]): void {
  t.onFrame({
    type: 'ack',
    from,
    fromDevice: 1,
    to: 'alice',
    toDevice: 1,
    ackDelayMicros: 0,
    ranges,
  });
}

describe('transmission numbers with several active peers', () => {
  it('number each peer’s frames in a sequence of its own, with no gaps', () => {
    const sent: Frame[] = [];
    const t = startTransport(sent);
    for (const [i, peer] of PEERS.entries()) t.submit(peer, i + 1, new Uint8Array(4 * 1024));
    t.goOnline();
    for (const peer of PEERS) {
      const numbers = dataTo(sent, peer).map((f) => f.transmission);
      expect(numbers).toHaveLength(4);
      for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBe(numbers[i - 1]! + 1);
    }
    t.close();
  });

  it('gives each peer’s receiver in-order arrivals: acks every second frame, none at once', () => {
    const sent: Frame[] = [];
    const t = startTransport(sent);
    // Interleaved: the pump takes the peers in turn.
    for (const [i, peer] of PEERS.entries()) t.submit(peer, i + 1, new Uint8Array(8 * 1024));
    t.goOnline();
    for (const peer of PEERS) {
      const receiver = new AckScheduler();
      const acksAfter: number[] = [];
      dataTo(sent, peer).forEach((f, i) => {
        if (!receiver.onReceived(f.transmission, i).ackNow) return;
        acksAfter.push(i + 1);
        receiver.takeAck(i);
      });
      expect(acksAfter).toEqual([2, 4, 6, 8]);
      expect(receiver.received.size).toBe(1);
    }
    t.close();
  });

  it('does not read reordering by one frame towards one peer as loss', () => {
    const sent: Frame[] = [];
    const t = startTransport(sent);
    for (const [i, peer] of PEERS.entries()) t.submit(peer, i + 1, new Uint8Array(2 * 1024));
    t.goOnline();
    const [first, second] = dataTo(sent, 'bob');
    // bob's two frames arrive swapped: the second is acknowledged first, alone, 40 ms on.
    vi.advanceTimersByTime(40);
    ack(t, 'bob', [[second!.transmission, second!.transmission]]);
    expect(dataTo(sent, 'bob')).toHaveLength(2);
    expect(t.stats('bob')).toMatchObject({ retransmissions: 0, lossRate: 0 });
    ack(t, 'bob', [[first!.transmission, second!.transmission]]);
    expect(dataTo(sent, 'bob')).toHaveLength(2);
    t.close();
  });

  it('matches the relay’s custody receipts to the right peer', () => {
    const sent: Frame[] = [];
    const t = startTransport(sent);
    for (const [i, peer] of PEERS.entries()) t.submit(peer, i + 1, new Uint8Array(1024));
    t.goOnline();
    const carol = dataTo(sent, 'carol')[0]!;
    t.onFrame(heldFrame([[carol.transmission, carol.transmission]]));
    const status = (id: number) =>
      (db.prepare('SELECT status FROM messages WHERE id = ?').get(id) as { status: string }).status;
    expect([status(1), status(2), status(3)]).toEqual(['pending', 'sent', 'pending']);
    t.close();
  });

  it('keeps each peer’s numbers growing across a restart', () => {
    const sent: Frame[] = [];
    let t = startTransport(sent);
    for (const [i, peer] of PEERS.entries()) t.submit(peer, i + 1, new Uint8Array(2 * 1024));
    t.goOnline();
    const before = new Map(
      PEERS.map((p) => [p, Math.max(...dataTo(sent, p).map((f) => f.transmission))]),
    );
    t.close();
    const again: Frame[] = [];
    t = startTransport(again);
    t.goOnline();
    for (const peer of PEERS) {
      const numbers = dataTo(again, peer).map((f) => f.transmission);
      expect(numbers.length).toBeGreaterThan(0);
      for (const n of numbers) expect(n).toBeGreaterThan(before.get(peer)!);
    }
    t.close();
  });
});
