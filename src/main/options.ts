// The desktop app's command line and what follows from it, as pure functions (options.test.ts):
//   --profile NAME   which profile (default "default"); each is its own app instance
//   --relay URL      the relay to use (else the one the profile remembers)
//   --user NAME      log in as NAME at start
//   --position left|right   put the window on that half of the primary display (npm start)
//   --downloads DIR  save received files in DIR, an absolute path (saved in the profile)
//   --insecure       allow plain ws:// to a relay on another machine
// Any other argument is Electron's or Chromium's (the app path, --no-sandbox, --enable-logging...)
// and is left to them.
import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { readArgs, tokenConfig, type OptionTypes } from '../shared/args.ts';

export const DEFAULT_PROFILE = 'default';
const NAME_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;

export type WindowPosition = 'left' | 'right';

export interface MainOptions {
  profile: string;
  relayUrl?: string;
  user?: string;
  position?: WindowPosition;
  downloadsDir?: string;
  insecure?: boolean;
}

export class OptionsError extends Error {
  override name = 'OptionsError';
}

/** A name that is safe as one path segment: no separator, and not "." or "..". */
function isSafeName(value: string): boolean {
  return NAME_PATTERN.test(value) && !/^\.+$/.test(value);
}

const FLAGS: Record<string, (options: MainOptions, value: string) => void> = {
  profile: (options, value) => {
    if (!isSafeName(value)) {
      throw new OptionsError(
        `--profile must be 1 to 32 letters, digits, '.', '_' or '-' (not only dots): ${JSON.stringify(value)}`,
      );
    }
    options.profile = value;
  },
  relay: (options, value) => {
    const url = URL.parse(value);
    if (url === null || (url.protocol !== 'ws:' && url.protocol !== 'wss:') || url.host === '') {
      throw new OptionsError(
        `--relay must be a ws:// or wss:// address, e.g. ws://127.0.0.1:7000/: ${JSON.stringify(value)}`,
      );
    }
    options.relayUrl = value;
  },
  user: (options, value) => {
    if (!NAME_PATTERN.test(value)) {
      throw new OptionsError(
        `--user must be 1 to 32 letters, digits, '.', '_' or '-': ${JSON.stringify(value)}`,
      );
    }
    options.user = value;
  },
  position: (options, value) => {
    if (value !== 'left' && value !== 'right') {
      throw new OptionsError(`--position must be left or right: ${JSON.stringify(value)}`);
    }
    options.position = value;
  },
  downloads: (options, value) => {
    if (!isAbsolute(value)) {
      throw new OptionsError(`--downloads must be an absolute path: ${JSON.stringify(value)}`);
    }
    options.downloadsDir = value;
  },
};

const TYPES: OptionTypes = {
  ...Object.fromEntries(Object.keys(FLAGS).map((name) => [name, 'string'])),
  insecure: 'boolean',
};

/** Parses the app's own flags out of `argv` (process.argv without the executable). */
export function parseMainArgs(argv: readonly string[]): MainOptions {
  const options: MainOptions = { profile: DEFAULT_PROFILE };
  for (const a of readArgs(parseArgs(tokenConfig(argv, TYPES)).tokens, argv, TYPES)) {
    if (a.kind === 'missing') throw new OptionsError(`--${a.name} needs a value`);
    if (a.kind === 'value') FLAGS[a.name]!(options, a.value);
    if (a.kind === 'flag' && a.name === 'insecure') options.insecure = true;
  }
  return options;
}

/**
 * Electron's userData directory of a profile. Everything of the instance lives there:
 * Chromium's data, the single-instance lock, and the messenger's own files (its database and
 * remembered relay), so that two profiles never share anything and each has its own lock.
 */
export function profileUserDataDir(appData: string, profile: string): string {
  if (!isSafeName(profile))
    throw new OptionsError(`not a profile name: ${JSON.stringify(profile)}`);
  return join(appData, 'Strata', 'profiles', profile);
}

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The window's bounds on one half of the display's work area (the area without panels). */
export function windowBounds(position: WindowPosition, workArea: Rectangle): Rectangle {
  const left = Math.floor(workArea.width / 2);
  return position === 'left'
    ? { x: workArea.x, y: workArea.y, width: left, height: workArea.height }
    : {
        x: workArea.x + left,
        y: workArea.y,
        width: workArea.width - left,
        height: workArea.height,
      };
}
