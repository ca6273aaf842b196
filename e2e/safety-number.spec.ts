// Safety numbers in the UI: the screen from the conversation header shows the same 12 groups of
// five digits on both sides and marks the contact verified (with a badge in the header) or
// clears the mark; a verified contact who recovers their account blocks the conversation (a
// banner, the composer disabled) until the new number is accepted, and the identity-change
// notice stays in the conversation.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { confirmRecoveryCode, expectTexts, incoming, login, meet, openChat, send } from './ui.ts';

/** Opens the safety-number screen of the open chat; resolves with its digits' groups. */
async function showSafetyNumber(page: Page): Promise<string[]> {
  await page.getByTestId('safety-number-open').click();
  const digits = page.getByTestId('safety-number-digits');
  await expect(digits).toBeVisible();
  const groups = await digits.locator('span').allTextContents();
  expect(groups).toHaveLength(12);
  for (const g of groups) expect(g).toMatch(/^\d{5}$/);
  return groups;
}

test('the safety-number screen shows the same digits on both sides, and marks the contact verified', async ({
  app,
}) => {
  const alice = await app('alice');
  const bob = await app('bob');
  await meet(alice.page, 'bob', bob.page, 'alice');
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');

  const ours = await showSafetyNumber(alice.page);
  const theirs = await showSafetyNumber(bob.page);
  expect(theirs).toEqual(ours);
  // Escape closes the screen, not the chat behind it.
  await bob.page.keyboard.press('Escape');
  await expect(bob.page.getByTestId('safety-number')).toHaveCount(0);
  await expect(bob.page.getByTestId('chat-peer')).toHaveText('alice');

  const state = alice.page.getByTestId('safety-number-state');
  const toggle = alice.page.getByTestId('safety-number-toggle');
  await expect(state).toHaveAttribute('data-verified', 'false');
  await expect(toggle).toHaveText('Mark as verified');
  await toggle.click();
  await expect(state).toHaveAttribute('data-verified', 'true');
  await expect(toggle).toHaveText('Clear verification');
  await alice.page.getByTestId('safety-number-close').click();
  await expect(alice.page.getByTestId('safety-number')).toHaveCount(0);
  await expect(alice.page.getByTestId('chat-verified')).toBeVisible();

  // Kept by the engine: after a restart the screen still says verified; then it is cleared.
  await alice.close();
  const again = await app('alice');
  await openChat(again.page, 'bob');
  await expect(again.page.getByTestId('chat-verified')).toBeVisible();
  await showSafetyNumber(again.page);
  await expect(again.page.getByTestId('safety-number-state')).toHaveAttribute(
    'data-verified',
    'true',
  );
  await again.page.getByTestId('safety-number-toggle').click();
  await expect(again.page.getByTestId('safety-number-state')).toHaveAttribute(
    'data-verified',
    'false',
  );
  await again.page.getByTestId('safety-number-close').click();
  await expect(again.page.getByTestId('chat-verified')).toHaveCount(0);
});

test('a verified contact who recovers blocks the chat until the new number is accepted; the notice stays', async ({
  app,
  relay,
}) => {
  const alice = await app('alice');
  const oldBob = await app('bob-old', { user: null });
  await login(oldBob.page, 'bob', relay.url);
  const code = await confirmRecoveryCode(oldBob.page);
  await openChat(oldBob.page, 'alice');
  await send(oldBob.page, 'Check my number.');
  await openChat(alice.page, 'bob');
  await expectTexts(incoming(alice.page), ['Check my number.']);
  const before = await showSafetyNumber(alice.page);
  await alice.page.getByTestId('safety-number-toggle').click();
  await expect(alice.page.getByTestId('safety-number-state')).toHaveAttribute(
    'data-verified',
    'true',
  );
  await alice.page.getByTestId('safety-number-close').click();

  const newBob = await app('bob-new', { user: null });
  await newBob.page.getByTestId('login-mode-recover').click();
  await newBob.page.getByTestId('login-username').fill('bob');
  await newBob.page.getByTestId('login-code').fill(code);
  await newBob.page.getByTestId('login-relay').fill(relay.url);
  await newBob.page.getByTestId('login-submit').click();
  await confirmRecoveryCode(newBob.page);

  // The relay tells alice of bob's new identity: she was sure of the old one, so the chat
  // stops until she accepts the new number.
  const banner = alice.page.getByTestId('identity-blocked');
  await expect(banner).toContainText('bob');
  await expect(alice.page.getByTestId('composer-input')).toBeDisabled();
  await expect(alice.page.getByTestId('composer-attach')).toBeDisabled();
  const after = await showSafetyNumber(alice.page);
  expect(after).not.toEqual(before);
  await expect(alice.page.getByTestId('safety-number-state')).toHaveAttribute(
    'data-verified',
    'false',
  );
  await alice.page.getByTestId('safety-number-close').click();

  await alice.page.getByTestId('identity-accept').click();
  await expect(banner).toHaveCount(0);
  await expect(alice.page.getByTestId('composer-input')).toBeEnabled();
  // The change itself stays noted in the conversation.
  await expect(alice.page.getByTestId('identity-changed')).toContainText('bob');
  await send(alice.page, 'Welcome back.');

  await openChat(newBob.page, 'alice');
  await expectTexts(incoming(newBob.page), ['Welcome back.']);
  expect(await showSafetyNumber(newBob.page)).toEqual(after);
});
