// Starting a chat from search: a name nobody has used is said to be no user at all, a real
// one opens a chat; and a chat can be deleted.
import { expect, test } from './fixtures.ts';
import { contact, send, startChat } from './ui.ts';

test('typing a name that never connected says there is no such user; a chat can be deleted', async ({
  app,
}) => {
  const bob = await app('bob');
  const alice = await app('alice');
  const page = alice.page;

  await startChat(page, 'zoe');
  await expect(page.getByTestId('no-such-user')).toContainText('There is no user “zoe”');
  await expect(contact(page, 'zoe')).toHaveCount(0);
  await expect(page.getByTestId('chat')).toHaveCount(0);

  // bob has connected: the chat opens.
  await startChat(page, 'bob');
  await expect(page.getByTestId('chat-peer')).toHaveText('bob');
  await expect(page.getByTestId('no-such-user')).toHaveCount(0);
  await send(page, 'hello bob');
  await expect(contact(bob.page, 'alice')).toBeVisible();

  // Deleting asks first; cancelling keeps the chat.
  await page.getByTestId('chat-delete').click();
  await page.getByTestId('chat-delete-cancel').click();
  await expect(contact(page, 'bob')).toBeVisible();
  await page.getByTestId('chat-delete').click();
  await page.getByTestId('chat-delete-confirm').click();
  await expect(contact(page, 'bob')).toHaveCount(0);
  await expect(page.getByTestId('no-chat')).toBeVisible();
  // Gone for good, not only from the window: a reload does not bring it back.
  await page.reload();
  await expect(page.getByTestId('contact-search')).toBeVisible();
  await expect(contact(page, 'bob')).toHaveCount(0);
  // bob still has his side of it.
  await expect(contact(bob.page, 'alice')).toBeVisible();
});
