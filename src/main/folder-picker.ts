// How the desktop app changes its downloads folder: the Host's `folderPicker` hook. The folder
// comes from the system's own dialog, shown by this process, and from nothing the page sends:
// chooseDownloadsDir takes no parameters, so a page that was taken over can at most open the
// dialog, and the user still chooses.
import { isAbsolute } from 'node:path';
import type { BrowserWindow, Dialog, OpenDialogOptions } from 'electron';
import type { FolderPicker } from '../core/host/local-files.ts';
import { ApiError } from '../shared/contract.ts';

/**
 * Opens the system's folder picker on `current` (over `parent()`'s window, when there is one);
 * resolves with the chosen folder, or null when the user cancels.
 */
export function createFolderPicker(
  dialog: Pick<Dialog, 'showOpenDialog'>,
  parent: () => BrowserWindow | null,
  title = 'Downloads folder',
): FolderPicker {
  let showing = false;
  return async (current) => {
    // One dialog at a time: a page that was taken over must not pile dialogs up on the user.
    if (showing) throw new ApiError('refused', 'the folder picker is already open');
    showing = true;
    try {
      return await pick(current);
    } finally {
      showing = false;
    }
  };

  async function pick(current: string): Promise<string | null> {
    const options: OpenDialogOptions = {
      title,
      defaultPath: current,
      buttonLabel: 'Choose',
      properties: ['openDirectory', 'createDirectory', 'dontAddToRecent'],
    };
    const window = parent();
    const result = await (window === null
      ? dialog.showOpenDialog(options)
      : dialog.showOpenDialog(window, options));
    const chosen = result.filePaths[0];
    if (result.canceled || chosen === undefined || !isAbsolute(chosen)) return null;
    return chosen;
  }
}
