import { describe, expect, it } from 'vitest';
import { fileSettingsForm, fileSettingsPatch, MIB } from './file-settings-form.ts';

const current = {
  downloadsDir: '/home/alice/Downloads/Strata',
  maxFileBytes: 4096 * MIB,
  autoDownloadBytes: 100 * MIB,
};

describe('the Files settings form', () => {
  it('opens with the limit and the auto-download size in MB, and has no field for the folder', () => {
    expect(fileSettingsForm(current)).toEqual({ maxFileMb: '4096', autoDownloadMb: '100' });
    expect(fileSettingsForm({ ...current, maxFileBytes: 1.5 * MIB }).maxFileMb).toBe('1.5');
  });

  it('patches only what changed, and never the folder', () => {
    expect(fileSettingsPatch(current, fileSettingsForm(current))).toEqual({ ok: true, patch: {} });
    expect(fileSettingsPatch(current, { maxFileMb: '100', autoDownloadMb: '0' })).toEqual({
      ok: true,
      patch: { maxFileBytes: 100 * MIB, autoDownloadBytes: 0 },
    });
    expect(fileSettingsPatch(current, { maxFileMb: '2,5', autoDownloadMb: '100' })).toEqual({
      ok: true,
      patch: { maxFileBytes: 2.5 * MIB },
    });
    // Even a form that carries a folder (an old page, a forged one) patches no folder.
    const forged = {
      maxFileMb: '100',
      autoDownloadMb: '100',
      downloadsDir: '/home/alice/.config/autostart',
    };
    expect(fileSettingsPatch(current, forged)).toEqual({
      ok: true,
      patch: { maxFileBytes: 100 * MIB },
    });
  });

  it('refuses sizes out of range or not a number', () => {
    expect(fileSettingsPatch(current, { maxFileMb: '0', autoDownloadMb: '-1' })).toEqual({
      ok: false,
      errors: { maxFileMb: 'outOfRange', autoDownloadMb: 'outOfRange' },
    });
    expect(fileSettingsPatch(current, { maxFileMb: 'lots', autoDownloadMb: '' })).toEqual({
      ok: false,
      errors: { maxFileMb: 'notNumber', autoDownloadMb: 'empty' },
    });
  });
});
