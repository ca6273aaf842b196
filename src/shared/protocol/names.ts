// User names travel in every envelope, so one rule decides what a name may be: 1 to 32
// letters, digits, '.', '_' or '-', starting with a letter or digit, in Unicode NFC (so two
// spellings of one name cannot become two users), at most 64 bytes of UTF-8.
import { MAX_NAME_BYTES, MAX_NAME_CHARS } from './constants.ts';

const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}\p{M}._-]*$/u;
const encoder = new TextEncoder();

export function isValidUserName(name: string): boolean {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    [...name].length <= MAX_NAME_CHARS &&
    NAME_PATTERN.test(name) &&
    name.normalize('NFC') === name &&
    encoder.encode(name).length <= MAX_NAME_BYTES
  );
}
