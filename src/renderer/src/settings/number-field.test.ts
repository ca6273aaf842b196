import { describe, expect, it } from 'vitest';
import { formatNumberField, parseNumberField } from './number-field.ts';

const any = { min: -1e9, max: 1e9, integer: false };

describe('parseNumberField', () => {
  it('reads decimals with a point or a comma, and surrounding spaces', () => {
    expect(parseNumberField(' 2.5 ', any)).toEqual({ ok: true, value: 2.5 });
    expect(parseNumberField('2,5', any)).toEqual({ ok: true, value: 2.5 });
    expect(parseNumberField(',5', any)).toEqual({ ok: true, value: 0.5 });
    expect(parseNumberField('-3', any)).toEqual({ ok: true, value: -3 });
  });

  it('refuses what is not a plain number instead of guessing', () => {
    for (const text of ['12abc', '1e3', '0x10', '1.2.3', '1,2,3', 'Infinity', '.', '-']) {
      expect(parseNumberField(text, any)).toEqual({ ok: false, error: 'notNumber' });
    }
    expect(parseNumberField('   ', any)).toEqual({ ok: false, error: 'empty' });
  });

  it('checks integers and bounds inclusively', () => {
    const rule = { min: 1, max: 3, integer: true };
    expect(parseNumberField('1', rule)).toEqual({ ok: true, value: 1 });
    expect(parseNumberField('3', rule)).toEqual({ ok: true, value: 3 });
    expect(parseNumberField('2.0', rule)).toEqual({ ok: true, value: 2 });
    expect(parseNumberField('2.5', rule)).toEqual({ ok: false, error: 'notInteger' });
    expect(parseNumberField('0', rule)).toEqual({ ok: false, error: 'outOfRange' });
    expect(parseNumberField('4', rule)).toEqual({ ok: false, error: 'outOfRange' });
  });
});

describe('formatNumberField', () => {
  it('drops float noise', () => {
    expect(formatNumberField(0.015 * 100)).toBe('1.5');
    expect(formatNumberField(0.07 * 100)).toBe('7');
    expect(formatNumberField(65536)).toBe('65536');
  });
});
