// User names travel in every envelope, so one rule decides what a name may be: 1 to 32
// letters, digits, '.', '_' or '-', starting with a letter or digit, in Unicode NFC (so two
// spellings of one name cannot become two users), at most 64 bytes of UTF-8.
import { MAX_NAME_BYTES, MAX_NAME_CHARS } from './constants.ts';

const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}\p{M}._-]*$/u;
const encoder = new TextEncoder();

/**
 * Names lately found valid, and their UTF-8: every frame carries two names, and they are the
 * same few, so each is checked and encoded once rather than twice per frame (a file's
 * segments spent a twentieth of their time here). Cleared when full.
 */
const known = new Map<string, Uint8Array>();
const KNOWN_NAMES = 4096;

export function isValidUserName(name: string): boolean {
  if (known.has(name)) return true;
  if (typeof name !== 'string' || name.length === 0 || [...name].length > MAX_NAME_CHARS) {
    return false;
  }
  if (!NAME_PATTERN.test(name) || name.normalize('NFC') !== name) return false;
  const bytes = encoder.encode(name);
  if (bytes.length > MAX_NAME_BYTES) return false;
  if (known.size >= KNOWN_NAMES) known.clear();
  known.set(name, bytes);
  return true;
}

/** A name's UTF-8, as a frame's envelope carries it; shared: never to be written into. */
export function nameBytes(name: string): Uint8Array {
  return known.get(name) ?? encoder.encode(name);
}
