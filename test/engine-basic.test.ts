import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestEngine } from './helpers/engine.ts';
import { startRelay, type RelayProcess } from './helpers/relay-process.ts';

let relay: RelayProcess;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  await relay.stop();
});

describe('two engines through the relay', () => {
  it('deliver text both ways, in order, and statuses reach delivered', async () => {
    const alice = TestEngine.start(relay.url, 'alice');
    const bob = TestEngine.start(relay.url, 'bob');
    await alice.online();
    await bob.online();
    for (let i = 0; i < 20; i++) alice.m.send('bob', `hello ${i}`);
    for (let i = 0; i < 20; i++) bob.m.send('alice', `hi ${i}`);
    await bob.until(() => bob.received('alice').length === 20);
    await alice.until(() => alice.received('bob').length === 20);
    expect(bob.received('alice').map((v) => v.text)).toEqual(
      Array.from({ length: 20 }, (_, i) => `hello ${i}`),
    );
    await alice.until(() =>
      alice.m
        .history('bob')
        .filter((v) => v.direction === 'out')
        .every((v) => v.status === 'delivered'),
    );
    await alice.close();
    await bob.close();
  });
});
