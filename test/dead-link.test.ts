// A link that dies silently, on a real network path (network namespaces, test/helpers/
// netns.ts): nothing resets the connection, so only the heartbeat (relay and client ping
// each other, docs/relay.md "Heartbeat") can tell. Heartbeats here come every second;
// without them each of these cases waits for TCP's back-off (minutes) or forever.
import { afterEach, describe, it } from 'vitest';
import { Scene, connectionCount, presenceOf, statusOf, within } from './helpers/netns-strata.ts';

/** The relay's heartbeat, in seconds (an environment variable, as an operator may set it). */
const RELAY_ENV = { RELAY_HEARTBEAT: '1' };
const CLIENT = { heartbeat: { intervalMs: 1000, timeoutMs: 2000 } };
/**
 * An outage long enough for TCP's retransmission back-off to reach 25.6 s: TCP on its own
 * would next retransmit about 26 s after the link heals (51 s after the first send).
 */
const LONG_OUTAGE_MS = 25_000;

let scene: Scene | null = null;
afterEach(async () => {
  await scene?.close();
  scene = null;
});

/** The relay, alice and bob, each on a host of its own, online and in a conversation both ways. */
async function threeHosts() {
  scene = new Scene();
  const relay = await scene.startRelay(RELAY_ENV);
  const alice = scene.engine(scene.lan.alice, 'alice', CLIENT);
  await within(20_000, 'alice online', alice.online());
  const bob = scene.engine(scene.lan.bob, 'bob', CLIENT);
  await within(20_000, 'bob online', bob.online());
  // Presence concerns those who share a conversation.
  await alice.send('bob', ['hello bob']);
  await within(
    20_000,
    'bob has it',
    bob.until(() => bob.incoming().includes('hello bob')),
  );
  // Bob answers: alice is no message request to him (he would not follow her presence).
  await bob.send('alice', ['hello alice']);
  await within(
    20_000,
    'alice has it',
    alice.until(() => alice.incoming().includes('hello alice')),
  );
  return { scene, relay, alice, bob };
}

describe('a silently dead link', () => {
  it('takes a blackholed peer offline in the presence of the others within seconds', async () => {
    const { scene, bob } = await threeHosts();
    const cutAt = performance.now();
    scene.lan.cut(scene.lan.alice);
    await within(
      15_000,
      'bob sees alice offline',
      bob.until(() => presenceOf(bob, 'alice') === false),
    );
    console.log(
      `alice offline for bob ${((performance.now() - cutAt) / 1000).toFixed(1)} s after the cut`,
    );
  });

  it('reconnects and delivers within seconds of the outage healing, not at TCP back-off', async () => {
    const { scene, alice, bob } = await threeHosts();
    const cutAt = performance.now();
    scene.lan.cut(scene.lan.alice);
    await alice.send('bob', ['written during the outage']);
    await within(
      15_000,
      'alice notices that the relay no longer answers',
      alice.until(() => connectionCount(alice, 'offline') === 1),
    );
    const onlineBefore = connectionCount(alice, 'online');
    // The outage itself lasts a set time: the stimulus, not a wait for state.
    await new Promise((resolve) =>
      setTimeout(resolve, LONG_OUTAGE_MS - (performance.now() - cutAt)),
    );
    scene.lan.heal(scene.lan.alice);
    const healedAt = performance.now();
    await within(
      20_000,
      'alice back online and her message delivered',
      alice.until(
        () =>
          connectionCount(alice, 'online') > onlineBefore &&
          statusOf(alice, 'written during the outage') === 'delivered',
      ),
    );
    console.log(`delivered ${((performance.now() - healedAt) / 1000).toFixed(1)} s after healing`);
    // Delivered means stored on bob's device; it shows once opened, a moment later.
    await within(
      5_000,
      'bob shows it',
      bob.until(() => bob.incoming().includes('written during the outage')),
    );
  });

  it('lets an idle listener find a relay that restarted during its outage', async () => {
    const { scene, relay, alice, bob } = await threeHosts();
    scene.lan.cut(scene.lan.bob);
    // The relay's host loses power and comes back while bob is cut off: he hears of none of it.
    await relay.stop('SIGKILL');
    scene.lan.reboot(scene.lan.relay);
    await scene.startRelay(RELAY_ENV);
    await within(
      30_000,
      'alice back on the new relay',
      alice.until(() => connectionCount(alice, 'online') === 2),
    );
    await alice.send('bob', ['waiting for bob']);
    await within(
      20_000,
      'the relay holds it for bob',
      alice.until(() => statusOf(alice, 'waiting for bob') === 'sent'),
    );
    scene.lan.heal(scene.lan.bob);
    const healedAt = performance.now();
    await within(
      30_000,
      'bob reconnects and receives it',
      bob.until(() => bob.incoming().includes('waiting for bob')),
    );
    console.log(
      `bob received it ${((performance.now() - healedAt) / 1000).toFixed(1)} s after healing`,
    );
  });
});
