import { describe, expect, it } from 'vitest';
import type { ChannelSettingsView } from '../../../shared/contract.ts';
import { channelForm, channelPatch, meanBurstFrames, shownValue } from './channel-form.ts';

const loaded: ChannelSettingsView = {
  loss: 0.015,
  lossModel: 'bernoulli',
  geGoodToBad: 0.01,
  geBadToGood: 0.25,
  geLossGood: 0,
  geLossBad: 0.5,
  ber: 0.08,
  burstBits: 1,
  code: 'hamming74',
  delayMs: 20,
  jitterMs: 5,
  duplicate: 0,
  reorder: 0.07,
};

describe('channelForm and shownValue', () => {
  it('shows the relay values as text', () => {
    expect(channelForm(loaded)).toEqual({
      loss: '0.015',
      lossModel: 'bernoulli',
      geGoodToBad: '0.01',
      geBadToGood: '0.25',
      geLossGood: '0',
      geLossBad: '0.5',
      ber: '0.08',
      burstBits: '1',
      code: 'hamming74',
      delayMs: '20',
      jitterMs: '5',
      duplicate: '0',
      reorder: '0.07',
    });
  });

  it('shows an edit over the loaded value, and nothing when neither is known', () => {
    expect(shownValue('loss', loaded, { loss: '0.5' })).toBe('0.5');
    expect(shownValue('loss', loaded, { ber: '0.5' })).toBe('0.015');
    expect(shownValue('loss', null, {})).toBe('');
    expect(shownValue('loss', loaded, { loss: '' })).toBe('');
  });
});

describe('channelPatch', () => {
  it('is empty when nothing was edited', () => {
    expect(channelPatch(loaded, {})).toEqual({ ok: true, patch: {} });
    expect(channelPatch(null, {})).toEqual({ ok: true, patch: {} });
  });

  it('sends every edited field when the relay values were not loaded', () => {
    expect(channelPatch(null, { loss: '0.2', ber: '0,3', code: 'hamming74' })).toEqual({
      ok: true,
      patch: { loss: 0.2, ber: 0.3, code: 'hamming74' },
    });
  });

  it('leaves out edits equal to the loaded values, and empty fields', () => {
    const edits = { ...channelForm(loaded), loss: '0.025', jitterMs: '0', delayMs: '' };
    expect(channelPatch(loaded, edits)).toEqual({
      ok: true,
      patch: { loss: 0.025, jitterMs: 0 },
    });
  });

  it('accepts the ends of each range', () => {
    expect(channelPatch(loaded, { ber: '1', reorder: '0', delayMs: '600000' })).toEqual({
      ok: true,
      patch: { ber: 1, reorder: 0, delayMs: 600_000 },
    });
  });

  it('names each edited field in error, and sends nothing', () => {
    expect(
      channelPatch(loaded, {
        loss: '2',
        ber: 'abc',
        delayMs: '1.5',
        duplicate: '-0.1',
        code: 'golay',
      }),
    ).toEqual({
      ok: false,
      errors: {
        loss: 'outOfRange',
        ber: 'notNumber',
        delayMs: 'notInteger',
        duplicate: 'outOfRange',
        code: 'unknownChoice',
      },
    });
  });

  it('sets the burst model and its parameters, and the bit-error burst length', () => {
    expect(
      channelPatch(loaded, {
        lossModel: 'gilbert-elliott',
        geGoodToBad: '0.05',
        geBadToGood: '0,2',
        geLossBad: '1',
        burstBits: '9',
      }),
    ).toEqual({
      ok: true,
      patch: {
        lossModel: 'gilbert-elliott',
        geGoodToBad: 0.05,
        geBadToGood: 0.2,
        geLossBad: 1,
        burstBits: 9,
      },
    });
  });

  it('refuses an unknown loss model, a burst of 0 or over 64 bits, and probabilities over 1', () => {
    expect(
      channelPatch(loaded, { lossModel: 'markov', burstBits: '65', geLossBad: '1.5' }),
    ).toEqual({
      ok: false,
      errors: { lossModel: 'unknownChoice', burstBits: 'outOfRange', geLossBad: 'outOfRange' },
    });
    expect(channelPatch(loaded, { burstBits: '0' })).toEqual({
      ok: false,
      errors: { burstBits: 'outOfRange' },
    });
    expect(channelPatch(loaded, { burstBits: '2.5' })).toEqual({
      ok: false,
      errors: { burstBits: 'notInteger' },
    });
  });
});

describe('meanBurstFrames', () => {
  it('is 1 / P(bad -> good), and null when the bad state never ends', () => {
    expect(meanBurstFrames(0.25)).toBe(4);
    expect(meanBurstFrames(1)).toBe(1);
    expect(meanBurstFrames(0)).toBeNull();
  });
});
