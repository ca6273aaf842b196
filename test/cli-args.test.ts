// The command-line reading shared by the CLI, the relay, the desktop app and npm start.
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
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
