// How the desktop app opens a received (or sent) file: the Host's `opener` hook. The Host looks
// the path up by message key (openFile({ key })), so the renderer never names a path here;
// this only hands that path to the system, and turns the system's refusal into a clear error.
// A file that could run code (src/shared/file-names.ts) is only ever shown in its folder.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Shell } from 'electron';
import { ApiError } from '../shared/contract.ts';
import { isDangerousFileName, refuseToOpen } from '../shared/file-names.ts';

export type FileOpener = (path: string, reveal: boolean) => Promise<void>;

/** Opens a file with the system's application, or shows it in its folder (`reveal`). */
export function createOpener(shell: Pick<Shell, 'openPath' | 'showItemInFolder'>): FileOpener {
  return async (path, reveal) => {
    // Both calls fail silently or vaguely on a file that is gone: say so plainly instead.
    if (!existsSync(path)) {
      throw new ApiError('invalid', `${basename(path)} is no longer at ${path}`);
    }
    if (reveal) {
      shell.showItemInFolder(path);
      return;
    }
    // The Host refuses these already; the process that holds the shell refuses them too.
    if (isDangerousFileName(path)) throw new ApiError('refused', refuseToOpen(basename(path)));
    // openPath resolves with an error message, '' on success; it never rejects.
    const error = await shell.openPath(path);
    if (error !== '') {
      throw new ApiError('refused', `the system could not open ${basename(path)}: ${error}`);
    }
  };
}
