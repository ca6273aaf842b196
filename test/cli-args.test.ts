// The command-line reading shared by the CLI, the relay, the desktop app and npm start.
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli/strata.ts';
import { readArgs, tokenConfig, type OptionTypes } from '../src/shared/args.ts';

const TYPES: OptionTypes = { host: 'string', port: 'string', json: 'boolean' };
const read = (argv: string[]) => readArgs(parseArgs(tokenConfig(argv, TYPES)).tokens, argv, TYPES);

describe('readArgs', () => {
  it('reads values in both spellings, flags and words, in order', () => {
    expect(read(['send', '--port', '80', '--host=a=b', '--json', 'x'])).toEqual([
      { kind: 'word', value: 'send' },
      { kind: 'value', name: 'port', value: '80' },
      { kind: 'value', name: 'host', value: 'a=b' },
      { kind: 'flag', name: 'json' },
      { kind: 'word', value: 'x' },
    ]);
  });

  it('calls a value missing at the end or when the next word is another option', () => {
    expect(read(['--port'])).toEqual([{ kind: 'missing', name: 'port' }]);
    expect(read(['--host', '--port=7001'])[0]).toEqual({ kind: 'missing', name: 'host' });
    expect(read(['--host=--x'])).toEqual([{ kind: 'value', name: 'host', value: '--x' }]);
  });

  it('keeps a value with one dash for its own check', () => {
    expect(read(['--port', '-1'])).toEqual([{ kind: 'value', name: 'port', value: '-1' }]);
  });

  it('names unknown long options, and keeps one-dash words and words after -- as words', () => {
    expect(read(['--bogus=1', '-p', '-abc', '-', '--', '--json'])).toEqual([
      { kind: 'unknown', name: 'bogus' },
      { kind: 'word', value: '-p' },
      { kind: 'word', value: '-abc' },
      { kind: 'word', value: '-' },
      { kind: 'word', value: '--json' },
    ]);
  });
});

describe('the strata command line', () => {
  it('reads the command, its arguments and options in any order, and text after --', () => {
    const args = parseCommandLine(['--profile=p', 'send', 'bob', '--json', '--', '--verbose']);
    expect(args.command).toBe('send');
    expect(args.positional).toEqual(['bob', '--verbose']);
    expect([...args.flags]).toEqual([
      ['profile', 'p'],
      ['json', true],
    ]);
    expect(parseCommandLine(['send', 'bob', '-5']).positional).toEqual(['bob', '-5']);
  });

  it('refuses an unknown option and a missing value, with the messages it always gave', () => {
    expect(() => parseCommandLine(['--bogus'])).toThrow('unknown option --bogus');
    expect(() => parseCommandLine(['--profile', '--relay', 'x'])).toThrow(
      '--profile needs a value',
    );
    expect(() => parseCommandLine(['history', '--profile'])).toThrow('--profile needs a value');
  });
});
