import { describe, expect, it } from 'vitest';
import type { ChannelSettingsView } from '../../../shared/contract.ts';
import { channelForm, channelPatch, toPercent } from './channel-form.ts';

const loaded: ChannelSettingsView = {
  loss: 0.015,
  ber: 0.08,
  code: 'hamming74',
  delayMs: 20,
  jitterMs: 5,
  duplicate: 0,
  reorder: 0.07,
};

describe('channelForm', () => {
  it('shows probabilities as percentages without float noise', () => {
    expect(channelForm(loaded)).toEqual({
      loss: '1.5',
      ber: '8',
      code: 'hamming74',
      delayMs: '20',
      jitterMs: '5',
      duplicate: '0',
      reorder: '7',
    });
    expect(toPercent(0.07)).toBe('7');
    expect(toPercent(1)).toBe('100');
  });
});

describe('channelPatch', () => {
  it('is empty for an untouched form, despite the percent round trip', () => {
    expect(channelPatch(loaded, channelForm(loaded))).toEqual({ ok: true, patch: {} });
  });

  it('holds only the changed fields, probabilities as fractions', () => {
    const form = { ...channelForm(loaded), loss: '2,5', code: 'cyclic1511', jitterMs: '0' };
    expect(channelPatch(loaded, form)).toEqual({
      ok: true,
      patch: { loss: 0.025, code: 'cyclic1511', jitterMs: 0 },
    });
  });

  it('accepts the ends of each range', () => {
    const form = { ...channelForm(loaded), ber: '100', reorder: '0', delayMs: '600000' };
    expect(channelPatch(loaded, form)).toEqual({
      ok: true,
      patch: { ber: 1, reorder: 0, delayMs: 600_000 },
    });
  });

  it('names each field in error, and sends nothing', () => {
    const form = {
      ...channelForm(loaded),
      loss: '101',
      ber: 'abc',
      delayMs: '1.5',
      jitterMs: '',
      duplicate: '-1',
      code: 'golay',
    };
    expect(channelPatch(loaded, form)).toEqual({
      ok: false,
      errors: {
        loss: 'outOfRange',
        ber: 'notNumber',
        delayMs: 'notInteger',
        jitterMs: 'empty',
        duplicate: 'outOfRange',
        code: 'unknownCode',
      },
    });
  });
});
