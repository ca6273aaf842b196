import { describe, expect, it } from 'vitest';
import { fileSettingsForm, fileSettingsPatch, isAbsolutePath, MIB } from './file-settings-form.ts';

const current = {
  downloadsDir: '/home/alice/Downloads/Strata',
  maxFileBytes: 4096 * MIB,
  autoDownloadBytes: 100 * MIB,
};

describe('the Files settings form', () => {
  it('opens with the folder, the limit and the auto-download size in MB', () => {
    expect(fileSettingsForm(current)).toEqual({
      downloadsDir: '/home/alice/Downloads/Strata',
      maxFileMb: '4096',
      autoDownloadMb: '100',
    });
    expect(fileSettingsForm({ ...current, maxFileBytes: 1.5 * MIB }).maxFileMb).toBe('1.5');
  });

  it('patches only what changed', () => {
    expect(fileSettingsPatch(current, fileSettingsForm(current))).toEqual({ ok: true, patch: {} });
    expect(
      fileSettingsPatch(current, {
        downloadsDir: ' /srv/in ',
        maxFileMb: '100',
        autoDownloadMb: '0',
      }),
    ).toEqual({
      ok: true,
      patch: { downloadsDir: '/srv/in', maxFileBytes: 100 * MIB, autoDownloadBytes: 0 },
    });
    expect(
      fileSettingsPatch(current, {
        downloadsDir: current.downloadsDir,
        maxFileMb: '2,5',
        autoDownloadMb: '100',
      }),
    ).toEqual({ ok: true, patch: { maxFileBytes: 2.5 * MIB } });
  });

  it('refuses a relative or empty folder and a limit out of range', () => {
    expect(
      fileSettingsPatch(current, {
        downloadsDir: 'Downloads',
        maxFileMb: '0',
        autoDownloadMb: '-1',
      }),
    ).toEqual({
      ok: false,
      errors: {
        downloadsDir: 'notAbsolute',
        maxFileMb: 'outOfRange',
        autoDownloadMb: 'outOfRange',
      },
    });
    expect(
      fileSettingsPatch(current, { downloadsDir: '  ', maxFileMb: 'lots', autoDownloadMb: '' }),
    ).toEqual({
      ok: false,
      errors: { downloadsDir: 'empty', maxFileMb: 'notNumber', autoDownloadMb: 'empty' },
    });
  });

  it('knows absolute paths of every system', () => {
    for (const p of ['/', '/tmp/x', 'C:\\Users\\a', 'd:/data', '\\\\server\\share']) {
      expect(isAbsolutePath(p)).toBe(true);
    }
    for (const p of ['', 'x', './x', '../x', 'C:x', '~/Downloads']) {
      expect(isAbsolutePath(p)).toBe(false);
    }
  });
});
