// A text over the message limit (a 100 KB paste) is not a dead end: the composer offers to
// send it as a .txt file, which goes the way of any picked file and arrives byte for byte.
import { expect, test } from './fixtures.ts';
import { fileBubble, fileBytes, meet, openChat } from './ui.ts';

test('a paste over the limit is offered as a .txt file, and arrives whole', async ({ app }) => {
  const alice = await app('alice');
  const bob = await app('bob');
  await meet(alice.page, 'bob', bob.page, 'alice');
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');

  // 102,400 characters: 2,400 over the limit, with letters that take two bytes in UTF-8.
  const line = 'Лабораторная работа 3: line of the log, 0123456789.\n';
  const text = line.repeat(Math.ceil(102_400 / line.length)).slice(0, 102_400);
  const input = alice.page.getByTestId('composer-input');
  // Pasted: the field takes the whole text with one input event, as a browser's paste does
  // (fill() and insertText() insert it line by line, thousands of events for this text).
  await input.evaluate((el, pasted) => {
    const field = el as unknown as { value: string; dispatchEvent(e: unknown): boolean };
    const g = globalThis as unknown as {
      HTMLTextAreaElement: { prototype: object };
      InputEvent: new (type: string, init: object) => unknown;
    };
    // React tracks the value it set: the native setter makes the change visible to it.
    Object.getOwnPropertyDescriptor(g.HTMLTextAreaElement.prototype, 'value')!.set!.call(
      field,
      pasted,
    );
    field.dispatchEvent(new g.InputEvent('input', { bubbles: true, inputType: 'insertFromPaste' }));
  }, text);
  await expect(alice.page.getByTestId('composer-limit')).toContainText(
    '2400 characters over the limit',
  );
  await expect(alice.page.getByTestId('composer-send')).toBeDisabled();

  await alice.page.getByTestId('composer-send-as-file').click();
  const sent = fileBubble(alice.page, 'out');
  await expect(sent.getByTestId('file-name')).toHaveText(/^message-\d{4}-\d{2}-\d{2}-\d{4}\.txt$/);
  await expect(input).toHaveValue('');

  const received = fileBubble(bob.page, 'in');
  await expect(received).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  expect((await fileBytes(bob.page, received)).toString('utf8')).toBe(text);
});
