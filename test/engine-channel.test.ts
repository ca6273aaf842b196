// The transport against a bad channel: every message exactly once, intact, in send order.
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

const N = 1000;

async function exchange(channel: Record<string, unknown>, segmentSize: number) {
  await relay.admin({
    loss: 0,
    ber: 0,
    duplicate: 0,
    reorder: 0,
    code: 'none',
    onUncorrectable: 'drop',
    ...channel,
  });
  const suffix = Math.random().toString(36).slice(2, 8);
  const a = `alice-${suffix}`;
  const b = `bob-${suffix}`;
  const alice = TestEngine.start(relay.url, a, { settings: { segmentSize } });
  const bob = TestEngine.start(relay.url, b, { settings: { segmentSize } });
  await alice.online();
  await bob.online();
  const text = (from: string, i: number) =>
    `${from} #${i}: ${'the quick brown fox '.repeat((i % 13) + 1)}`;
  for (let i = 0; i < N; i++) {
    alice.m.send(b, text('alice', i));
    bob.m.send(a, text('bob', i));
  }
  await bob.until(() => bob.unread(a) === N);
  await alice.until(() => alice.unread(b) === N);
  expect(bob.received(a).map((v) => v.text)).toEqual(
    Array.from({ length: N }, (_, i) => text('alice', i)),
  );
  expect(alice.received(b).map((v) => v.text)).toEqual(
    Array.from({ length: N }, (_, i) => text('bob', i)),
  );
  // Waiting on events: check the cheap count first, the full history only at the end.
  const allDelivered = (e: TestEngine, peer: string) =>
    e.sent(peer).every((v) => v.status === 'delivered');
  await alice.until(() => allDelivered(alice, b));
  await bob.until(() => allDelivered(bob, a));
  const stats = alice.m.stats(b);
  await alice.close();
  await bob.close();
  return stats;
}

describe('1,000 messages each way over a bad channel', () => {
  it('loss 10%, ber 10% with hamming74, duplication 5% and reordering', async () => {
    const stats = await exchange(
      {
        loss: 0.1,
        ber: 0.1,
        code: 'hamming74',
        duplicate: 0.05,
        reorder: 0.1,
        reorderDelayMs: 5,
        seed: 1,
      },
      100,
    );
    expect(stats.retransmissions).toBeGreaterThan(0);
  });

  it('code none with onUncorrectable pass: the CRC rejects damage, retransmission repairs it', async () => {
    const stats = await exchange(
      { loss: 0.1, ber: 0.1, code: 'none', onUncorrectable: 'pass', seed: 2 },
      100,
    );
    expect(stats.retransmissions).toBeGreaterThan(0);
  });
});
