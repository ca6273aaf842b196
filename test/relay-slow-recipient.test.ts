// A recipient that stops reading must not stall its senders' other conversations: frames
// for it go to the relay's store once it is a send buffer behind, and the sender is read on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, bytesOf } from './helpers/client.ts';
import { startRelay, type RelayProcess } from './helpers/relay-process.ts';

const SEND_BUFFER = 256 * 1024;
const FRAME = new Uint8Array(60_000).fill(7);
/** Past what the loopback's socket buffers between the relay and bob take (about 10 MB). */
const FILL_FRAMES = 320;
const ROUNDS = 9;
const FRAMES_PER_ROUND = 4;

let relay: RelayProcess;
beforeAll(async () => {
  relay = await startRelay(['--send-buffer-bytes', String(SEND_BUFFER)]);
});
afterAll(async () => {
  await relay.stop();
});

type RawSocket = { _socket: { pause(): void; resume(): void } };

/** Resolves with `p`'s value, or with `fallback` once `ms` have passed (a bound, not a wait). */
function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms))),
  ]);
}

async function stat(name: string): Promise<number> {
  return (await relay.stats())[name] as number;
}

describe('a recipient that stops reading', () => {
  it('does not delay another conversation of the same sender by more than 100 ms', async () => {
    const bob = await TestClient.connect(relay.url, 'bob', 1);
    const carol = await TestClient.connect(relay.url, 'carol', 1);
    const alice = await TestClient.connect(relay.url, 'alice', 1);
    // bob's socket stops reading: the kernel's buffers fill, then the relay's send buffer.
    (bob.ws as unknown as RawSocket)._socket.pause();
    let next = 1;
    for (let i = 0; i < FILL_FRAMES; i++) alice.send(alice.data('bob', next++, FRAME));
    // The relay reads all of it (a ping answered after the flood), however far bob is behind.
    expect(
      await within(
        alice.flushed().then(() => 'read'),
        30_000,
        'alice was not read',
      ),
    ).toBe('read');
    const latencies: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < FRAMES_PER_ROUND; i++) alice.send(alice.data('bob', next++, FRAME));
      const id = 100_000 + round;
      const t0 = performance.now();
      alice.send(alice.data('carol', id, bytesOf(`round ${round}`)));
      const arrived = carol.waitFor((f) => f.type === 'data' && f.messageId === id);
      latencies.push(
        await within(
          arrived.then(() => performance.now() - t0),
          10_000,
          Infinity,
        ),
      );
    }
    latencies.sort((a, b) => a - b);
    const median = latencies[Math.floor(ROUNDS / 2)]!;
    const shown = latencies.map((l) => l.toFixed(1)).join(' ');
    console.log(`alice -> carol behind a non-reading bob: ${shown} ms`);
    expect(median).toBeLessThan(100);
    // Memory stays bounded: a few send buffers for bob in the relay, the rest in its store.
    expect(await stat('pending_bytes_max')).toBeLessThanOrEqual(4 * SEND_BUFFER);
    expect(await stat('slow_recipient_backlogs')).toBeGreaterThanOrEqual(1);
    // Nothing is lost: once bob reads again, every frame arrives, in order.
    (bob.ws as unknown as RawSocket)._socket.resume();
    await bob.until(() => bob.dataFrames().length === next - 1, 'every frame for bob');
    expect(bob.dataFrames().map((f) => f.messageId)).toEqual(
      Array.from({ length: next - 1 }, (_, i) => i + 1),
    );
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  });
});
