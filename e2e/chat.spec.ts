// Scenario 2: a conversation both ways, with each outgoing message's status moving from sent
// to delivered (the peer's app has it) to read (the peer opened the chat).
import { expect, test } from './fixtures.ts';
import { contact, expectTexts, incoming, meet, messages, openChat, send } from './ui.ts';

test('two people chat both ways; statuses reach delivered, then read', async ({
  app,
}, testInfo) => {
  const alice = await app('alice');
  const bob = await app('bob');
  await meet(alice.page, 'bob', bob.page, 'alice');

  await openChat(alice.page, 'bob');
  const hello = await send(alice.page, 'Hi Bob! Did the slides for Thursday arrive?');
  // Bob's app has it, but bob has not opened the chat: delivered, not read, and unread there.
  await expect(hello).toHaveAttribute('data-status', 'delivered');
  await expect(contact(bob.page, 'alice').getByTestId('unread-badge')).toHaveText('1');

  await openChat(bob.page, 'alice');
  await expectTexts(incoming(bob.page), ['Hi Bob! Did the slides for Thursday arrive?']);
  await expect(hello).toHaveAttribute('data-status', 'read');
  await expect(contact(bob.page, 'alice').getByTestId('unread-badge')).toHaveCount(0);

  // Both have the chat open now: replies are read as soon as they arrive.
  const reply = await send(bob.page, 'They did, thanks. Page 12 has a typo in the CRC example.');
  await expectTexts(incoming(alice.page), [
    'They did, thanks. Page 12 has a typo in the CRC example.',
  ]);
  await expect(reply).toHaveAttribute('data-status', 'read');
  const last = await send(alice.page, 'Good catch, I will fix it tonight.');
  await expect(last).toHaveAttribute('data-status', 'read');

  // The same conversation, in the same order, on both sides, each from its own side.
  const texts = [
    'Hi Bob! Did the slides for Thursday arrive?',
    'They did, thanks. Page 12 has a typo in the CRC example.',
    'Good catch, I will fix it tonight.',
  ];
  await expectTexts(messages(alice.page), texts);
  await expectTexts(messages(bob.page), texts);
  const directions = (page: typeof alice.page) =>
    messages(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-direction')));
  expect(await directions(alice.page)).toEqual(['out', 'in', 'out']);
  expect(await directions(bob.page)).toEqual(['in', 'out', 'in']);

  await testInfo.attach('alice.png', {
    body: await alice.page.screenshot(),
    contentType: 'image/png',
  });
  await testInfo.attach('bob.png', { body: await bob.page.screenshot(), contentType: 'image/png' });
});
