// Scenario 1: logging in through the form, and presence between two instances.
import { expect, test } from './fixtures.ts';
import { confirmRecoveryCode, contact, expectOnline, follow, login } from './ui.ts';

test('a user logs in through the form; two instances see each other online', async ({
  app,
  relay,
}) => {
  const bob = await app('bob');
  const carol = await app('carol', { user: null });

  // A name the relay cannot accept is refused with a message, and nothing is logged in.
  await login(carol.page, 'carol smith', relay.url);
  await expect(carol.page.getByTestId('login-error')).toBeVisible();
  await expect(carol.page.getByTestId('login-submit')).toBeVisible();

  await login(carol.page, 'carol', relay.url);
  // The first login created carol's account: its recovery code is confirmed before chatting.
  await confirmRecoveryCode(carol.page);
  await expect(carol.page.getByTestId('login-username')).toBeHidden();
  // Presence is for those who follow each other (or share a conversation).
  await follow(carol.page, 'bob');
  await follow(bob.page, 'carol');
  await expectOnline(carol.page, 'bob');
  await expectOnline(bob.page, 'carol');

  // Presence follows the other instance: it goes offline when bob quits.
  await bob.close();
  await expect(contact(carol.page, 'bob')).toHaveAttribute('data-presence', 'offline');
});
