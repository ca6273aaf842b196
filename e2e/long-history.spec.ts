// A conversation of 100,000 messages: the chat opens on the newest, the page holds only the
// rows in view (the list is virtualised), and scrolling up pages older history in without
// losing the place or growing the page.
import { seedHistory } from '../scripts/seed-history.ts';
import { expect, test } from './fixtures.ts';
import { messages, openChat } from './ui.ts';

const COUNT = 100_000;
/** Far more than a window shows, far fewer than the conversation: proof of virtualisation. */
const MAX_ROWS_IN_PAGE = 120;

test('a chat of 100,000 messages opens on the newest and pages back, rendering only what is in view', async ({
  app,
}) => {
  // Create the profile as a user would (log in once), then fill it while the app is closed.
  const first = await app('alice');
  await first.close();
  seedHistory({ profileDir: first.profileDir, peer: 'bob', count: COUNT });

  const alice = await app('alice');
  await openChat(alice.page, 'bob');
  const newest = messages(alice.page).filter({ hasText: `Message ${COUNT} of ${COUNT}` });
  await expect(newest).toBeVisible();
  expect(await messages(alice.page).count()).toBeLessThan(MAX_ROWS_IN_PAGE);

  // Scroll to the top again and again: each time, older messages are paged in above.
  const list = alice.page.getByTestId('message-list');
  const oldestShown = async () =>
    Math.min(
      ...(await messages(alice.page).allTextContents()).map((t) =>
        Number(/Message (\d+) of/.exec(t)?.[1] ?? Infinity),
      ),
    );
  let oldest = await oldestShown();
  for (let page = 0; page < 5; page++) {
    await list.evaluate((el) => el.scrollTo({ top: 0 }));
    await expect.poll(oldestShown).toBeLessThan(oldest);
    oldest = await oldestShown();
    expect(await messages(alice.page).count()).toBeLessThan(MAX_ROWS_IN_PAGE);
  }
  expect(oldest).toBeLessThan(COUNT - 5 * 100);
});
