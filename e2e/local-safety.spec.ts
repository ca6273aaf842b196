// Scenario: what a received file may do on this machine. Alice sends Bob a program and a file
// whose long name hides a second extension: Bob's window shows each with its real extension in
// sight, warns about the program and offers it only as a download (the desktop app offers
// "Show in folder", never "Open"); the bytes arrive intact. Bob's downloads folder is the one
// his host was started with, shown in Settings and not editable from the page.
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { expect, test as base } from './fixtures.ts';
import { tempDir } from './processes.ts';
import { attachFiles, fileBytes, meet, openChat } from './ui.ts';

/** A downloads folder of this test's own, removed after it. */
const test = base.extend<{ downloads: string }>({
  // eslint-disable-next-line no-empty-pattern
  downloads: async ({}, use) => {
    const dir = tempDir('strata-e2e-downloads-');
    await use(dir);
    rmSync(dir, { recursive: true, force: true });
  },
});

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('a program arrives saved with a warning, and a long name keeps its real extension in sight', async ({
  app,
  target,
  downloads,
}) => {
  const alice = await app('alice');
  const bob = await app('bob', { downloads });
  await meet(alice.page, 'bob', bob.page, 'alice');
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');

  const program = randomBytes(4096);
  const disguised = `Invoice for the March and April lessons, paid in full ${'with thanks '.repeat(6)}.pdf.exe`;
  await attachFiles(alice.page, [
    { name: 'setup.exe', mimeType: 'application/octet-stream', buffer: program },
    { name: disguised, mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('page 12\n') },
  ]);
  // Bob sends nothing: every file bubble in his window is one he received.
  const received = bob.page.getByTestId('file-bubble');
  await expect(received).toHaveCount(3, { timeout: 20_000 });
  for (let i = 0; i < 3; i++) {
    await expect(received.nth(i)).toHaveAttribute('data-state', 'done', { timeout: 20_000 });
  }
  const [exe, long, text] = [received.nth(0), received.nth(1), received.nth(2)];

  // The program: saved (its bytes served intact), a warning, no way to open it from the app.
  expect(sha256(await fileBytes(bob.page, exe))).toBe(sha256(program));
  await expect(exe.getByTestId('file-dangerous')).toContainText('can run programs');
  await expect(exe.getByTestId('file-open')).toHaveCount(0);
  if (target === 'electron') await expect(exe.getByTestId('file-reveal')).toBeVisible();
  else await expect(exe.getByTestId('file-download')).toBeVisible();
  await expect(text.getByTestId('file-dangerous')).toHaveCount(0);

  // The long name: shortened in the middle, its real extension whole and inside the bubble.
  await expect(long.getByTestId('file-dangerous')).toBeVisible();
  const extension = long.getByTestId('file-extension');
  await expect(extension).toHaveText('.exe');
  await expect(long.getByTestId('file-name')).toHaveAttribute('title', disguised);
  const shown = await extension.boundingBox();
  const bubble = await long.boundingBox();
  expect(shown).not.toBeNull();
  expect(shown!.width).toBeGreaterThan(10);
  expect(shown!.x + shown!.width).toBeLessThanOrEqual(bubble!.x + bubble!.width);
  const stemClipped = await long
    .locator('.file-name-stem')
    .evaluate((el) => el.scrollWidth > el.clientWidth);
  expect(stemClipped).toBe(true);

  // The downloads folder is the one Bob's host started with, shown and not editable here.
  await bob.page.getByTestId('settings-open').click();
  await expect(bob.page.getByTestId('settings-downloads-dir')).toHaveText(downloads);
  await expect(bob.page.locator('input[data-testid="settings-downloads-dir"]')).toHaveCount(0);
});
