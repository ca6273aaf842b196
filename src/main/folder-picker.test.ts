import type { BrowserWindow, Dialog, OpenDialogReturnValue } from 'electron';
import { describe, expect, it } from 'vitest';
import { createFolderPicker } from './folder-picker.ts';

/** A stand-in for Electron's dialog: records its arguments, answers with `result`. */
function fakeDialog(result: OpenDialogReturnValue) {
  const calls: unknown[][] = [];
  const dialog = {
    showOpenDialog: async (...args: unknown[]) => {
      calls.push(args);
      return result;
    },
  } as unknown as Pick<Dialog, 'showOpenDialog'>;
  return { calls, dialog };
}

describe('createFolderPicker', () => {
  it('opens a folder picker on the current folder, over the window, and returns the choice', async () => {
    const { calls, dialog } = fakeDialog({ canceled: false, filePaths: ['/home/amy/Inbox'] });
    const window = { id: 1 } as unknown as BrowserWindow;
    expect(await createFolderPicker(dialog, () => window)('/home/amy/Downloads')).toBe(
      '/home/amy/Inbox',
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBe(window);
    expect(calls[0]![1]).toMatchObject({
      defaultPath: '/home/amy/Downloads',
      properties: expect.arrayContaining(['openDirectory', 'createDirectory']),
    });
  });

  it('answers null when the user cancels, or when the dialog gives no absolute folder', async () => {
    for (const result of [
      { canceled: true, filePaths: ['/home/amy/Inbox'] },
      { canceled: false, filePaths: [] },
      { canceled: false, filePaths: ['Inbox'] },
    ]) {
      const { calls, dialog } = fakeDialog(result);
      expect(await createFolderPicker(dialog, () => null)('/home/amy/Downloads')).toBeNull();
      // Without a window, the dialog is shown on its own.
      expect(calls[0]).toHaveLength(1);
    }
  });

  it('shows one dialog at a time, and another once it is closed', async () => {
    let close: (r: OpenDialogReturnValue) => void = () => {};
    let shown = 0;
    const dialog = {
      showOpenDialog: () => {
        shown++;
        return new Promise<OpenDialogReturnValue>((resolve) => (close = resolve));
      },
    } as unknown as Pick<Dialog, 'showOpenDialog'>;
    const pick = createFolderPicker(dialog, () => null);
    const first = pick('/home/amy/Downloads');
    await expect(pick('/home/amy/Downloads')).rejects.toMatchObject({
      code: 'refused',
      message: 'the folder picker is already open',
    });
    close({ canceled: false, filePaths: ['/home/amy/Inbox'] });
    expect(await first).toBe('/home/amy/Inbox');
    const second = pick('/home/amy/Inbox');
    close({ canceled: true, filePaths: [] });
    expect(await second).toBeNull();
    expect(shown).toBe(2);
  });
});
