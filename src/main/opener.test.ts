import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../shared/contract.ts';
import { createOpener } from './opener.ts';

/** A stand-in for Electron's shell: records what it was asked, answers openPath with `error`. */
function fakeShell(error = '') {
  const calls: [string, string][] = [];
  return {
    calls,
    async openPath(path: string) {
      calls.push(['openPath', path]);
      return error;
    },
    showItemInFolder(path: string) {
      calls.push(['showItemInFolder', path]);
    },
  };
}

function file(name = 'report.pdf'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'strata-opener-')), name);
  writeFileSync(path, 'x');
  return path;
}

describe('createOpener', () => {
  it('opens a file with the system application', async () => {
    const shell = fakeShell();
    const path = file();
    await createOpener(shell)(path, false);
    expect(shell.calls).toEqual([['openPath', path]]);
  });

  it('reveals a file in its folder instead when asked', async () => {
    const shell = fakeShell();
    const path = file();
    await createOpener(shell)(path, true);
    expect(shell.calls).toEqual([['showItemInFolder', path]]);
  });

  it("turns openPath's error string into an ApiError", async () => {
    const shell = fakeShell('No application is registered as handling this file');
    const error = await createOpener(shell)(file(), false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      code: 'refused',
      message:
        'the system could not open report.pdf: No application is registered as handling this file',
    });
  });

  it('refuses to open a file that could run code, and still shows it in its folder', async () => {
    const shell = fakeShell();
    for (const name of ['setup.exe', 'start.desktop', 'install.sh', 'x.EXE']) {
      const path = file(name);
      await expect(createOpener(shell)(path, false)).rejects.toMatchObject({
        code: 'refused',
        message: expect.stringMatching(
          new RegExp(`^${name.replace('.', '\\.')} is a type of file that can run programs`),
        ),
      });
      await createOpener(shell)(path, true);
      expect(shell.calls.at(-1)).toEqual(['showItemInFolder', path]);
    }
    expect(shell.calls.filter(([call]) => call === 'openPath')).toEqual([]);
  });

  it('says a file is gone rather than asking the system about it', async () => {
    const shell = fakeShell();
    const gone = join(mkdtempSync(join(tmpdir(), 'strata-opener-')), 'moved.txt');
    for (const reveal of [false, true]) {
      await expect(createOpener(shell)(gone, reveal)).rejects.toMatchObject({
        code: 'invalid',
        message: `moved.txt is no longer at ${gone}`,
      });
    }
    expect(shell.calls).toEqual([]);
  });
});
