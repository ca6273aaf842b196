// Scenario 6: what a person sees when a message cannot arrive whole.
//  - Receiver side: an incoming message whose segments stopped arriving is shown with the
//    error flag, and the segments that never came, after K assembly passes without progress.
//  - Sender side: a message the relay refuses (a user it has never seen) fails, and Retry
//    sends it again once that user exists.
import { expect, test } from './fixtures.ts';
import { metric } from './processes.ts';
import {
  applyChannel,
  changeSettings,
  contact,
  expectOnline,
  expectTexts,
  incoming,
  openChat,
  outgoing,
  send,
} from './ui.ts';

/** At 64-byte segments, 40 segments (the body is one kind byte and the text). */
const SEGMENT_SIZE = 64;
const SEGMENTS = 40;
const LONG_TEXT = 'The sender quits before the relay has all of this. '
  .repeat(60)
  .slice(0, SEGMENT_SIZE * SEGMENTS - 1);

test('an incoming message whose sender quit half-way shows the error flag and what is missing', async ({
  app,
  relay,
}) => {
  const alice = await app('alice');
  const bob = await app('bob');
  await expectOnline(alice.page, 'bob');
  await changeSettings(alice.page, { segmentSize: SEGMENT_SIZE });
  // N = 200 ms between assembly passes, K = 2 passes without progress.
  await changeSettings(bob.page, { assemblyPeriodMs: 200, idleCycles: 2 });
  await openChat(bob.page, 'alice');

  // Every frame towards a recipient is lost: the relay takes custody of what alice sends,
  // but no acknowledgement comes back, so her window never opens past its first segments.
  await applyChannel(bob.page, relay.adminToken, { loss: 1 });
  await expect.poll(async () => (await relay.channel())['loss']).toBe(1);
  await openChat(alice.page, 'bob');
  await alice.page.getByTestId('composer-input').fill(LONG_TEXT);
  await alice.page.getByTestId('composer-send').click();
  await expect
    .poll(async () => metric(await relay.stats(), 'custody_held'), { intervals: [50] })
    .toBeGreaterThan(0);
  // Alice quits for good, with most of the message never sent.
  await alice.close();
  await expect(contact(bob.page, 'alice')).toHaveAttribute('data-presence', 'offline');

  // A clean channel again: the relay re-sends what it holds, which is only the beginning.
  await applyChannel(bob.page, relay.adminToken, { loss: 0 });
  const msg = incoming(bob.page);
  await expect(msg).toHaveCount(1);
  await expect(msg).toHaveAttribute('data-error', 'true', { timeout: 20_000 });
  const incomplete = msg.getByTestId('message-incomplete');
  await expect(incomplete).toContainText(`of ${SEGMENTS})`);
  const text = (await incomplete.textContent()) ?? '';
  const [, list, received] = /segments (.+) missing \(received (\d+) of/.exec(text) ?? [];
  expect(Number(received)).toBeGreaterThan(0);
  expect(Number(received)).toBeLessThan(SEGMENTS);
  // The first missing segment is the first one the relay never got.
  expect(list).toMatch(new RegExp(`^${received}\\b`));
  await expect(msg).not.toContainText('The sender quits');
});

test('a message the relay refuses fails with Retry, and Retry delivers it once it can', async ({
  app,
}) => {
  const alice = await app('alice');
  await alice.page.getByTestId('contact-search').fill('dave');
  await alice.page.getByTestId('start-chat').click();
  await expect(alice.page.getByTestId('composer-input')).toBeVisible();

  // No user "dave" has ever connected to this relay: it refuses the message.
  const first = await send(alice.page, 'Dave, are you on Strata yet?');
  await expect(first).toHaveAttribute('data-status', 'failed');
  const retry = alice.page.getByTestId('message-retry');
  await expect(retry).toBeVisible();

  const dave = await app('dave');
  await expectOnline(alice.page, 'dave');
  await retry.click();
  await expect(first).toHaveAttribute('data-status', 'delivered');
  await expect(retry).toBeHidden();
  await openChat(dave.page, 'alice');
  await expectTexts(incoming(dave.page), ['Dave, are you on Strata yet?']);
  await expect(outgoing(alice.page).first()).toHaveAttribute('data-status', 'read');
});
