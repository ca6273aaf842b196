import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PROFILE,
  OptionsError,
  parseMainArgs,
  profileUserDataDir,
  windowBounds,
} from './options.ts';

describe('parseMainArgs', () => {
  it('defaults to the default profile and nothing else', () => {
    expect(parseMainArgs([])).toEqual({ profile: DEFAULT_PROFILE });
  });

  it('reads every flag, in both spellings, and leaves Electron and Chromium arguments alone', () => {
    expect(
      parseMainArgs([
        '.',
        '--no-sandbox',
        '--profile',
        'alice',
        '--relay=ws://127.0.0.1:7000/',
        '--enable-logging=stderr',
        '--user',
        'alice',
        '--position',
        'left',
      ]),
    ).toEqual({
      profile: 'alice',
      relayUrl: 'ws://127.0.0.1:7000/',
      user: 'alice',
      position: 'left',
    });
  });

  it('reads the folder for received files, which must be absolute', () => {
    expect(parseMainArgs(['--downloads', '/d/downloads/bob'])).toEqual({
      profile: DEFAULT_PROFILE,
      downloadsDir: '/d/downloads/bob',
    });
  });

  it('takes --insecure, for plain ws:// to a relay on another machine, and a wss:// pin', () => {
    const url = `wss://192.168.1.20:7000/#sha256=${'ab'.repeat(32)}`;
    expect(parseMainArgs(['--insecure', '--relay', url])).toEqual({
      profile: DEFAULT_PROFILE,
      relayUrl: url,
      insecure: true,
    });
  });

  it.each([
    [['--profile', '..'], /--profile must be/],
    [['--profile', '.'], /--profile must be/],
    [['--profile', 'a/b'], /--profile must be/],
    [['--profile', 'x'.repeat(33)], /--profile must be/],
    [['--profile=', 'alice'], /--profile must be/],
    [['--profile'], /--profile needs a value/],
    [['--profile', '--user', 'bob'], /--profile needs a value/],
    [['--relay', 'http://127.0.0.1:7000/'], /--relay must be a ws:\/\/ or wss:\/\/ address/],
    [['--relay', 'ws://'], /--relay must be/],
    [['--user', 'bob smith'], /--user must be/],
    [['--position', 'top'], /--position must be left or right/],
    [['--downloads', 'inbox'], /--downloads must be an absolute path/],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(() => parseMainArgs(argv)).toThrow(OptionsError);
    expect(() => parseMainArgs(argv)).toThrow(message);
  });
});

describe('profileUserDataDir', () => {
  it('puts each profile in its own directory under appData/Strata/profiles', () => {
    expect(profileUserDataDir('/home/a/.config', 'alice')).toBe(
      '/home/a/.config/Strata/profiles/alice',
    );
    expect(profileUserDataDir('/home/a/.config', 'bob')).toBe(
      '/home/a/.config/Strata/profiles/bob',
    );
  });

  it('refuses a name that would leave that directory', () => {
    expect(() => profileUserDataDir('/home/a/.config', '..')).toThrow(OptionsError);
    expect(() => profileUserDataDir('/home/a/.config', '../x')).toThrow(OptionsError);
  });
});

describe('windowBounds', () => {
  const workArea = { x: 0, y: 27, width: 1921, height: 1053 };

  it('splits the work area into two halves that touch and cover it', () => {
    const left = windowBounds('left', workArea);
    const right = windowBounds('right', workArea);
    expect(left).toEqual({ x: 0, y: 27, width: 960, height: 1053 });
    expect(right).toEqual({ x: 960, y: 27, width: 961, height: 1053 });
  });

  it('follows a work area that does not start at the origin (a second display, a side panel)', () => {
    expect(windowBounds('right', { x: 1920, y: 0, width: 1280, height: 1024 })).toEqual({
      x: 2560,
      y: 0,
      width: 640,
      height: 1024,
    });
  });
});
