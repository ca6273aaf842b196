import { describe, expect, it } from 'vitest';
import { settingsForm, settingsPatch } from './settings-form.ts';

const current = { segmentSize: 1024, assemblyPeriodMs: 500, idleCycles: 2 };

describe('settingsPatch', () => {
  it('is empty when nothing changed', () => {
    expect(settingsPatch(current, settingsForm(current))).toEqual({ ok: true, patch: {} });
  });

  it('holds only the changed fields', () => {
    const form = { ...settingsForm(current), segmentSize: '64', idleCycles: '3' };
    expect(settingsPatch(current, form)).toEqual({
      ok: true,
      patch: { segmentSize: 64, idleCycles: 3 },
    });
  });

  it('checks the contract bounds of X, N and K', () => {
    expect(
      settingsPatch(current, { segmentSize: '63', assemblyPeriodMs: '60001', idleCycles: '0' }),
    ).toEqual({
      ok: false,
      errors: {
        segmentSize: 'outOfRange',
        assemblyPeriodMs: 'outOfRange',
        idleCycles: 'outOfRange',
      },
    });
    expect(
      settingsPatch(current, { segmentSize: '65536', assemblyPeriodMs: '50', idleCycles: '1' }),
    ).toEqual({ ok: true, patch: { segmentSize: 65536, assemblyPeriodMs: 50, idleCycles: 1 } });
  });

  it('reports a bad field without sending the good ones', () => {
    expect(
      settingsPatch(current, { ...settingsForm(current), segmentSize: '', idleCycles: '1.5' }),
    ).toEqual({
      ok: false,
      errors: { segmentSize: 'empty', idleCycles: 'notInteger' },
    });
  });
});
