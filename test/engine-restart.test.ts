// Restart safety: SIGKILL the sender, the receiver or the relay halfway through 200
// messages; after a restart every accepted message arrives exactly once, in send order.
import { afterEach, describe, expect, it } from 'vitest';
import { Messenger } from '../src/core/messenger.ts';
import { TestEngine } from './helpers/engine.ts';
import { EngineProcess } from './helpers/engine-process.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

const N = 200;
const texts = Array.from({ length: N }, (_, i) => `message ${i} ${'·'.repeat(200)}`);
/** Slow the channel so that "halfway" lasts long enough to aim at. */
const SLOW = ['--rate', '40000'];

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function relay(dataDir = tempDir(), port?: number): Promise<RelayProcess> {
  const r = await startRelay(SLOW, port === undefined ? { dataDir } : { dataDir, port });
  cleanup.push(() => r.stop('SIGKILL'));
  return r;
}

function engine(url: string, user: string, profileDir = tempDir()): TestEngine {
  const e = TestEngine.start(url, user, { profileDir });
  cleanup.push(() => e.close());
  return e;
}

function engineProcess(url: string, user: string, profileDir: string): EngineProcess {
  const p = new EngineProcess(profileDir, url, user);
  cleanup.push(() => p.kill());
  return p;
}

/** The conversation as stored in a profile, read after its process has gone. */
async function storedIncoming(profileDir: string, user: string, peer: string): Promise<string[]> {
  const m = Messenger.open({ profileDir, relayUrl: 'ws://127.0.0.1:9', user });
  const e = new TestEngine(m);
  const texts = e.received(peer).map((v) => v.text!);
  await m.close();
  return texts;
}

describe('SIGKILL halfway through 200 messages', () => {
  it('of the sender: the restarted sender finishes, nothing twice, in order', async () => {
    const r = await relay();
    const bob = engine(r.url, 'bob');
    await bob.online();
    const aliceDir = tempDir();
    const alice = engineProcess(r.url, 'alice', aliceDir);
    await alice.online();
    await alice.send('bob', texts);
    await bob.until(() => bob.unread('alice') >= N / 4);
    await alice.kill();
    expect(bob.unread('alice')).toBeLessThan(N);
    const again = engineProcess(r.url, 'alice', aliceDir);
    await bob.until(() => bob.unread('alice') === N);
    expect(bob.received('alice').map((v) => v.text)).toEqual(texts);
    await again.until(() =>
      again.events.some(
        (e) =>
          e.type === 'message' &&
          e.message.text === texts[N - 1] &&
          e.message.status === 'delivered',
      ),
    );
  });

  it('of the receiver: the restarted receiver has everything, nothing twice, in order', async () => {
    const r = await relay();
    const bobDir = tempDir();
    const bob = engineProcess(r.url, 'bob', bobDir);
    await bob.online();
    const alice = engine(r.url, 'alice');
    await alice.online();
    for (const t of texts) alice.m.send('bob', t);
    await bob.until(() => bob.incoming().length >= N / 4);
    await bob.kill();
    const again = engineProcess(r.url, 'bob', bobDir);
    await again.online();
    await alice.until(() => alice.sent('bob').every((v) => v.status === 'delivered'));
    await again.stop();
    expect(await storedIncoming(bobDir, 'bob', 'alice')).toEqual(texts);
  });

  it('of the relay: both engines reconnect to the restarted relay and finish', async () => {
    const dataDir = tempDir();
    const first = await startRelay(SLOW, { dataDir });
    const alice = engine(first.url, 'alice');
    const bob = engine(first.url, 'bob');
    await alice.online();
    await bob.online();
    for (const t of texts) alice.m.send('bob', t);
    await bob.until(() => bob.unread('alice') >= N / 4);
    await first.stop('SIGKILL');
    const second = await relay(dataDir, first.port);
    void second;
    await bob.until(() => bob.unread('alice') === N);
    expect(bob.received('alice').map((v) => v.text)).toEqual(texts);
    await alice.until(() => alice.sent('bob').every((v) => v.status === 'delivered'));
  });
});
