// Where received files go: a 'Strata' folder inside the user's Downloads folder, so files
// from peers land where the user looks for downloads but apart from what browsers save.
// On Linux the Downloads folder is whatever xdg-user-dirs says (it is localised, e.g.
// ~/Téléchargements, and users move it); macOS and Windows use ~/Downloads.
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, posix, win32 } from 'node:path';

/** The subfolder of Downloads that Strata owns. */
export const STRATA_FOLDER = 'Strata';

/** Received files are private until the user moves them: only the owner may list the folder. */
const STRATA_FOLDER_MODE = 0o700;

/**
 * The folder received files are saved in: <Downloads>/Strata. On Linux (and other XDG
 * systems) <Downloads> is XDG_DOWNLOAD_DIR from $XDG_CONFIG_HOME/user-dirs.dirs (default
 * ~/.config/user-dirs.dirs), else ~/Downloads. Nothing is created here.
 */
export function defaultDownloadsDir(
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
  platform: NodeJS.Platform = process.platform,
): string {
  const path = platform === 'win32' ? win32 : posix;
  const downloads =
    platform === 'win32' || platform === 'darwin'
      ? path.join(home, 'Downloads')
      : (xdgDownloadDir(env, home) ?? path.join(home, 'Downloads'));
  return path.join(downloads, STRATA_FOLDER);
}

/** XDG_DOWNLOAD_DIR from user-dirs.dirs, or undefined when the file or the entry is missing. */
function xdgDownloadDir(env: NodeJS.ProcessEnv, home: string): string | undefined {
  // The XDG spec ignores a relative XDG_CONFIG_HOME.
  const configured = env.XDG_CONFIG_HOME;
  const configHome =
    configured !== undefined && posix.isAbsolute(configured)
      ? configured
      : posix.join(home, '.config');
  let text: string;
  try {
    text = readFileSync(posix.join(configHome, 'user-dirs.dirs'), 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
    throw error;
  }
  return parseUserDirs(text, home).get('XDG_DOWNLOAD_DIR');
}

/**
 * The entries of a user-dirs.dirs file. Its format (xdg-user-dirs(5)) is a shell fragment
 * restricted to lines `XDG_NAME_DIR="$HOME/path"` or `XDG_NAME_DIR="/absolute/path"`, with
 * backslash escapes inside the quotes. Only $HOME at the start is expanded; the file is never
 * run by a shell, and any other line (or a relative path) is ignored. Later lines win, as
 * they would in a shell.
 */
export function parseUserDirs(text: string, home: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*(XDG_[A-Z0-9_]+_DIR)="((?:[^"\\]|\\.)*)"\s*$/.exec(line);
    if (match === null) continue;
    const [, key = '', quoted = ''] = match;
    const value = quoted.replace(/\\(.)/g, '$1');
    const expanded =
      value === '$HOME' || value.startsWith('$HOME/') ? home + value.slice('$HOME'.length) : value;
    if (posix.isAbsolute(expanded)) entries.set(key, posix.normalize(expanded));
  }
  return entries;
}

/**
 * Creates dir when missing (its parents with default permissions, dir itself 0o700) and
 * checks it is a directory this process can create files in. Returns dir. Throws an Error that
 * names the folder and the problem.
 */
export function ensureDownloadsDir(dir: string): string {
  if (!isAbsolute(dir)) throw new Error(`downloads folder must be an absolute path, not ${dir}`);
  try {
    mkdirSync(dirname(dir), { recursive: true });
  } catch (error) {
    throw new Error(`cannot create downloads folder ${dir}: ${describe(error)}`, { cause: error });
  }
  try {
    mkdirSync(dir, { mode: STRATA_FOLDER_MODE });
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) {
      throw new Error(`cannot create downloads folder ${dir}: ${describe(error)}`, {
        cause: error,
      });
    }
  }
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (error) {
    // A dangling symlink: mkdir saw the name taken, stat finds nothing behind it.
    throw new Error(`cannot open downloads folder ${dir}: ${describe(error)}`, { cause: error });
  }
  if (!isDirectory) throw new Error(`downloads folder ${dir} exists but is not a directory`);
  try {
    probeWrite(dir);
  } catch (error) {
    throw new Error(`downloads folder ${dir} is not writable: ${describe(error)}`, {
      cause: error,
    });
  }
  return dir;
}

/**
 * Creates and removes a file in dir. access(W_OK) is not enough: it says yes to root on
 * file systems that refuse new files (sysfs, some FUSE and network mounts).
 */
function probeWrite(dir: string): void {
  const probe = join(dir, `.strata-write-check-${process.pid}-${randomUUID()}`);
  closeSync(openSync(probe, 'wx', 0o600));
  unlinkSync(probe);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
