// What the Host does with files on this machine for the renderer, always by message key or
// through the carrier's own dialog, never by a path the renderer names: open or reveal a
// message's file (never opening one that can run code), change the downloads folder through
// the carrier's folder picker, and read a finished image for its preview.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { ApiError, type FileSettingsView } from '../../shared/contract.ts';
import { isDangerousFileName, refuseToOpen } from '../../shared/file-names.ts';
import { PREVIEW_MAX_BYTES } from '../../shared/preview.ts';
import { ensureDownloadsDir } from '../files/downloads.ts';
import type { Messenger } from '../messenger.ts';

export type FileOpener = (path: string, reveal: boolean) => Promise<void>;
export type FolderPicker = (current: string) => Promise<string | null>;

/**
 * Opens the file of message `key` with the carrier's opener, or shows it in its folder
 * (`reveal`). A file that could run code is saved and may be shown in its folder, but is never
 * opened from the app: a click must not run what a peer sent.
 */
export async function openMessageFile(
  m: Messenger,
  key: string,
  reveal: boolean,
  opener: FileOpener | null,
): Promise<void> {
  const path = m.filePath(key);
  if (path === null) throw new ApiError('invalid', 'that message has no file on this machine');
  if (opener === null) {
    throw new ApiError('invalid', 'this app cannot open files itself: download the file');
  }
  const name = m.message(key)?.file?.name ?? '';
  if (!reveal && (isDangerousFileName(path) || isDangerousFileName(name))) {
    throw new ApiError('refused', refuseToOpen(basename(path)));
  }
  await opener(path, reveal);
}

/**
 * The downloads folder the user picks in the carrier's own dialog (null when cancelled),
 * created if needed and saved in the profile. `stillCurrent` says whether `m` is still the
 * engine once the dialog closes. Without a picker (the browser host) it is refused: the
 * folder is then only the one given on the command line.
 */
export async function pickDownloadsDir(
  m: Messenger,
  picker: FolderPicker | null,
  stillCurrent: () => boolean,
): Promise<FileSettingsView | null> {
  if (picker === null) {
    throw new ApiError(
      'forbidden',
      'the downloads folder of the browser host is set when it starts: `strata web --downloads DIR`',
    );
  }
  const chosen = await picker(m.fileSettings.downloadsDir);
  if (chosen === null) return null;
  if (!stillCurrent()) throw new ApiError('notLoggedIn', 'the profile was logged out');
  let dir: string;
  try {
    dir = ensureDownloadsDir(chosen);
  } catch (e) {
    throw new ApiError('invalid', (e as Error).message);
  }
  return m.updateFileSettings({ downloadsDir: dir });
}

/** An image's bytes for its preview, or null when it is too large or no longer there. */
export async function readPreview(
  path: string,
  type: string,
): Promise<{ type: string; base64: string } | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > PREVIEW_MAX_BYTES) return null;
    const bytes = await handle.readFile();
    return bytes.length > PREVIEW_MAX_BYTES ? null : { type, base64: bytes.toString('base64') };
  } finally {
    await handle.close();
  }
}
