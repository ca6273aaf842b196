import { describe, expect, it } from 'vitest';
import { FILE_FAILURES, fileFailure, fileFailureText, type FileFailureCode } from './failures.ts';

describe('file failures', () => {
  it('read every sentence of the table back as its code and values', () => {
    for (const [code, template] of Object.entries(FILE_FAILURES) as [FileFailureCode, string][]) {
      const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      // Values with spaces, so a greedy match would show. (A value holding the text that
      // follows it in the template, such as ': ', splits early; the sentence stays whole.)
      const vars = Object.fromEntries(names.map((n) => [n, `/tmp/a b.${n} 1.0 MiB`]));
      expect(fileFailure(fileFailureText(code, vars)), code).toEqual({ code, vars });
    }
  });

  it('read what the core writes today', () => {
    expect(fileFailure('bob cancelled the file')).toEqual({
      code: 'peerCancelled',
      vars: { peer: 'bob' },
    });
    expect(
      fileFailure('the relay refused it: no user "zed" has ever connected to this relay'),
    ).toEqual({
      code: 'relayRefused',
      vars: { detail: 'no user "zed" has ever connected to this relay' },
    });
    expect(
      fileFailure(
        'refused: not enough free space in /home/a/Downloads: need 1.0 GiB, have 12.0 MiB (1.0 GiB for the file and 64.0 MiB kept free)',
      ),
    ).toEqual({
      code: 'noRoom',
      vars: {
        dir: '/home/a/Downloads',
        need: '1.0 GiB',
        have: '12.0 MiB',
        size: '1.0 GiB',
        reserve: '64.0 MiB',
      },
    });
    expect(fileFailure('the file is larger than the 1000-byte limit')).toEqual({
      code: 'tooLarge',
      vars: { limit: '1000' },
    });
  });

  it('keep a sentence they do not know as it is', () => {
    expect(fileFailure('something new')).toEqual({
      code: 'other',
      vars: { text: 'something new' },
    });
  });
});
