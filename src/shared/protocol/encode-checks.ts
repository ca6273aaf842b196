// The checks an encoder makes before it writes a frame: a frame the format cannot carry is a
// programming error, thrown as a FrameEncodeError (decoders, which face input, never throw).
import { encodeUtf8 } from './bytes.ts';
import {
  CHALLENGE_NONCE_BYTES,
  MAX_ACCOUNT_BYTES,
  MAX_ACK_RANGES,
  MAX_AGENT_BYTES,
  MAX_AUTH_BYTES,
  MAX_DEVICE_ID,
  MAX_ERROR_TEXT_BYTES,
  MAX_PRESENCE_ENTRIES,
  MAX_RECEIPT_IDS,
  MAX_SEALED_CONTROL_BYTES,
  MAX_SEGMENT_PAYLOAD,
  MAX_WATCH_NAMES,
  RELAY_ID_BYTES,
} from './constants.ts';
import type { Frame } from './frame-types.ts';
import { isValidUserName } from './names.ts';

export class FrameEncodeError extends Error {
  override name = 'FrameEncodeError';
}

export function validateForEncoding(
  frame: Frame,
  codec: { from: 'user' | 'relay' | 'any'; to: 'user' | 'relay' | 'any' },
): void {
  const bad = (msg: string): never => {
    throw new FrameEncodeError(`${frame.type}: ${msg}`);
  };
  for (const [role, name, device, what] of [
    [codec.from, frame.from, frame.fromDevice, 'from'],
    [codec.to, frame.to, frame.toDevice, 'to'],
  ] as const) {
    if (!Number.isInteger(device) || device < 0 || device > MAX_DEVICE_ID) bad(`${what}Device`);
    if (role === 'relay' && name !== '') bad(`${what} must be empty`);
    if (role === 'user' && !isValidUserName(name)) bad(`${what} "${name}" is not a valid name`);
    if (role === 'any' && name !== '' && !isValidUserName(name))
      bad(`${what} "${name}" is not a valid name`);
  }
  if ((codec.from === 'user' || frame.type === 'hello') && frame.fromDevice === 0)
    bad('fromDevice 0 is the relay');
  if (codec.from === 'relay' && frame.fromDevice !== 0) bad('the relay is device 0');
  const safe = (n: number, what: string) => {
    if (!Number.isSafeInteger(n) || n < 0) bad(`${what} must be a non-negative safe integer`);
  };
  const u32 = (n: number, what: string) => {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) bad(`${what} must be a u32`);
  };
  switch (frame.type) {
    case 'hello':
      if (frame.auth.data.length > MAX_AUTH_BYTES) bad('auth data too long');
      if (encodeUtf8(frame.agent).length > MAX_AGENT_BYTES) bad('agent too long');
      break;
    case 'welcome':
      safe(frame.serverTime, 'serverTime');
      u32(frame.maxFrameBytes, 'maxFrameBytes');
      u32(frame.queued, 'queued');
      break;
    case 'data':
      safe(frame.messageId, 'messageId');
      safe(frame.transmission, 'transmission');
      u32(frame.segmentCount, 'segmentCount');
      u32(frame.segmentIndex, 'segmentIndex');
      if (frame.segmentCount === 0) bad('zero segments');
      if (frame.segmentIndex >= frame.segmentCount) bad('index out of range');
      if (frame.payload.length > MAX_SEGMENT_PAYLOAD) bad('payload too long');
      break;
    case 'ack':
    case 'held': {
      u32(frame.ackDelayMicros, 'ackDelayMicros');
      if (frame.ranges.length === 0 || frame.ranges.length > MAX_ACK_RANGES) bad('range count');
      let below = Infinity;
      for (const [low, high] of frame.ranges) {
        safe(low, 'range low');
        safe(high, 'range high');
        if (low > high) bad('range low above high');
        // Ranges descend and are separated by at least one unacknowledged number.
        if (high + 1 >= below) bad('ranges must be descending and non-adjacent');
        below = low;
      }
      break;
    }
    case 'presence':
      if (frame.entries.length > MAX_PRESENCE_ENTRIES) bad('too many entries');
      for (const e of frame.entries) {
        if (!isValidUserName(e.user)) bad(`presence name "${e.user}"`);
        if (!Number.isInteger(e.devices) || e.devices < 0 || e.devices > 0xffff) bad('devices');
        safe(e.lastSeen, 'lastSeen');
      }
      break;
    case 'watch':
      if (frame.users.length > MAX_WATCH_NAMES) bad('too many names');
      for (const u of frame.users) if (!isValidUserName(u)) bad(`watch name "${u}"`);
      break;
    case 'typing':
    case 'sealed':
      if (frame.sealed.length === 0 || frame.sealed.length > MAX_SEALED_CONTROL_BYTES) {
        bad('sealed body length');
      }
      break;
    case 'receipt':
      u32(frame.messageDevice, 'messageDevice');
      if (frame.messageIds.length === 0 || frame.messageIds.length > MAX_RECEIPT_IDS) bad('count');
      for (const id of frame.messageIds) safe(id, 'messageId');
      break;
    case 'error':
      safe(frame.messageId, 'messageId');
      if (encodeUtf8(frame.text).length > MAX_ERROR_TEXT_BYTES) bad('text too long');
      break;
    case 'challenge':
      if (frame.nonce.length !== CHALLENGE_NONCE_BYTES) bad('nonce length');
      if (frame.relayId.length !== RELAY_ID_BYTES) bad('relayId length');
      break;
    case 'account':
      if (frame.body.length > MAX_ACCOUNT_BYTES) bad('body too long');
      break;
  }
}
