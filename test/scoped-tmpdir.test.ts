// The runs' temporary files: every test run (and the processes it starts) writes under one
// directory of its own, which goes when the run ends (scripts/scoped-tmpdir.ts).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scopeTmpdir } from '../scripts/scoped-tmpdir.ts';

describe('the run-scoped temporary directory', () => {
  it('is where this run writes its temporary files', () => {
    expect(basename(tmpdir())).toMatch(/^strata-run-/);
  });

  it('is removed with everything in it, and TMPDIR restored, when the run ends', () => {
    const before = process.env['TMPDIR'];
    const restore = scopeTmpdir('strata-scope-test-');
    const scoped = tmpdir();
    expect(dirname(scoped)).toBe(before);
    const leftover = mkdtempSync(join(tmpdir(), 'forgotten-'));
    writeFileSync(join(leftover, 'file'), 'a test that never cleaned up');
    restore();
    expect(existsSync(scoped)).toBe(false);
    expect(process.env['TMPDIR']).toBe(before);
  });
});
