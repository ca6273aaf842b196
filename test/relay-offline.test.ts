// Store and forward: frames for offline users survive relay restarts and arrive in order.
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient, bytesOf } from './helpers/client.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

const running: RelayProcess[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const r of running.splice(0)) await r.stop('SIGKILL');
});

async function relayOn(dataDir: string, args: string[] = [], port?: number): Promise<RelayProcess> {
  const r = await startRelay(args, port === undefined ? { dataDir } : { dataDir, port });
  running.push(r);
  return r;
}
async function connect(r: RelayProcess, user: string, device: number): Promise<TestClient> {
  const c = await TestClient.connect(r.url, user, device);
  clients.push(c);
  return c;
}

const N = 50;

describe.each(['SIGTERM', 'SIGKILL'] as const)(
  'offline delivery across a relay restart (%s)',
  (signal) => {
    it('delivers every held frame, in order, when the recipient connects to the restarted relay', async () => {
      const dir = tempDir();
      const first = await relayOn(dir);
      const bob = await connect(first, 'bob', 1);
      await bob.close();
      const alice = await connect(first, 'alice', 1);
      for (let i = 0; i < N; i++) alice.send(alice.data('bob', 1000 + i, bytesOf(`message ${i}`)));
      alice.send({
        type: 'receipt',
        from: 'alice',
        fromDevice: 1,
        to: 'bob',
        toDevice: 0,
        kind: 'read',
        messageDevice: 1,
        messageIds: [7],
      });
      // A sealed receipt is held like a clear one.
      const sealed = new Uint8Array([0xe2, 1, 9, 9]);
      alice.send({ type: 'sealed', from: 'alice', fromDevice: 1, to: 'bob', toDevice: 0, sealed });
      // Typing is transient: it is not held for offline users.
      alice.send(alice.typing('bob'));
      // A ping round trip after the frames proves the relay has processed them all.
      await alice.flushed();
      expect((await first.stats()).offline_frames).toBe(N + 2);
      await alice.close();
      await first.stop(signal);

      const second = await relayOn(dir);
      const bobAgain = await connect(second, 'bob', 1);
      expect(bobAgain.welcome.queued).toBe(N + 2);
      await bobAgain.until(
        () =>
          bobAgain.dataFrames().length === N &&
          bobAgain.frames().some((f) => f.type === 'receipt') &&
          bobAgain.frames().some((f) => f.type === 'sealed'),
      );
      expect(bobAgain.dataFrames().map((f) => f.messageId)).toEqual(
        Array.from({ length: N }, (_, i) => 1000 + i),
      );
      expect(new TextDecoder().decode(bobAgain.dataFrames()[N - 1]!.payload)).toBe(
        `message ${N - 1}`,
      );
      const held = bobAgain.frames().find((f) => f.type === 'sealed');
      expect(held?.type === 'sealed' && [...held.sealed]).toEqual([...sealed]);
      expect(bobAgain.frames().some((f) => f.type === 'typing')).toBe(false);
      // Delivered frames are forgotten: a second device connecting later gets none of them.
      const stats = await second.stats();
      expect(stats.offline_delivered).toBe(N + 2);
      expect(stats.offline_frames).toBe(0);
    });
  },
);

describe('store limits', () => {
  it('tells the sender when a recipient’s quota is full, and loses nothing it accepted', async () => {
    const r = await relayOn(tempDir(), ['--store-max-frames', '5']);
    await (await connect(r, 'bob', 1)).close();
    const alice = await connect(r, 'alice', 1);
    for (let i = 0; i < 8; i++) alice.send(alice.data('bob', 2000 + i, bytesOf(`m${i}`)));
    const refusals = () =>
      alice.frames().filter((f) => f.type === 'error' && f.code === 'quotaExceeded');
    await alice.until(() => refusals().length === 3);
    expect(refusals().map((f) => (f.type === 'error' ? f.messageId : 0))).toEqual([
      2005, 2006, 2007,
    ]);
    const bob = await connect(r, 'bob', 1);
    await bob.until(() => bob.dataFrames().length === 5);
    expect(bob.dataFrames().map((f) => f.messageId)).toEqual([2000, 2001, 2002, 2003, 2004]);
  });

  it('keeps live frames behind the stored ones while a device catches up', async () => {
    const r = await relayOn(tempDir());
    await (await connect(r, 'bob', 1)).close();
    const alice = await connect(r, 'alice', 1);
    const big = new Uint8Array(60_000).fill(7);
    for (let i = 0; i < 600; i++) alice.send(alice.data('bob', 3000 + i, big));
    await alice.flushed();
    const bob = await connect(r, 'bob', 1);
    // Sent while the relay is still handing bob the stored backlog (~36 MB).
    for (let i = 600; i < 620; i++) alice.send(alice.data('bob', 3000 + i, bytesOf(`live ${i}`)));
    await bob.until(() => bob.dataFrames().length === 620);
    expect(bob.dataFrames().map((f) => f.messageId)).toEqual(
      Array.from({ length: 620 }, (_, i) => 3000 + i),
    );
  });

  it('delivers a stored backlog larger than the send buffer without dropping any of it', async () => {
    const r = await relayOn(tempDir(), ['--send-buffer-bytes', '65536']);
    await (await connect(r, 'bob', 1)).close();
    const alice = await connect(r, 'alice', 1);
    const big = new Uint8Array(60_000).fill(3);
    for (let i = 0; i < 40; i++) alice.send(alice.data('bob', 4000 + i, big));
    await alice.flushed();
    const bob = await connect(r, 'bob', 1);
    await bob.until(() => bob.dataFrames().length === 40);
    expect(bob.dataFrames().map((f) => f.messageId)).toEqual(
      Array.from({ length: 40 }, (_, i) => 4000 + i),
    );
    const stats = await r.stats();
    expect(stats.offline_delivered).toBe(40);
    expect(stats.offline_frames).toBe(0);
  });
});
