// Scenario 3: the typing indicator shows while the other person types, and clears when they
// send or stop typing.
import { expect, test } from './fixtures.ts';
import { expectTexts, incoming, meet, openChat } from './ui.ts';

test('the typing indicator appears while the other types and clears on send and when idle', async ({
  app,
}) => {
  const alice = await app('alice');
  const bob = await app('bob');
  await meet(alice.page, 'bob', bob.page, 'alice');
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');
  const indicator = bob.page.getByTestId('typing-indicator');
  const composer = alice.page.getByTestId('composer-input');
  await expect(indicator).toBeHidden();

  await composer.pressSequentially('Typing something');
  await expect(indicator).toBeVisible();
  await alice.page.getByTestId('composer-send').click();
  await expect(indicator).toBeHidden();
  await expectTexts(incoming(bob.page), ['Typing something']);

  // Keys, then nothing: the indicator goes away by itself after the idle time.
  await composer.pressSequentially('and now I stop');
  await expect(indicator).toBeVisible();
  await expect(indicator).toBeHidden({ timeout: 15_000 });
  await expect(composer).toHaveValue('and now I stop');
});
