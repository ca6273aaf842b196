// Accounts in the UI: a first login creates the account and shows its recovery code once; a
// name that is taken says so; a linked device can be removed; a recovered account starts over
// with a new code, its old devices are refused, and its contacts see that its identity changed.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import {
  confirmRecoveryCode,
  expectTexts,
  incoming,
  linkDevice,
  login,
  openChat,
  send,
} from './ui.ts';

const chats = (page: Page) => page.getByTestId('contact-search');

test('a first login creates the account; its recovery code is shown once and must be confirmed', async ({
  app,
  relay,
}) => {
  const carol = await app('carol', { user: null });
  await login(carol.page, 'carol', relay.url);
  const dialog = carol.page.getByTestId('recovery-dialog');
  await expect(dialog).toBeVisible();
  const code = await carol.page.getByTestId('recovery-code').getAttribute('data-code');
  expect(code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);
  const groups = code!.split('-');

  // Nothing to confirm with yet; a group that is not the last one is refused.
  await expect(carol.page.getByTestId('recovery-confirm')).toBeDisabled();
  await carol.page.getByTestId('recovery-last-group').fill(groups[0]!);
  await carol.page.getByTestId('recovery-confirm').click();
  await expect(carol.page.getByTestId('recovery-error')).toBeVisible();
  await expect(dialog).toBeVisible();

  await carol.page.getByTestId('recovery-last-group').fill(groups.at(-1)!.toLowerCase());
  await carol.page.getByTestId('recovery-confirm').click();
  await expect(dialog).toBeHidden();
  await expect(chats(carol.page)).toBeVisible();

  // Never shown again, not even after the app restarts.
  await carol.close();
  const again = await app('carol', { user: null });
  await expect(chats(again.page)).toBeVisible();
  await expect(again.page.getByTestId('recovery-dialog')).toHaveCount(0);
  await again.page.getByTestId('settings-open').click();
  await expect(again.page.getByTestId('settings-user')).toHaveText('carol');
});

test('a name that is taken says so, and another name can be picked', async ({ app, relay }) => {
  await app('alice');
  const other = await app('other', { user: null });
  await login(other.page, 'alice', relay.url);
  await expect(other.page.getByTestId('name-taken')).toContainText('alice');
  await expect(other.page.getByTestId('recovery-dialog')).toHaveCount(0);

  await login(other.page, 'alicia', relay.url);
  await confirmRecoveryCode(other.page);
  await other.page.getByTestId('settings-open').click();
  await expect(other.page.getByTestId('settings-user')).toHaveText('alicia');
});

test('a linked device removed in settings is refused from then on', async ({ app, relay }) => {
  const laptop = await app('bob-laptop', { user: 'bob' });
  const phone = await app('bob-phone', { user: null });
  await linkDevice(laptop.page, phone.page, relay.url);

  await laptop.page.getByTestId('settings-open').click();
  const devices = laptop.page.getByTestId('device');
  await expect(devices).toHaveCount(2);
  const other = laptop.page.locator('[data-testid="device"][data-current="false"]');
  await other.getByTestId('device-remove').click();
  // Nothing happens before the confirmation; "Cancel" keeps it.
  await laptop.page.getByTestId('device-remove-no').click();
  await expect(devices).toHaveCount(2);
  await other.getByTestId('device-remove').click();
  await laptop.page.getByTestId('device-remove-yes').click();
  await expect(devices).toHaveCount(1);
  await expect(devices).toHaveAttribute('data-current', 'true');

  await expect(phone.page.getByTestId('account-removed')).toBeVisible();
});

test('recovery takes the account back: a new code, the old device refused, contacts told', async ({
  app,
  relay,
}) => {
  const alice = await app('alice');
  const oldBob = await app('bob-old', { user: null });
  await login(oldBob.page, 'bob', relay.url);
  const code = await confirmRecoveryCode(oldBob.page);
  await openChat(oldBob.page, 'alice');
  await send(oldBob.page, 'Before I lost my phone.');
  await openChat(alice.page, 'bob');
  await expectTexts(incoming(alice.page), ['Before I lost my phone.']);

  const newBob = await app('bob-new', { user: null });
  await newBob.page.getByTestId('login-mode-recover').click();
  await newBob.page.getByTestId('login-username').fill('bob');
  await newBob.page.getByTestId('login-code').fill(code.replaceAll('-', ' ').toLowerCase());
  await newBob.page.getByTestId('login-relay').fill(relay.url);
  await newBob.page.getByTestId('login-submit').click();
  // The recovered account has a new recovery code, shown once.
  const fresh = await confirmRecoveryCode(newBob.page);
  expect(fresh).not.toBe(code);

  await expect(oldBob.page.getByTestId('account-removed')).toBeVisible();
  // The relay tells alice of bob's new identity; their chat says so.
  await expect(alice.page.getByTestId('identity-changed')).toContainText('bob');

  await openChat(newBob.page, 'alice');
  await send(newBob.page, 'New phone, same bob.');
  await expectTexts(incoming(alice.page), ['Before I lost my phone.', 'New phone, same bob.']);
});
