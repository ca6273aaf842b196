// Message ids against a peer whose clock (or whose ids) run far ahead: its message still
// arrives and is shown, and our own messages keep sane send times and stay sendable, across
// a restart too (the clock is saved in the profile).
import { afterEach, describe, expect, it } from 'vitest';
import type { Frame } from '../src/shared/protocol/index.ts';
import { TestClient } from './helpers/client.ts';
import { SealingPeer } from './helpers/sealing-peer.ts';
import { TestEngine } from './helpers/engine.ts';
import { startRelay, tempDir } from './helpers/relay-process.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Five minutes: the largest step a peer's id may give our clock (MAX_CLOCK_OFFSET_MS). */
const MAX_OFFSET_MS = 5 * 60_000;

describe('a peer far in the future', () => {
  it('is shown, and our next messages still get sane send times and go out', async () => {
    const r = await startRelay();
    cleanup.push(() => r.stop('SIGKILL'));
    const profileDir = tempDir();
    let alice = TestEngine.start(r.url, 'alice', { profileDir });
    cleanup.push(() => alice.close());
    await alice.online();
    await alice.until(() => alice.m.account().keysPublished);
    const peer = SealingPeer.of(await TestClient.connect(r.url, 'bob', 2));
    const bob = peer.client;
    cleanup.push(() => peer.closeAll());
    await peer.publish();
    // An id at 2^53 - 1, the largest a frame can carry: the id after it cannot be encoded.
    const text = 'hello from the far future';
    const body = new Uint8Array([1, ...new TextEncoder().encode(text)]);
    const sealed = await peer.seal('alice', Number.MAX_SAFE_INTEGER, body);
    bob.send({
      ...bob.data('alice', Number.MAX_SAFE_INTEGER, sealed.wire),
      transmission: 1,
    } as Frame);
    await alice.until(() => alice.received('bob').some((v) => v.text === text));

    const sendSane = async (engine: TestEngine, reply: string) => {
      const before = Date.now();
      const sent = engine.m.send('bob', reply);
      expect(sent.sentAt).toBeGreaterThanOrEqual(before);
      expect(sent.sentAt).toBeLessThanOrEqual(Date.now() + MAX_OFFSET_MS);
      await engine.until(() => engine.m.message(sent.key)?.status === 'sent');
    };
    await sendSane(alice, 'a reply');
    await sendSane(alice, 'another reply');
    // The clock saved in the profile is bounded too.
    await alice.close();
    alice = TestEngine.start(r.url, 'alice', { profileDir });
    cleanup.push(() => alice.close());
    await alice.online();
    await sendSane(alice, 'after a restart');
  });
});
