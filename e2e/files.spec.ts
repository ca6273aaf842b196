// Scenario: files between two windows. A file dropped on Alice's chat appears in Bob's with its
// progress, then as the file itself, byte-identical (its SHA-256 as served by Bob's host); files
// picked with the attach button (several at once, an image previewed); a file over the size
// limit refused before any upload (and the downloads folder shown read-only: it is given with
// --downloads); a large file paused and resumed (both windows show the pause, and the sender's
// progress moves on after it); one cancelled by its receiver, and one by its sender (each
// window says who cancelled it, and nothing is offered to retry).
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test as base, type OpenApp } from './fixtures.ts';
import { tempDir, type RelayProcess } from './processes.ts';
import {
  attachFiles,
  dropFiles,
  fileBubble,
  fileBytes,
  meet,
  openChat,
  outgoing,
  watchFileStates,
} from './ui.ts';

/** A downloads folder of this test's own (never the machine's Downloads), removed after it. */
const test = base.extend<{ downloads: string }>({
  // eslint-disable-next-line no-empty-pattern
  downloads: async ({}, use) => {
    const dir = tempDir('strata-e2e-downloads-');
    await use(dir);
    rmSync(dir, { recursive: true, force: true });
  },
});

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A 1×1 PNG, so that the receiving window can show a real preview. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

test('a file dropped on one window arrives in the other with progress, byte-identical', async ({
  app,
  downloads,
}) => {
  const alice = await app('alice');
  const bob = await app('bob', { downloads });
  await meet(alice.page, 'bob', bob.page, 'alice');
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');

  const bytes = randomBytes(2 * 1024 * 1024);
  const seen = await watchFileStates(bob.page);
  await dropFiles(alice.page, [{ name: 'lecture notes.bin', bytes }]);

  const sent = fileBubble(alice.page, 'out');
  await expect(sent.getByTestId('file-name')).toHaveText('lecture notes.bin');
  await expect(sent.getByTestId('file-size')).toHaveText('2\u00a0MB');

  const received = fileBubble(bob.page, 'in');
  await expect(received).toBeVisible();
  await expect(received).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(received.getByTestId('file-name')).toHaveText('lecture notes.bin');
  await expect(received.getByTestId('file-size')).toHaveText('2\u00a0MB');
  await expect(received.getByTestId('file-download')).toBeVisible();
  // Bob's window showed the file on its way, with a progress bar, before it was done.
  const states = await seen();
  expect(states.some((s) => s.state === 'receiving' && s.progress !== null)).toBe(true);
  expect(states.some((s) => s.state === 'verifying' || (s.progress ?? 0) < 1)).toBe(true);
  // Delivered only once Bob's app verified the SHA-256.
  await expect(outgoing(alice.page).last()).toHaveAttribute('data-status', /delivered|read/);
  await expect(sent).toHaveAttribute('data-state', 'done');

  expect(sha256(await fileBytes(bob.page, received))).toBe(sha256(bytes));
  // Saved in the downloads folder chosen in Bob's Settings, and the bubble says where.
  expect(readdirSync(downloads)).toEqual(['lecture notes.bin']);
  await expect(received.getByTestId('file-saved')).toHaveText(`Saved in ${downloads}`);
  await expect(received.getByTestId('file-saved')).toHaveAttribute(
    'title',
    join(downloads, 'lecture notes.bin'),
  );
  await expect(sent.getByTestId('file-saved')).toHaveCount(0);
  expect(sha256(readFileSync(join(downloads, 'lecture notes.bin')))).toBe(sha256(bytes));
  // The sender can fetch its own copy too.
  expect(sha256(await fileBytes(alice.page, sent))).toBe(sha256(bytes));
  // The contact list previews the file by name.
  await expect(bob.page.getByTestId('contact-alice')).toContainText('📎 lecture notes.bin');
});

test('files picked with the attach button go together; an image is previewed', async ({
  app,
  downloads,
}) => {
  const alice = await app('alice');
  const bob = await app('bob', { downloads });
  await meet(alice.page, 'bob', bob.page, 'alice');
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');

  const text = new TextEncoder().encode('Page 12: the CRC example divides by 1011, not 1101.\n');
  await attachFiles(alice.page, [
    { name: 'errata.txt', mimeType: 'text/plain', buffer: Buffer.from(text) },
    { name: 'dot.png', mimeType: 'image/png', buffer: PNG },
  ]);

  const received = bob.page.getByTestId('file-bubble');
  await expect(received).toHaveCount(2, { timeout: 20_000 });
  await expect(received.nth(0)).toHaveAttribute('data-state', 'done', { timeout: 20_000 });
  await expect(received.nth(1)).toHaveAttribute('data-state', 'done', { timeout: 20_000 });
  await expect(received.getByTestId('file-name')).toHaveText(['errata.txt', 'dot.png']);
  expect(sha256(await fileBytes(bob.page, received.nth(0)))).toBe(sha256(text));
  expect(sha256(await fileBytes(bob.page, received.nth(1)))).toBe(sha256(PNG));

  // The image shows inline, its bytes through the API as the desktop app gets them too; the
  // text file shows none.
  const preview = received.nth(1).getByTestId('file-preview');
  await expect(preview).toBeVisible();
  await expect(preview).toHaveAttribute('src', /^data:image\/png;base64,/);
  await expect
    .poll(() =>
      preview.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
    )
    .toBe(1);
  await expect(received.nth(0).getByTestId('file-preview')).toHaveCount(0);
});

test('a file over the size limit is refused before it is uploaded', async ({ app, target }) => {
  const alice = await app('alice');
  const bob = await app('bob');
  await meet(alice.page, 'bob', bob.page, 'alice');

  await alice.page.getByTestId('settings-open').click();
  const limit = alice.page.getByTestId('settings-max-file-mb');
  await expect(limit).toHaveValue('8192');
  // The downloads folder is shown, not typed: the page has no way to name another.
  const folder = alice.page.getByTestId('settings-downloads-dir');
  await expect(folder).toHaveText(/^\//);
  await expect(alice.page.locator('input[data-testid="settings-downloads-dir"]')).toHaveCount(0);
  if (target === 'browser') {
    await expect(alice.page.getByTestId('settings-downloads-choose')).toHaveCount(0);
    await expect(alice.page.getByTestId('settings-downloads-hint')).toContainText(
      'strata web --downloads',
    );
  } else {
    await expect(alice.page.getByTestId('settings-downloads-choose')).toBeVisible();
  }
  await limit.fill('1');
  await alice.page.getByTestId('settings-files-save').click();
  await expect(alice.page.getByTestId('settings-files-status')).toHaveAttribute('data-state', 'ok');
  await alice.page.getByTestId('settings-close').click();

  await openChat(alice.page, 'bob');
  await attachFiles(alice.page, [
    {
      name: 'too big.bin',
      mimeType: 'application/octet-stream',
      buffer: randomBytes(1024 * 1024 + 1),
    },
  ]);
  await expect(alice.page.getByTestId('toast')).toContainText('too big.bin');
  await expect(alice.page.getByTestId('toast')).toContainText('1\u00a0MB');
  await expect(alice.page.getByTestId('file-upload')).toHaveCount(0);
  await expect(alice.page.getByTestId('file-bubble')).toHaveCount(0);

  // The limit was saved in the profile: Settings opens with it again.
  await alice.page.getByTestId('settings-open').click();
  await expect(alice.page.getByTestId('settings-max-file-mb')).toHaveValue('1');
});

/**
 * The relay's channel limited to 1 MiB/s towards each user: a 64 MiB file then takes a minute,
 * so a click made once it is arriving lands while it is still on its way, however fast the
 * machine (unthrottled, it would cross loopback in about a second).
 */
const SLOW_CHANNEL = { rateBytesPerSec: 1024 * 1024 };

/**
 * Alice sends Bob a 64 MiB file named `name` through the slow channel, with both chats open;
 * resolves once Bob's window shows it arriving. `cleanup` removes the source file.
 */
async function slowTransfer(
  { app, relay, downloads }: { app: OpenApp; relay: RelayProcess; downloads: string },
  name: string,
) {
  await relay.admin(SLOW_CHANNEL);
  const alice = await app('alice');
  const bob = await app('bob', { downloads });
  await meet(alice.page, 'bob', bob.page, 'alice');
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');
  const dir = tempDir('strata-e2e-file-');
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const bytes = randomBytes(64 * 1024 * 1024);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  await alice.page.getByTestId('composer-file-input').setInputFiles(path);
  const sent = fileBubble(alice.page, 'out');
  const received = fileBubble(bob.page, 'in');
  try {
    await expect(received).toHaveAttribute('data-state', 'receiving', { timeout: 30_000 });
  } catch (e) {
    cleanup();
    throw e;
  }
  return { alice, bob, bytes, sent, received, cleanup };
}

test("a large file is paused and resumed: both windows show the pause, the sender's progress moves on, and it arrives whole", async ({
  app,
  relay,
  downloads,
}) => {
  // 64 MiB through a relay on a shared two-core machine takes tens of seconds.
  test.setTimeout(150_000);
  const { bob, bytes, sent, received, cleanup } = await slowTransfer(
    { app, relay, downloads },
    'dataset.bin',
  );
  try {
    // Paused in the middle: Bob's window already shows it arriving.
    await expect(sent).toHaveAttribute('data-state', 'sending');
    await sent.getByTestId('file-pause').click();
    await expect(sent).toHaveAttribute('data-state', 'paused');
    await expect(sent.getByTestId('file-resume')).toBeVisible();
    await expect(sent.getByTestId('file-pause')).toHaveCount(0);
    const progress = async () =>
      Number(await sent.getByTestId('file-progress').getAttribute('data-value'));
    const pausedAt = await progress();
    expect(pausedAt).toBeLessThan(1);
    // Bob's window says so, rather than showing a transfer that is still moving.
    await expect(received).toHaveAttribute('data-state', 'paused');
    await expect(received.getByTestId('file-progress-text')).toContainText('Paused by the sender');

    // Alice's own progress moves on after the resume, before the file is through.
    await sent.getByTestId('file-resume').click();
    await expect(sent).toHaveAttribute('data-state', 'sending');
    await expect(received).toHaveAttribute('data-state', 'receiving');
    await expect.poll(progress, { timeout: 60_000 }).toBeGreaterThan(pausedAt + 0.02);
    await expect(sent).toHaveAttribute('data-state', 'sending');

    // The rest goes at full speed.
    await relay.admin({ rateBytesPerSec: 0 });
    await expect(received).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
    expect(sha256(await fileBytes(bob.page, received))).toBe(sha256(bytes));
  } finally {
    cleanup();
  }
});

test('the receiver cancels a file on its way; nothing is saved, and the sender is told', async ({
  app,
  relay,
  downloads,
}) => {
  const { sent, received, cleanup } = await slowTransfer({ app, relay, downloads }, 'unwanted.bin');
  try {
    await received.getByTestId('file-cancel').click();
    await expect(received).toHaveAttribute('data-state', 'cancelled');
    await expect(received.getByTestId('file-progress')).toHaveCount(0);
    await expect(received.getByTestId('file-cancel')).toHaveCount(0);
    expect(readdirSync(downloads)).toEqual([]);
    // Alice hears of it: she stops sending, and her bubble says why.
    await expect(sent).toHaveAttribute('data-state', 'failed');
    await expect(sent.getByTestId('file-error')).toContainText('bob cancelled the file');
  } finally {
    cleanup();
  }
});

test('the sender cancels a file on its way: both windows say who cancelled it, and nothing is offered to retry', async ({
  app,
  relay,
  downloads,
}) => {
  const { alice, sent, received, cleanup } = await slowTransfer(
    { app, relay, downloads },
    'draft.bin',
  );
  try {
    await sent.getByTestId('file-cancel').click();
    // Alice's window: cancelled by her, not a failure to send.
    await expect(sent).toHaveAttribute('data-state', 'cancelled');
    await expect(sent.getByTestId('file-cancelled')).toHaveText('Cancelled by you');
    await expect(sent.getByTestId('file-error')).toHaveCount(0);
    await expect(alice.page.getByTestId('message-retry')).toHaveCount(0);
    // Bob's window: no longer receiving, no speed or time left, and nothing kept.
    await expect(received).toHaveAttribute('data-state', 'cancelled');
    await expect(received.getByTestId('file-cancelled')).toHaveText('Cancelled by the sender');
    await expect(received.getByTestId('file-progress')).toHaveCount(0);
    await expect(received.getByTestId('file-cancel')).toHaveCount(0);
    expect(readdirSync(downloads)).toEqual([]);
  } finally {
    cleanup();
  }
});
