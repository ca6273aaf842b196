// A message sent into a link that has died silently, before the heartbeat has noticed: its
// attempts go nowhere, yet they must not fail it. The user did not give up on it; it is
// sent again once the relay is back (docs/transport.md "Attempt limit").
import { afterEach, expect, it } from 'vitest';
import { Scene, connectionCount, statusOf, within } from './helpers/netns-strata.ts';

let scene: Scene | null = null;
afterEach(async () => {
  await scene?.close();
  scene = null;
});

it('sends a message again once the relay is back when its attempts went into a dead link', async () => {
  scene = new Scene();
  await scene.startRelay();
  // Alice's next periodic ping is far off (the link died just after one), but a ping that
  // goes unanswered still drops the link after 2 s.
  const alice = scene.engine(scene.lan.alice, 'alice', {
    heartbeat: { intervalMs: 600_000, timeoutMs: 2000 },
  });
  await within(20_000, 'alice online', alice.online());
  const bob = scene.engine(scene.lan.bob, 'bob');
  await within(20_000, 'bob online', bob.online());
  // A conversation under way: alice's session with bob exists, so what she sends next is
  // sealed at once and its segments go into the link.
  await alice.send('bob', ['hello']);
  await within(
    20_000,
    'hello delivered',
    alice.until(() => statusOf(alice, 'hello') === 'delivered'),
  );

  scene.lan.cut(scene.lan.alice);
  await alice.send('bob', ['first']);
  // Retransmissions back off until the attempt limit (10 sends, 30 s) is reached.
  await within(
    150_000,
    'alice gives up on the link or on the message',
    alice.until(
      () => connectionCount(alice, 'offline') > 0 || statusOf(alice, 'first') === 'failed',
    ),
  );
  expect(statusOf(alice, 'first')).toBe('pending');

  scene.lan.heal(scene.lan.alice);
  await alice.send('bob', ['second']);
  await within(
    30_000,
    'both delivered',
    alice.until(
      () => statusOf(alice, 'first') === 'delivered' && statusOf(alice, 'second') === 'delivered',
    ),
  );
  // Delivered means stored on bob's device; each shows once opened, a moment later.
  await within(
    5_000,
    'bob shows them',
    bob.until(() => ['hello', 'first', 'second'].every((t) => bob.incoming().includes(t))),
  );
}, 240_000);
