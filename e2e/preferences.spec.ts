// The language a user picks is theirs, not the page's: it is kept in the profile, so restarting
// the app (the browser host picks new ports each time, a new origin) still speaks it.
import { expect, test } from './fixtures.ts';

test('the language picked in Settings survives restarting the app', async ({ app }) => {
  const alice = await app('alice');
  await expect(alice.page.getByTestId('no-chat')).toContainText('Choose a chat');
  await alice.page.getByTestId('settings-open').click();
  await expect(alice.page.getByTestId('settings-license')).toContainText(
    'Free software under the GNU AGPL v3 (AGPL-3.0-only)',
  );
  await alice.page.getByTestId('settings-language-ru').check();
  await expect(alice.page.locator('html')).toHaveAttribute('lang', 'ru');
  await expect(alice.page.getByTestId('settings-license')).toContainText(
    'Свободная программа под лицензией GNU AGPL v3 (AGPL-3.0-only)',
  );
  await alice.page.getByTestId('settings-close').click();
  await expect(alice.page.getByTestId('no-chat')).toContainText('Выберите чат');
  await alice.close();

  const again = await app('alice');
  await expect(again.page.locator('html')).toHaveAttribute('lang', 'ru');
  await expect(again.page.getByTestId('no-chat')).toContainText('Выберите чат');
  await expect(again.page.getByTestId('settings-open')).toHaveAccessibleName('Настройки');

  // Following the system again is remembered too.
  await again.page.getByTestId('settings-open').click();
  await again.page.getByTestId('settings-language-auto').check();
  await again.page.getByTestId('settings-close').click();
  await expect(again.page.getByTestId('no-chat')).toContainText('Choose a chat');
  await again.close();
  const third = await app('alice');
  await expect(third.page.getByTestId('no-chat')).toContainText('Choose a chat');
});

test('the language picked on the login screen is kept before anyone logs in', async ({ app }) => {
  const first = await app('newcomer', { user: null });
  await first.page.getByTestId('language-select').selectOption('ru');
  await expect(first.page.getByTestId('login-submit')).toHaveText('Войти');
  await first.close();

  const again = await app('newcomer', { user: null });
  await expect(again.page.getByTestId('login-submit')).toHaveText('Войти');
  await expect(again.page.getByTestId('language-select')).toHaveValue('ru');
});
