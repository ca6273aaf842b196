// Scenario 6: what a person sees when a message cannot arrive whole.
//  - Receiver side: an incoming message whose segments stopped arriving is shown with the
//    error flag, and the segments that never came, after K assembly passes without progress.
//  - Sender side: a name nobody has used is said to be no user; a message the relay refuses
//    fails, with Retry; Retry sends it again.
import { expect, test } from './fixtures.ts';
import {
  changeSettings,
  contact,
  expectOnline,
  expectTexts,
  incoming,
  meet,
  openChat,
  outgoing,
  startChat,
} from './ui.ts';

/**
 * At 64-byte segments, 40 segments of text; sealed (its key table, the tag), more: a first
 * message to a device carries its session's setup, over a kilobyte.
 */
const SEGMENT_SIZE = 64;
const SEGMENTS = 40;
const LONG_TEXT = 'The sender quits before the relay has all of this. '
  .repeat(60)
  .slice(0, SEGMENT_SIZE * SEGMENTS - 1);
/** The relay holds at most this many frames for a user who is away. */
const QUOTA = 10;

test.describe('a sender that leaves half-way', () => {
  test.use({ relayArgs: ['--store-max-frames', String(QUOTA)] });

  test('the receiver shows the incomplete message with the error flag and what is missing', async ({
    app,
  }) => {
    const alice = await app('alice');
    const bob = await app('bob');
    await meet(alice.page, 'bob', bob.page, 'alice');
    await changeSettings(alice.page, { segmentSize: SEGMENT_SIZE });
    // N = 200 ms between assembly passes, K = 2 passes without progress (kept in the profile).
    await changeSettings(bob.page, { assemblyPeriodMs: 200, idleCycles: 2 });
    await bob.close();
    await expect(contact(alice.page, 'bob')).toHaveAttribute('data-presence', 'offline');

    // Bob is away: the relay holds the first segments for him and refuses the rest, so the
    // message fails on alice's side, where Retry is offered...
    await openChat(alice.page, 'bob');
    await alice.page.getByTestId('composer-input').fill(LONG_TEXT);
    await alice.page.getByTestId('composer-send').click();
    await expect(outgoing(alice.page)).toHaveAttribute('data-status', 'failed');
    await expect(alice.page.getByTestId('message-retry')).toBeVisible();
    // ...but alice quits for good instead.
    await alice.close();

    // Bob comes back and gets what the relay held: the beginning of the message, never the rest.
    const back = await app('bob');
    await openChat(back.page, 'alice');
    const msg = incoming(back.page);
    await expect(msg).toHaveCount(1);
    await expect(msg).toHaveAttribute('data-error', 'true');
    const incomplete = msg.getByTestId('message-incomplete');
    await expect(incomplete).toContainText(new RegExp(`\\(received ${QUOTA} of \\d+\\)`));
    const total = Number(/of (\d+)\)/.exec((await incomplete.textContent()) ?? '')?.[1]);
    expect(total).toBeGreaterThan(SEGMENTS);
    // The first twelve missing segments by number, the others counted.
    await expect(incomplete).toContainText(
      `segments ${Array.from({ length: 12 }, (_, i) => QUOTA + i).join(', ')}`,
    );
    await expect(msg).not.toContainText('The sender quits');
  });
});

test.describe('a message the relay cannot take', () => {
  test.use({ relayArgs: ['--store-max-frames', String(QUOTA)] });

  test('a name nobody has used is no user; a message the relay refuses fails with Retry, and Retry delivers it once it can', async ({
    app,
  }) => {
    const alice = await app('alice');
    // Nobody called dave has ever connected: the app says so instead of opening a chat.
    await startChat(alice.page, 'dave');
    await expect(alice.page.getByTestId('no-such-user')).toContainText('dave');
    await expect(contact(alice.page, 'dave')).toHaveCount(0);

    const dave = await app('dave');
    await meet(alice.page, 'dave', dave.page, 'alice');
    await changeSettings(alice.page, { segmentSize: SEGMENT_SIZE });
    await dave.close();
    await expect(contact(alice.page, 'dave')).toHaveAttribute('data-presence', 'offline');

    // dave is away and the relay holds at most QUOTA frames for him: it refuses the message.
    await openChat(alice.page, 'dave');
    await alice.page.getByTestId('composer-input').fill(LONG_TEXT);
    await alice.page.getByTestId('composer-send').click();
    const first = outgoing(alice.page).first();
    await expect(first).toHaveAttribute('data-status', 'failed');
    const retry = alice.page.getByTestId('message-retry');
    await expect(retry).toBeVisible();

    // Back online, dave takes it straight away: Retry delivers it.
    const back = await app('dave');
    await expectOnline(alice.page, 'dave');
    await retry.click();
    await expect(first).toHaveAttribute('data-status', 'delivered');
    await expect(retry).toBeHidden();
    await openChat(back.page, 'alice');
    await expectTexts(incoming(back.page), [LONG_TEXT]);
    await expect(first).toHaveAttribute('data-status', 'read');
  });
});
