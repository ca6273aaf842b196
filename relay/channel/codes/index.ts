// The forward error-correcting codes of the relay's channel emulator, by name.
import { CYCLIC_1511, CYCLIC_74 } from './cyclic.ts';
import { HAMMING_1511, HAMMING_74 } from './hamming.ts';
import { NONE } from './none.ts';
import { CODE_NAMES } from './types.ts';
import type { ChannelCode, CodeName } from './types.ts';

export { CODE_NAMES };
export type { ChannelCode, CodeName, CodedFrame, DecodedFrame } from './types.ts';

const CODES: Readonly<Record<CodeName, ChannelCode>> = {
  none: NONE,
  hamming74: HAMMING_74,
  hamming1511: HAMMING_1511,
  cyclic74: CYCLIC_74,
  cyclic1511: CYCLIC_1511,
};

export function isCodeName(s: string): s is CodeName {
  return (CODE_NAMES as readonly string[]).includes(s);
}

export function getCode(name: CodeName): ChannelCode {
  if (!isCodeName(name)) throw new RangeError(`unknown channel code "${String(name)}"`);
  return CODES[name];
}
