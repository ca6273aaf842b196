// Scenario 7: history, with each message's status, survives restarting an instance.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { expectOnline, expectTexts, incoming, meet, messages, openChat, send } from './ui.ts';

const TEXTS = [
  'Can you send me the relay address again?',
  'ws://lab-pc:7000/ and the admin token is on the whiteboard.',
  'Got it, thanks!',
];

/** Each message's id, direction and status, in the order shown. */
function snapshot(page: Page) {
  return messages(page).evaluateAll((els) =>
    els.map((e) => ({
      id: e.getAttribute('data-message-id'),
      direction: e.getAttribute('data-direction'),
      status: e.getAttribute('data-status'),
      text: e.textContent,
    })),
  );
}

test('history and statuses survive restarting an instance', async ({ app }) => {
  const alice = await app('alice');
  const bob = await app('bob');
  await meet(alice.page, 'bob', bob.page, 'alice');
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');

  const first = await send(alice.page, TEXTS[0]!);
  await expectTexts(incoming(bob.page), [TEXTS[0]!]);
  const second = await send(bob.page, TEXTS[1]!);
  await expectTexts(incoming(alice.page), [TEXTS[1]!]);
  const third = await send(alice.page, TEXTS[2]!);
  for (const m of [first, second, third]) await expect(m).toHaveAttribute('data-status', 'read');
  await expectTexts(messages(alice.page), TEXTS);
  const before = await snapshot(alice.page);

  await alice.close();
  const again = await app('alice');
  await openChat(again.page, 'bob');
  await expectTexts(messages(again.page), TEXTS);
  expect(await snapshot(again.page)).toEqual(before);

  // The other side too, and the restarted one still chats.
  const bobBefore = await snapshot(bob.page);
  await bob.close();
  const bobAgain = await app('bob');
  await openChat(bobAgain.page, 'alice');
  await expectTexts(messages(bobAgain.page), TEXTS);
  expect(await snapshot(bobAgain.page)).toEqual(bobBefore);
  await expectOnline(again.page, 'bob');
  const after = await send(again.page, 'Still here after the restart.');
  await expect(after).toHaveAttribute('data-status', 'read');
});
