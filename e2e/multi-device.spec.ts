// Scenario 8: one user on two devices. The second device joins the account by linking, through
// the UI: the laptop shows a code under "Link a device", the phone types it under "Link to an
// existing account", the laptop accepts. Then both receive, and what one device sends shows in
// the other's history.
import { expect, test } from './fixtures.ts';
import { expectTexts, incoming, linkDevice, messages, openChat, outgoing, send } from './ui.ts';

test('a device linked through the UI receives with the first, and sees what it sent', async ({
  app,
  relay,
}) => {
  const alice = await app('alice');
  const laptop = await app('bob-laptop', { user: 'bob' });
  const phone = await app('bob-phone', { user: null });
  await linkDevice(laptop.page, phone.page, relay.url);
  // The linked device is bob's: no recovery code of its own to confirm (the account has one).
  await expect(phone.page.getByTestId('recovery-dialog')).toHaveCount(0);
  await phone.page.getByTestId('settings-open').click();
  await expect(phone.page.getByTestId('settings-user')).toHaveText('bob');
  await expect(phone.page.getByTestId('device')).toHaveCount(2);
  await expect(phone.page.locator('[data-testid="device"][data-current="true"]')).toHaveCount(1);
  await phone.page.getByTestId('settings-close').click();

  await openChat(alice.page, 'bob');
  const hello = await send(alice.page, 'Hello Bob, on whichever screen you read this.');
  await openChat(phone.page, 'alice');
  // Bob has not written to alice: where her message came before he opened the chat, it is a
  // message request, which this device accepts (read receipts go to contacts only).
  const accept = phone.page.getByTestId('request-accept');
  if (await accept.isVisible()) await accept.click();
  await openChat(laptop.page, 'alice');
  await expectTexts(incoming(phone.page), ['Hello Bob, on whichever screen you read this.']);
  await expectTexts(incoming(laptop.page), ['Hello Bob, on whichever screen you read this.']);
  await expect(hello).toHaveAttribute('data-status', 'read');
  // One message, the same id on both devices.
  const id = await hello.getAttribute('data-message-id');
  await expect(incoming(phone.page)).toHaveAttribute('data-message-id', id!);
  await expect(incoming(laptop.page)).toHaveAttribute('data-message-id', id!);

  await send(phone.page, 'Reading it on the phone I just linked.');
  await expectTexts(incoming(alice.page), ['Reading it on the phone I just linked.']);
  // The laptop shows the phone's reply as bob's own message.
  await expectTexts(outgoing(laptop.page), ['Reading it on the phone I just linked.']);
  await expectTexts(messages(laptop.page), [
    'Hello Bob, on whichever screen you read this.',
    'Reading it on the phone I just linked.',
  ]);
});
