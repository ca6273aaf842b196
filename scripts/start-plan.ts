// The decisions of `npm start` (scripts/start.ts), as pure functions that test/start.test.ts
// checks without starting anything: the command line, whether Electron can run here, and
// what to launch for Alice and Bob.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readArgs, tokenConfig, type OptionTypes } from '../src/shared/args.ts';

export const HELP = `Usage: npm start [-- OPTIONS]

Starts a relay on this machine and two app instances, Alice and Bob, logged in and
side by side: Electron windows where Electron is installed, else the same UI served by
two browser hosts (open the two printed addresses).

Options:
  --relay URL   use this relay (ws://HOST:PORT/) instead of starting one
  --browser     browser-host mode even where Electron is installed
  --data DIR    where the relay's data, the two profiles and the files each receives
                (DIR/downloads/alice, DIR/downloads/bob) live (default ./.strata)
  --help        this text

Stop everything with Ctrl+C.`;

export const FALLBACK_LINE =
  'Electron is not installed on this machine (no binary, and it cannot be downloaded here): ' +
  'opening Alice and Bob in browser-host mode instead.';
export const BROWSER_LINE = 'Opening Alice and Bob in browser-host mode (--browser).';

/** The relay's port when it is free; any free port otherwise. */
export const PREFERRED_RELAY_PORT = 7000;

export interface StartOptions {
  relayUrl?: string;
  browser: boolean;
  dataDir: string;
  help: boolean;
}

export class StartUsageError extends Error {
  override name = 'StartUsageError';
}

const OPTIONS: OptionTypes = {
  relay: 'string',
  data: 'string',
  browser: 'boolean',
  help: 'boolean',
};

export function parseStartArgs(argv: readonly string[], defaultDataDir: string): StartOptions {
  const options: StartOptions = { browser: false, dataDir: defaultDataDir, help: false };
  for (const a of readArgs(parseArgs(tokenConfig(argv, OPTIONS)).tokens, argv, OPTIONS)) {
    if (a.kind === 'word' && a.value === '-h') options.help = true;
    else if (a.kind === 'word') throw new StartUsageError(`unknown option ${a.value} (see --help)`);
    else if (a.kind === 'unknown')
      throw new StartUsageError(`unknown option --${a.name} (see --help)`);
    else if (a.kind === 'missing') throw new StartUsageError(`--${a.name} needs a value`);
    else if (a.kind === 'flag') options[a.name as 'browser' | 'help'] = true;
    else if (a.name === 'data') options.dataDir = a.value;
    else {
      const parsed = URL.parse(a.value);
      if (parsed === null || (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')) {
        throw new StartUsageError(`--relay must be a ws:// or wss:// address: ${a.value}`);
      }
      options.relayUrl = a.value;
    }
  }
  return options;
}

/**
 * The Electron binary, if it is really there. node_modules/electron/path.txt names it inside
 * node_modules/electron/dist once its postinstall has downloaded it. Asking the electron
 * package itself (require('electron')) would start that download where it is missing.
 */
export function electronBinary(
  electronDir: string,
  fs: { readText(path: string): string | null; exists(path: string): boolean },
): string | null {
  const relative = fs.readText(join(electronDir, 'path.txt'))?.trim();
  if (!relative) return null;
  const binary = join(electronDir, 'dist', relative);
  return fs.exists(binary) ? binary : null;
}

export interface ChildSpec {
  /** Who it is, for messages: "Alice", "Bob". */
  name: string;
  command: string;
  args: string[];
  /** Browser hosts print their page address as the first line of stdout. */
  printsUrl: boolean;
  /** Where this instance saves received files: one folder each, under the data directory. */
  downloads: string;
}

export const PEOPLE = [
  { name: 'Alice', user: 'alice', position: 'left' },
  { name: 'Bob', user: 'bob', position: 'right' },
] as const;

export function launchPlan(o: {
  relayUrl: string;
  electron: string | null;
  nodePath: string;
  root: string;
  dataDir: string;
}): ChildSpec[] {
  return PEOPLE.map(({ name, user, position }) => {
    const downloads = join(o.dataDir, 'downloads', user);
    return o.electron !== null
      ? {
          name,
          command: o.electron,
          args: [
            o.root,
            '--profile',
            user,
            '--user',
            user,
            '--relay',
            o.relayUrl,
            '--position',
            position,
            '--downloads',
            downloads,
          ],
          printsUrl: false,
          downloads,
        }
      : {
          name,
          command: o.nodePath,
          args: [
            join(o.root, 'src/cli/strata.ts'),
            'web',
            '--profile',
            join(o.dataDir, 'profiles', user),
            '--relay',
            o.relayUrl,
            '--user',
            user,
            '--downloads',
            downloads,
          ],
          printsUrl: true,
          downloads,
        };
  });
}
