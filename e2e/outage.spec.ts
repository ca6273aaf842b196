// When the relay goes away, the header says why in words, in the UI's language, not as the
// WebSocket's close code ("Offline · 1001 relay shutting down").
import { expect, test } from './fixtures.ts';

test('the relay shutting down is said in words, in either language', async ({ app, relay }) => {
  const alice = await app('alice');
  const state = alice.page.getByTestId('connection-state');
  await expect(state).toHaveAttribute('data-state', 'online');

  await relay.stop();
  await expect(state).toHaveAttribute('data-state', 'offline');
  await expect(state).toContainText('Offline');
  await expect(state).toContainText('the relay is shutting down or restarting');
  await expect(state).not.toContainText('1001');

  await alice.page.getByTestId('settings-open').click();
  await alice.page.getByTestId('settings-language-ru').check();
  await alice.page.getByTestId('settings-close').click();
  await expect(state).toContainText('Не в сети');
  await expect(state).toContainText('ретранслятор выключается или перезапускается');
});
