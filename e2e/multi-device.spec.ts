// Scenario 8: one user on two instances (two profiles, two devices) receives on both, and
// what one device sends shows in the other's history.
import { expect, test } from './fixtures.ts';
import { expectOnline, expectTexts, incoming, messages, openChat, outgoing, send } from './ui.ts';

test('two instances of one user both receive, and see what the other sent', async ({ app }) => {
  const alice = await app('alice');
  const phone = await app('bob-phone', { user: 'bob' });
  const laptop = await app('bob-laptop', { user: 'bob' });
  await expectOnline(alice.page, 'bob');
  await expectOnline(phone.page, 'alice');
  await expectOnline(laptop.page, 'alice');

  await openChat(alice.page, 'bob');
  const hello = await send(alice.page, 'Hello Bob, on whichever screen you read this.');
  await openChat(phone.page, 'alice');
  await openChat(laptop.page, 'alice');
  await expectTexts(incoming(phone.page), ['Hello Bob, on whichever screen you read this.']);
  await expectTexts(incoming(laptop.page), ['Hello Bob, on whichever screen you read this.']);
  await expect(hello).toHaveAttribute('data-status', 'read');
  // One message, the same id on both devices.
  const id = await hello.getAttribute('data-message-id');
  await expect(incoming(phone.page)).toHaveAttribute('data-message-id', id!);
  await expect(incoming(laptop.page)).toHaveAttribute('data-message-id', id!);

  await send(laptop.page, 'Reading it on the laptop.');
  await expectTexts(incoming(alice.page), ['Reading it on the laptop.']);
  // The phone shows the laptop's reply as bob's own message.
  await expectTexts(outgoing(phone.page), ['Reading it on the laptop.']);
  await expectTexts(messages(phone.page), [
    'Hello Bob, on whichever screen you read this.',
    'Reading it on the laptop.',
  ]);
});
