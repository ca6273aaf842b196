import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultDownloadsDir, ensureDownloadsDir, parseUserDirs } from './downloads.ts';

let home: string;

beforeEach(() => {
  home = realpathSync(mkdtempSync(join(tmpdir(), 'strata-downloads-')));
});

afterEach(() => {
  chmodSync(home, 0o700);
  rmSync(home, { recursive: true, force: true });
});

function writeUserDirs(configHome: string, text: string): void {
  mkdirSync(configHome, { recursive: true });
  writeFileSync(join(configHome, 'user-dirs.dirs'), text);
}

describe('defaultDownloadsDir', () => {
  it('reads XDG_DOWNLOAD_DIR from ~/.config/user-dirs.dirs on Linux, expanding $HOME', () => {
    writeUserDirs(
      join(home, '.config'),
      [
        '# This file is written by xdg-user-dirs-update',
        'XDG_DESKTOP_DIR="$HOME/Desktop"',
        'XDG_DOWNLOAD_DIR="$HOME/Téléchargements"',
        '',
      ].join('\n'),
    );
    expect(defaultDownloadsDir({}, home, 'linux')).toBe(join(home, 'Téléchargements', 'Strata'));
  });

  it('honours an absolute XDG_CONFIG_HOME and ignores a relative one', () => {
    const configHome = join(home, 'elsewhere');
    writeUserDirs(configHome, 'XDG_DOWNLOAD_DIR="/srv/incoming"\n');
    expect(defaultDownloadsDir({ XDG_CONFIG_HOME: configHome }, home, 'linux')).toBe(
      '/srv/incoming/Strata',
    );
    expect(defaultDownloadsDir({ XDG_CONFIG_HOME: 'elsewhere' }, home, 'linux')).toBe(
      join(home, 'Downloads', 'Strata'),
    );
  });

  it('falls back to ~/Downloads without the file or the entry', () => {
    expect(defaultDownloadsDir({}, home, 'linux')).toBe(join(home, 'Downloads', 'Strata'));
    writeUserDirs(join(home, '.config'), 'XDG_MUSIC_DIR="$HOME/Music"\n');
    expect(defaultDownloadsDir({}, home, 'freebsd')).toBe(join(home, 'Downloads', 'Strata'));
  });

  it('uses ~/Downloads on macOS and Windows, whatever user-dirs.dirs says', () => {
    writeUserDirs(join(home, '.config'), 'XDG_DOWNLOAD_DIR="/srv/incoming"\n');
    expect(defaultDownloadsDir({}, '/Users/ann', 'darwin')).toBe('/Users/ann/Downloads/Strata');
    expect(defaultDownloadsDir({}, 'C:\\Users\\ann', 'win32')).toBe(
      'C:\\Users\\ann\\Downloads\\Strata',
    );
  });

  it('reads the real environment by default', () => {
    expect(defaultDownloadsDir().endsWith('Strata')).toBe(true);
  });
});

describe('parseUserDirs', () => {
  it('expands only a leading $HOME, unescapes, and lets later lines win', () => {
    const entries = parseUserDirs(
      [
        'XDG_DOWNLOAD_DIR="$HOME/first"',
        '  XDG_DOWNLOAD_DIR="$HOME/My \\"Files\\"/./in"  ',
        'XDG_DESKTOP_DIR="$HOME"',
        'XDG_MUSIC_DIR="/x/$HOME/$(rm -rf ~)"',
        'XDG_VIDEOS_DIR="relative/path"',
        'XDG_PICTURES_DIR="${HOME}/Pictures"',
        'XDG_TEMPLATES_DIR="$HOMEtemplates"',
        'XDG_PUBLICSHARE_DIR=$HOME/unquoted',
        '# XDG_DOCUMENTS_DIR="$HOME/Documents"',
      ].join('\n'),
      '/home/ann',
    );
    expect(Object.fromEntries(entries)).toEqual({
      XDG_DOWNLOAD_DIR: '/home/ann/My "Files"/in',
      XDG_DESKTOP_DIR: '/home/ann',
      XDG_MUSIC_DIR: '/x/$HOME/$(rm -rf ~)',
    });
  });
});

describe('ensureDownloadsDir', () => {
  it('creates missing parents and the folder, the folder itself private (0o700)', () => {
    const dir = join(home, 'Downloads', 'Strata');
    expect(ensureDownloadsDir(dir)).toBe(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect((statSync(dir).mode & 0o777).toString(8)).toBe('700');
    // Only the Strata folder is made private; a Downloads folder it creates is an ordinary one.
    expect(statSync(join(home, 'Downloads')).mode & 0o077).not.toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('accepts an existing folder as it is', () => {
    const dir = join(home, 'Strata');
    mkdirSync(dir, { mode: 0o755 });
    expect(ensureDownloadsDir(dir)).toBe(dir);
    expect((statSync(dir).mode & 0o777).toString(8)).toBe('755');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a relative path', () => {
    expect(() => ensureDownloadsDir('Downloads/Strata')).toThrow(/must be an absolute path/);
  });

  it('refuses a file where the folder should be', () => {
    const dir = join(home, 'Strata');
    writeFileSync(dir, '');
    expect(() => ensureDownloadsDir(dir)).toThrow(
      `downloads folder ${dir} exists but is not a directory`,
    );
  });

  it('refuses a file where a parent should be', () => {
    writeFileSync(join(home, 'Downloads'), '');
    const dir = join(home, 'Downloads', 'Strata');
    expect(() => ensureDownloadsDir(dir)).toThrow(`cannot create downloads folder ${dir}`);
  });

  it('refuses a dangling symlink', () => {
    const dir = join(home, 'Strata');
    symlinkSync(join(home, 'gone'), dir);
    expect(() => ensureDownloadsDir(dir)).toThrow(`cannot open downloads folder ${dir}`);
  });

  it('refuses a folder it cannot create files in', () => {
    const dir = unwritableDir();
    expect(() => ensureDownloadsDir(dir)).toThrow(`downloads folder ${dir} is not writable`);
  });
});

/**
 * A folder this process cannot create files in: a read-only temp folder, or for root (who
 * ignores permissions) sysfs, whose root refuses new files even to root. The premise is
 * checked, so the test cannot pass by accident.
 */
function unwritableDir(): string {
  const dir = join(home, 'read-only');
  mkdirSync(dir, { mode: 0o500 });
  const candidate = process.getuid?.() === 0 ? '/sys' : dir;
  expect(() => writeFileSync(join(candidate, 'premise-check'), '')).toThrow();
  return candidate;
}
