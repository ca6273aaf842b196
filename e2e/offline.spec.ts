// Scenario 4: messages to someone who is away wait at the relay (status sent), and arrive in
// order when they come back.
import { expect, test } from './fixtures.ts';
import {
  contact,
  expectOnline,
  expectTexts,
  incoming,
  meet,
  openChat,
  outgoing,
  send,
} from './ui.ts';

test('messages sent while the recipient is away stay at sent and arrive in order on return', async ({
  app,
}) => {
  const alice = await app('alice');
  const bob = await app('bob');
  await meet(alice.page, 'bob', bob.page, 'alice');
  await openChat(alice.page, 'bob');

  await bob.close();
  await expect(contact(alice.page, 'bob')).toHaveAttribute('data-presence', 'offline');
  const texts = [
    'Are you coming to the lab tomorrow?',
    'Bring the USB-to-serial adapter if you can.',
    'And the notes from last week, please.',
  ];
  for (const text of texts) await send(alice.page, text);
  const sent = outgoing(alice.page);
  // The relay holds them; nobody has them yet.
  for (let i = 0; i < texts.length; i++) {
    await expect(sent.nth(i)).toHaveAttribute('data-status', 'sent');
  }

  const back = await app('bob');
  await expectOnline(alice.page, 'bob');
  for (let i = 0; i < texts.length; i++) {
    await expect(sent.nth(i)).toHaveAttribute('data-status', 'delivered');
  }
  // Back, bob sees three unread messages from alice before opening the chat.
  await expect(contact(back.page, 'alice').getByTestId('unread-badge')).toHaveText('3');
  await openChat(back.page, 'alice');
  await expectTexts(incoming(back.page), texts);
  for (let i = 0; i < texts.length; i++) {
    await expect(sent.nth(i)).toHaveAttribute('data-status', 'read');
  }
});
