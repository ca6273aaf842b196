import { describe, expect, it } from 'vitest';
import {
  codeGroups,
  countdown,
  isLastGroup,
  qrPath,
  relayPin,
  typedLinkCode,
  typedRecoveryCode,
} from './account.ts';

describe('codes', () => {
  it('splits a code into its groups', () => {
    expect(codeGroups('ABCDE-FGHJK')).toEqual(['ABCDE', 'FGHJK']);
    expect(codeGroups('1234-5678-9ABC-DEFG-HJKM-NPQR')).toHaveLength(6);
  });

  it('takes the last group back in any case, with stray spaces, and nothing else', () => {
    const code = '1234-5678-9ABC-DEFG-HJKM-NPQR';
    expect(isLastGroup('npqr', code)).toBe(true);
    expect(isLastGroup(' NP QR ', code)).toBe(true);
    expect(isLastGroup('HJKM', code)).toBe(false);
    expect(isLastGroup('NPQ', code)).toBe(false);
    expect(isLastGroup('', code)).toBe(false);
    expect(isLastGroup('', '')).toBe(false);
  });

  it('reads a typed link code with or without its dash, and refuses a wrong length', () => {
    expect(typedLinkCode('abcde fghjk')).toBe('ABCDE-FGHJK');
    expect(typedLinkCode('ABCDEFGHJK')).toBe('ABCDE-FGHJK');
    expect(typedLinkCode('ABCDE-FGHJ')).toBeNull();
    expect(typedLinkCode('ABCDE-FGHJ!')).toBeNull();
  });

  it('reads a typed recovery code in groups of four', () => {
    expect(typedRecoveryCode('12345678 9abc defg hjkm npqr')).toBe('1234-5678-9ABC-DEFG-HJKM-NPQR');
    expect(typedRecoveryCode('1234-5678')).toBeNull();
  });
});

describe('countdown', () => {
  it('counts down in minutes and seconds and stops at zero', () => {
    expect(countdown(10 * 60_000, 0)).toBe('10:00');
    expect(countdown(61_000, 500)).toBe('1:01');
    expect(countdown(5_000, 4_001)).toBe('0:01');
    expect(countdown(5_000, 9_000)).toBe('0:00');
  });
});

describe('qrPath', () => {
  it('draws one unit square per dark module, at its column and row', () => {
    expect(
      qrPath([
        [true, false],
        [false, true],
      ]),
    ).toBe('M0 0h1v1h-1zM1 1h1v1h-1z');
    expect(qrPath([[false]])).toBe('');
  });
});

describe('relayPin', () => {
  it('reads the sha256 pin of a wss:// address, grouped for reading', () => {
    expect(relayPin('wss://192.168.1.20:7000/#sha256=ab12cd34ef56')).toBe('ab12 cd34 ef56');
  });

  it('is null when the address carries no pin or is not an address', () => {
    expect(relayPin('ws://127.0.0.1:7000/')).toBeNull();
    expect(relayPin('wss://relay.example/#other=1')).toBeNull();
    expect(relayPin('not a url')).toBeNull();
  });
});
