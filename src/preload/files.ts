// Files dropped on or picked in the page are web File objects, which carry no path; the
// renderer needs one to send a file (`sendFile({ to, path })`). Electron's webUtils resolves a
// File the user chose to the path it was read from, and only in the preload: the page gets
// this one function, `window.strataFiles.pathForFile(file)`, and nothing else of webUtils.
import type { WebUtils } from 'electron';

/** What the renderer sees as `window.strataFiles`. */
export interface StrataFiles {
  /**
   * The path on disk of a File the user dropped or picked; null for a File that no file on
   * disk backs (built in script, pasted image data). Throws TypeError for anything not a File.
   */
  pathForFile(file: File): string | null;
}

export function createFiles(
  webUtils: Pick<WebUtils, 'getPathForFile'>,
  /** Tells main that the user chose this path (so that sendFile may send it). */
  grant: (path: string) => void = () => {},
): StrataFiles {
  return Object.freeze({
    pathForFile(file: File): string | null {
      // No instanceof check here: the File crossed the context bridge as a copy, and webUtils
      // is the authority on what it accepts (it throws for anything not a File).
      let path: string;
      try {
        path = webUtils.getPathForFile(file);
      } catch {
        throw new TypeError('pathForFile needs a File the user dropped or picked');
      }
      if (path === '') return null;
      grant(path);
      return path;
    },
  });
}
