// Consent in the UI: alice writes to bob, who has never written to her. Bob's app shows a
// message request: marked in the sidebar, a banner with Accept / Block / Delete, her text
// shown and her file waiting (nothing of it downloaded). Accepting starts the file, and it
// arrives whole.
import { randomBytes } from 'node:crypto';
import { expect, test } from './fixtures.ts';
import { attachFiles, contact, fileBubble, fileBytes, incoming, send, startChat } from './ui.ts';

test('a message request is shown with its banner, its file waits, and Accept downloads it', async ({
  app,
}) => {
  const alice = await app('alice');
  const bob = await app('bob');
  // Alice chooses to write to bob (for her he is a contact); bob has not met her.
  await startChat(alice.page, 'bob');
  await send(alice.page, 'hello bob, it is alice');
  const bytes = randomBytes(200 * 1024);
  await attachFiles(alice.page, [
    { name: 'syllabus.bin', mimeType: 'application/octet-stream', buffer: bytes },
  ]);

  const request = contact(bob.page, 'alice');
  await expect(request.getByTestId('contact-request-badge')).toHaveAttribute(
    'data-contact',
    'request',
  );
  await request.click();
  const banner = bob.page.getByTestId('request-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('alice');
  await expect(incoming(bob.page).first()).toContainText('hello bob, it is alice');
  const file = fileBubble(bob.page, 'in');
  await expect(file).toHaveAttribute('data-state', 'waiting');
  await expect(file.getByTestId('file-waiting')).toHaveAttribute('data-held', 'request');
  await expect(file.getByTestId('file-name')).toHaveText('syllabus.bin');
  // The sender holds it too: her bubble says bob has not taken it.
  await expect(fileBubble(alice.page, 'out').getByTestId('file-waiting')).toHaveAttribute(
    'data-held',
    'peer',
  );

  await banner.getByTestId('request-accept').click();
  await expect(banner).toBeHidden();
  await expect(request.getByTestId('contact-request-badge')).toHaveCount(0);
  await expect(file).toHaveAttribute('data-state', 'done');
  expect((await fileBytes(bob.page, file)).equals(bytes)).toBe(true);
  // Now bob reads her messages in the open chat, and she hears of it.
  await expect(fileBubble(alice.page, 'out')).toHaveAttribute('data-state', 'done');
});
