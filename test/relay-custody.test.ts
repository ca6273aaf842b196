// Custody: a `held` frame promises that the relay holds a data frame durably, and the relay
// finishes the delivery itself once the sender is gone.
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../relay/log.ts';
import { defaultOptions } from '../relay/options.ts';
import { Relay } from '../relay/relay.ts';
import { decodeFrame, type DataFrame, type Frame } from '../src/shared/protocol/index.ts';
import { seededRandom } from '../src/shared/random.ts';
import { TestClient, bytesOf } from './helpers/client.ts';
import { TestEngine } from './helpers/engine.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';
import { heldFrame } from '../src/shared/protocol/testing.ts';

const running: RelayProcess[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const r of running.splice(0)) await r.stop('SIGKILL');
});

async function relayOn(dataDir: string, args: string[] = []): Promise<RelayProcess> {
  const r = await startRelay(args, { dataDir });
  running.push(r);
  return r;
}
async function connect(r: RelayProcess, user: string, device: number): Promise<TestClient> {
  const c = await TestClient.connect(r.url, user, device);
  clients.push(c);
  return c;
}

/** Every transmission number the relay has said it holds for `c`. */
function heldBy(c: TestClient): Set<number> {
  const out = new Set<number>();
  for (const f of c.frames()) {
    if (f.type !== 'held') continue;
    for (const [low, high] of f.ranges) for (let n = low; n <= high; n++) out.add(n);
  }
  return out;
}

function errors(c: TestClient): (Frame & { type: 'error' })[] {
  return c.frames().filter((f): f is Frame & { type: 'error' } => f.type === 'error');
}

function from(c: TestClient, user: string): DataFrame[] {
  return c.dataFrames().filter((f) => f.from === user);
}

function count(stats: Record<string, unknown>, name: string): number {
  const v = stats[name];
  return typeof v === 'number' ? v : 0;
}

/**
 * The recipient's side of the transport, reduced to what custody needs: ack every data frame.
 * Returns the transmissions acknowledged so far.
 */
function ackEverything(c: TestClient): Set<number> {
  const acked = new Set<number>();
  c.ws.on('message', (data: Buffer) => {
    const r = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (!r.ok || r.frame.type !== 'data') return;
    const f = r.frame;
    c.send({
      type: 'ack',
      from: c.user,
      fromDevice: c.device,
      to: f.from,
      toDevice: f.fromDevice,
      ackDelayMicros: 0,
      ranges: [[f.transmission, f.transmission]],
    });
    acked.add(f.transmission);
  });
  return acked;
}

describe('held', () => {
  it('comes back for a data frame only once it is durable: it survives SIGKILL right after', async () => {
    const dir = tempDir();
    // The channel loses every frame: only custody can still deliver this one.
    const first = await relayOn(dir, ['--loss', '1']);
    const bob = await connect(first, 'bob', 1);
    const alice = await connect(first, 'alice', 1);
    const payload = bytesOf('kept through a crash');
    alice.send(alice.data('bob', 42, payload));
    const held = await alice.waitFor((f) => f.type === 'held');
    await first.stop('SIGKILL');
    expect(held).toEqual(heldFrame([[42_000, 42_000]]));
    expect(bob.dataFrames()).toHaveLength(0);

    const second = await relayOn(dir);
    expect(count(await second.stats(), 'custody_frames')).toBe(1);
    // The sender never comes back; the recipient connects and gets the frame from custody.
    const bobAgain = await connect(second, 'bob', 1);
    expect(bobAgain.welcome.queued).toBe(0);
    const got = await bobAgain.waitFor((f) => f.type === 'data');
    expect(got).toMatchObject({
      from: 'alice',
      fromDevice: 1,
      to: 'bob',
      messageId: 42,
      transmission: 42_000,
      payload,
    });
    expect(count(await second.stats(), 'custody_retransmitted')).toBeGreaterThanOrEqual(1);
  });

  it('lists every transmission of a burst, in ranges', async () => {
    const r = await relayOn(tempDir());
    await connect(r, 'bob', 1);
    const alice = await connect(r, 'alice', 1);
    for (let i = 0; i < 300; i++) alice.send(alice.data('bob', 9, bytesOf(`s${i}`), i, 300));
    await alice.until(() => heldBy(alice).size === 300, 'held for all 300');
    expect([...heldBy(alice)].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 300 }, (_, i) => 9000 + i),
    );
    expect(count(await r.stats(), 'custody_held')).toBe(300);
  });

  it('may not be sent by a client', async () => {
    const r = await relayOn(tempDir());
    const alice = await connect(r, 'alice', 1);
    alice.send(heldFrame([[1, 1]]));
    const error = await alice.waitFor((f) => f.type === 'error');
    expect(error).toMatchObject({ code: 'notAllowed' });
  });
});

describe('relay retransmission', () => {
  it('gets a 20-segment message through a channel losing 30% after the sender has gone', async () => {
    const r = await relayOn(tempDir());
    const bob = await connect(r, 'bob', 1);
    const alice = await connect(r, 'alice', 1);
    await r.admin({ loss: 0.3, seed: 20 });
    const N = 20;
    const id = 7_000;
    const rand = seededRandom(5);
    const segments = Array.from({ length: N }, () =>
      Uint8Array.from({ length: 1000 }, () => (rand() * 256) | 0),
    );

    // Bob acks every data frame; he says `delivered` once he has every segment.
    const acked = ackEverything(bob);
    const got = () => new Map(from(bob, 'alice').map((f) => [f.segmentIndex, f.payload]));

    segments.forEach((payload, i) => alice.send(alice.data('bob', id, payload, i, N)));
    // What bob acknowledges within the relay's hold delay it never writes (that ack may be
    // lost on its way to alice; her transport would send the segment again). The rest it
    // holds. Alice leaves once each segment is one or the other.
    const settled = () =>
      segments.every((_, i) => heldBy(alice).has(id * 1000 + i) || acked.has(id * 1000 + i));
    await alice.until(settled, 'held or acknowledged, every segment');
    await alice.close();

    await bob.until(() => got().size === N, 'every segment');
    for (let i = 0; i < N; i++) expect(got().get(i), `segment ${i}`).toEqual(segments[i]);
    bob.send({
      type: 'receipt',
      from: 'bob',
      fromDevice: 1,
      to: 'alice',
      toDevice: 0,
      kind: 'delivered',
      messageDevice: 1,
      messageIds: [id],
    });
    // The channel did lose some, and the relay made up for them.
    await bob.flushed();
    const stats = await r.stats();
    expect(count(stats, 'channel_lost')).toBeGreaterThan(0);
    expect(count(stats, 'custody_retransmitted')).toBeGreaterThan(0);
    // Each segment was either spared by bob's ack or written; the receipt released the rest.
    expect(count(stats, 'custody_held') + count(stats, 'custody_spared')).toBe(N);
    expect(count(stats, 'custody_released')).toBe(count(stats, 'custody_held'));
    expect(count(stats, 'custody_frames')).toBe(0);
  });

  it('does not re-send while the sender is connected', async () => {
    const r = await relayOn(tempDir(), ['--loss', '1']);
    const bob = await connect(r, 'bob', 1);
    const alice = await connect(r, 'alice', 1);
    const carol = await connect(r, 'carol', 1);
    alice.send(alice.data('bob', 1, bytesOf('from alice, who stays')));
    carol.send(carol.data('bob', 2, bytesOf('from carol, who leaves')));
    await alice.until(() => heldBy(alice).has(1000));
    await carol.until(() => heldBy(carol).has(2000));
    await r.admin({ loss: 0 });
    await carol.close();
    // Bob does not ack, so carol's frame comes again each round: wait for two rounds.
    await bob.until(() => from(bob, 'carol').length >= 2, 'two rounds for carol');
    expect(from(bob, 'alice')).toHaveLength(0);
    await bob.flushed();
    expect(count(await r.stats(), 'custody_retransmitted')).toBe(from(bob, 'carol').length);
  });

  it('does not re-send what the recipient acknowledged', async () => {
    const r = await relayOn(tempDir(), ['--loss', '1']);
    const bob = await connect(r, 'bob', 1);
    const alice = await connect(r, 'alice', 1);
    for (let i = 0; i < 4; i++) alice.send(alice.data('bob', 5, bytesOf(`segment ${i}`), i, 4));
    await alice.until(() => heldBy(alice).size === 4);
    // Bob acknowledges segments 0 and 2 (transmissions 5000 and 5002).
    bob.send({
      type: 'ack',
      from: 'bob',
      fromDevice: 1,
      to: 'alice',
      toDevice: 1,
      ackDelayMicros: 0,
      ranges: [
        [5002, 5002],
        [5000, 5000],
      ],
    });
    await bob.flushed();
    await r.admin({ loss: 0 });
    await alice.close();
    const times = (index: number) =>
      from(bob, 'alice').filter((f) => f.segmentIndex === index).length;
    await bob.until(() => times(1) >= 2 && times(3) >= 2, 'two rounds');
    expect(times(0)).toBe(0);
    expect(times(2)).toBe(0);
    // In message and segment order.
    expect(
      from(bob, 'alice')
        .slice(0, 2)
        .map((f) => f.segmentIndex),
    ).toEqual([1, 3]);
  });
});

describe('a full store', () => {
  it('refuses custody with an error frame and no held, and still delivers', async () => {
    const r = await relayOn(tempDir(), ['--store-max-bytes', '1024']);
    const bob = await connect(r, 'bob', 1);
    const alice = await connect(r, 'alice', 1);
    alice.send(alice.data('bob', 10, new Uint8Array(2000).fill(1)));
    alice.send(alice.data('bob', 11, bytesOf('small enough')));
    await alice.until(() => heldBy(alice).has(11_000), 'held for the small one');
    await alice.until(() => errors(alice).length === 1, 'the refusal');
    expect(errors(alice)[0]).toMatchObject({ code: 'quotaExceeded', messageId: 10 });
    expect(heldBy(alice).has(10_000)).toBe(false);
    // Delivery does not wait for the disk, nor depend on it.
    await bob.until(() => bob.dataFrames().length === 2);
    const stats = await r.stats();
    expect(stats.custody_refused).toEqual({ 'user-quota': 1 });
    expect(count(stats, 'custody_frames')).toBe(1);
  });
});

describe('a transient disk error', () => {
  it('is reported as storeUnavailable, which the sender retries: the message is not failed and arrives', async () => {
    const relay = new Relay(
      { ...defaultOptions(), port: 0, dataDir: tempDir(), logLevel: 'error', summaryIntervalMs: 0 },
      createLogger('error'),
    );
    const { port } = await relay.listen();
    const url = `ws://127.0.0.1:${port}/`;
    const closing: (() => Promise<unknown>)[] = [() => relay.close()];
    try {
      // bob exists but is away: alice's message can only be stored.
      const bobDir = tempDir();
      const first = TestEngine.start(url, 'bob', { profileDir: bobDir });
      await first.online();
      await first.close();
      const alice = TestEngine.start(url, 'alice');
      closing.unshift(() => alice.close());
      await alice.online();
      // The disk fills: nothing more can be written until it has room again.
      const db = (relay.store as unknown as { db: Database.Database }).db;
      const roomy = db.pragma('max_page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
      const sent = alice.m.send('bob', 'x'.repeat(20_000));
      await alice.until(() => alice.events.some((e) => e.type === 'error'));
      const error = alice.events.find((e) => e.type === 'error');
      expect(error).toMatchObject({ code: 'storeUnavailable' });
      expect(alice.m.message(sent.key)?.status).toBe('pending');
      // Room again: the sender's retransmissions are taken and the message is delivered.
      db.pragma(`max_page_count = ${roomy}`);
      await alice.until(() => alice.m.message(sent.key)?.status === 'sent');
      const bob = TestEngine.start(url, 'bob', { profileDir: bobDir });
      closing.unshift(() => bob.close());
      await bob.until(() => bob.unread('alice') === 1);
      await alice.until(() => alice.m.message(sent.key)?.status === 'delivered');
    } finally {
      for (const c of closing) await c();
    }
  });
});

describe('a sender restarted after its messages were delivered', () => {
  it('does not send them again, and leaves no custody behind', async () => {
    const r = await relayOn(tempDir());
    const bobDir = tempDir();
    const first = TestEngine.start(r.url, 'bob', { profileDir: bobDir });
    await first.online();
    await first.close();
    const aliceDir = tempDir();
    const alice = TestEngine.start(r.url, 'alice', { profileDir: aliceDir });
    await alice.online();
    const texts = ['one', 'two', 'three'];
    const keys = texts.map((t) => alice.m.send('bob', t).key);
    await alice.until(() => keys.every((k) => alice.m.message(k)?.status === 'sent'));
    await alice.close();
    // bob gets them from the relay while alice is away; her receipts wait at the relay.
    const bob = TestEngine.start(r.url, 'bob', { profileDir: bobDir });
    try {
      await bob.until(() => bob.received('alice').length === 3);
      const again = TestEngine.start(r.url, 'alice', { profileDir: aliceDir });
      try {
        await again.until(() => keys.every((k) => again.m.message(k)?.status === 'delivered'));
        // Frames from alice reach bob in order: once this one is in, any copy sent before is too.
        again.m.send('bob', 'after');
        await bob.until(() => bob.received('alice').length === 4);
        expect(again.m.stats('bob').segmentsSent).toBe(1);
        expect(bob.m.stats('alice').duplicatesDropped).toBe(0);
        expect(count(await r.stats(), 'custody_frames')).toBe(0);
      } finally {
        await again.close();
      }
    } finally {
      await bob.close();
    }
  });
});
