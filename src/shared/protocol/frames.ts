// The Strata wire format: one encoder and one decoder per frame type, shared by the relay
// and the app. docs/protocol.md describes the same layout byte by byte.
//
// Every frame: envelope | body | CRC-32 of everything before it. Integers are big-endian.
// Decoders return a typed result and never throw; encoders throw a FrameEncodeError when
// asked to encode something the format cannot carry (a programming error, not input).
import { crc32 } from './crc32.ts';
import { FrameEncodeError, validateForEncoding } from './encode-checks.ts';
import { Reader, ReadFailure, Writer, encodeUtf8 } from './bytes.ts';
import {
  AUTH_SCHEMES,
  CHALLENGE_NONCE_BYTES,
  CHECKSUM_BYTES,
  DATA_FLAG_FILE,
  DATA_HEADER_BYTES,
  ENVELOPE_FIXED_BYTES,
  ERROR_CODES,
  FRAME_TYPE_CODES,
  MAX_ACCOUNT_BYTES,
  MAX_ACK_RANGES,
  MAX_AGENT_BYTES,
  MAX_AUTH_BYTES,
  MAX_ERROR_TEXT_BYTES,
  MAX_FRAME_BYTES,
  MAX_NAME_BYTES,
  MAX_PRESENCE_ENTRIES,
  MAX_RECEIPT_IDS,
  MAX_SEALED_CONTROL_BYTES,
  MAX_SEGMENT_PAYLOAD,
  MAX_WATCH_NAMES,
  PRESENCE_KINDS,
  PROTOCOL_VERSION,
  RECEIPT_KINDS,
  RELAY_ID_BYTES,
  WATCH_KINDS,
  type FrameTypeName,
} from './constants.ts';
import { isValidUserName, nameBytes } from './names.ts';
import type {
  Envelope,
  HelloFrame,
  WelcomeFrame,
  DataFrame,
  AckRange,
  AckFrame,
  HeldFrame,
  PresenceEntry,
  PresenceFrame,
  WatchFrame,
  TypingFrame,
  SealedFrame,
  ReceiptFrame,
  ErrorFrame,
  ChallengeFrame,
  AccountFrame,
  Frame,
  DecodeErrorKind,
  DecodeResult,
} from './frame-types.ts';

export type * from './frame-types.ts';

export { FrameEncodeError };

const TYPE_BY_CODE = invert(FRAME_TYPE_CODES);
const AUTH_BY_CODE = invert(AUTH_SCHEMES);
const PRESENCE_BY_CODE = invert(PRESENCE_KINDS);
const RECEIPT_BY_CODE = invert(RECEIPT_KINDS);
const ERROR_BY_CODE = invert(ERROR_CODES);
const WATCH_BY_CODE = invert(WATCH_KINDS);

function invert<K extends string>(table: Record<K, number>): Map<number, K> {
  return new Map(Object.entries(table).map(([k, v]) => [v as number, k as K]));
}

// ---------------------------------------------------------------------------------------
// Per-type bodies. Each has a size, a writer and a reader, kept side by side so that the
// three cannot drift apart.

interface BodyCodec<F extends Frame> {
  /**
   * Which envelope names must be present: `user` = a valid user name, `relay` = empty,
   * `any` = either (an error may go to a connection that has not said who it is yet).
   */
  from: 'user' | 'relay' | 'any';
  to: 'user' | 'relay' | 'any';
  size(f: F): number;
  write(w: Writer, f: F): void;
  read(r: Reader, env: Envelope): F;
}

type Codecs = { [T in FrameTypeName]: BodyCodec<Extract<Frame, { type: T }>> };

const hello: BodyCodec<HelloFrame> = {
  // Empty only in a `link` hello: a new device does not know its account's name yet.
  from: 'any',
  to: 'relay',
  size: (f) => 1 + 2 + f.auth.data.length + 1 + encodeUtf8(f.agent).length,
  write(w, f) {
    w.u8(AUTH_SCHEMES[f.auth.scheme]);
    w.u16(f.auth.data.length);
    w.bytesFrom(f.auth.data);
    const agent = encodeUtf8(f.agent);
    w.u8(agent.length);
    w.bytesFrom(agent);
  },
  read(r, env) {
    const scheme = AUTH_BY_CODE.get(r.u8('hello.authScheme'));
    if (scheme === undefined) throw new ReadFailure('malformed', 'hello: unknown auth scheme');
    const authLen = r.u16('hello.authLength');
    if (authLen > MAX_AUTH_BYTES) throw new ReadFailure('malformed', 'hello: auth too long');
    const data = r.bytesView(authLen, 'hello.auth');
    const agentLen = r.u8('hello.agentLength');
    if (agentLen > MAX_AGENT_BYTES) throw new ReadFailure('malformed', 'hello: agent too long');
    const agent = r.utf8(agentLen, 'hello.agent');
    return { type: 'hello', ...env, auth: { scheme, data }, agent };
  },
};

const welcome: BodyCodec<WelcomeFrame> = {
  from: 'relay',
  to: 'user',
  size: () => 8 + 4 + 4,
  write(w, f) {
    w.u64(f.serverTime);
    w.u32(f.maxFrameBytes);
    w.u32(f.queued);
  },
  read(r, env) {
    const serverTime = r.u64('welcome.serverTime');
    const maxFrameBytes = r.u32('welcome.maxFrameBytes');
    const queued = r.u32('welcome.queued');
    return { type: 'welcome', ...env, serverTime, maxFrameBytes, queued };
  },
};

const data: BodyCodec<DataFrame> = {
  from: 'user',
  to: 'user',
  size: (f) => DATA_HEADER_BYTES + f.payload.length,
  write(w, f) {
    w.u64(f.messageId);
    w.u64(f.transmission);
    w.u32(f.segmentCount);
    w.u32(f.segmentIndex);
    w.u32(f.payload.length);
    w.bytesFrom(f.payload);
  },
  read(r, env) {
    const messageId = r.u64('data.messageId');
    const transmission = r.u64('data.transmission');
    const segmentCount = r.u32('data.segmentCount');
    const segmentIndex = r.u32('data.segmentIndex');
    const length = r.u32('data.payloadLength');
    if (segmentCount === 0) throw new ReadFailure('malformed', 'data: zero segments');
    if (segmentIndex >= segmentCount) {
      throw new ReadFailure('malformed', `data: index ${segmentIndex} of ${segmentCount}`);
    }
    if (length > MAX_SEGMENT_PAYLOAD) throw new ReadFailure('malformed', 'data: payload too long');
    if (length !== r.remaining) {
      throw new ReadFailure(length > r.remaining ? 'truncated' : 'malformed', 'data: length');
    }
    const payload = r.bytesView(length, 'data.payload');
    return {
      type: 'data',
      ...env,
      messageId,
      transmission,
      segmentCount,
      segmentIndex,
      payload,
    };
  },
};

// ACK ranges follow QUIC (RFC 9000, section 19.3.1): the largest acknowledged number, the
// length of the first range below it, then (gap, length) pairs walking downwards. The same
// body serves `ack` (peer to peer) and `held` (the relay's custody receipt).
type RangeFrame = AckFrame | HeldFrame;

function rangeBody<F extends RangeFrame>(
  type: F['type'],
  from: 'user' | 'relay',
  make: (env: Envelope, ackDelayMicros: number, ranges: AckRange[]) => F,
): BodyCodec<F> {
  return {
    from,
    to: 'user',
    size: (f) => 8 + 4 + 2 + 8 + (f.ranges.length - 1) * 16,
    write(w, f) {
      const [first, ...rest] = f.ranges;
      if (!first) throw new FrameEncodeError(`${type}: no ranges`);
      w.u64(first[1]);
      w.u32(f.ackDelayMicros);
      w.u16(rest.length);
      w.u64(first[1] - first[0]);
      let smallest = first[0];
      for (const [low, high] of rest) {
        w.u64(smallest - high - 2);
        w.u64(high - low);
        smallest = low;
      }
    },
    read(r, env) {
      const largest = r.u64(`${type}.largest`);
      const ackDelayMicros = r.u32(`${type}.delay`);
      const extra = r.u16(`${type}.rangeCount`);
      if (extra + 1 > MAX_ACK_RANGES)
        throw new ReadFailure('malformed', `${type}: too many ranges`);
      if (r.remaining !== 8 + extra * 16) {
        throw new ReadFailure(r.remaining < 8 + extra * 16 ? 'truncated' : 'malformed', type);
      }
      const firstLength = r.u64(`${type}.firstRange`);
      if (firstLength > largest) throw new ReadFailure('malformed', `${type}: range below zero`);
      const ranges: AckRange[] = [[largest - firstLength, largest]];
      let smallest = largest - firstLength;
      for (let i = 0; i < extra; i++) {
        const gap = r.u64(`${type}.gap`);
        const length = r.u64(`${type}.rangeLength`);
        const high = smallest - gap - 2;
        const low = high - length;
        if (high < 0 || low < 0) throw new ReadFailure('malformed', `${type}: range below zero`);
        ranges.push([low, high]);
        smallest = low;
      }
      return make(env, ackDelayMicros, ranges);
    },
  };
}

const ack = rangeBody('ack', 'user', (env, ackDelayMicros, ranges): AckFrame => {
  return { type: 'ack', ...env, ackDelayMicros, ranges };
});
const held = rangeBody('held', 'relay', (env, ackDelayMicros, ranges): HeldFrame => {
  return { type: 'held', ...env, ackDelayMicros, ranges };
});

const presence: BodyCodec<PresenceFrame> = {
  from: 'relay',
  to: 'user',
  size: (f) => 1 + 2 + f.entries.reduce((n, e) => n + 1 + encodeUtf8(e.user).length + 1 + 2 + 8, 0),
  write(w, f) {
    w.u8(PRESENCE_KINDS[f.kind]);
    w.u16(f.entries.length);
    for (const e of f.entries) {
      const name = encodeUtf8(e.user);
      w.u8(name.length);
      w.bytesFrom(name);
      w.u8(e.online ? 1 : 0);
      w.u16(e.devices);
      w.u64(e.lastSeen);
    }
  },
  read(r, env) {
    const kind = PRESENCE_BY_CODE.get(r.u8('presence.kind'));
    if (kind === undefined) throw new ReadFailure('malformed', 'presence: unknown kind');
    const count = r.u16('presence.count');
    if (count > MAX_PRESENCE_ENTRIES) throw new ReadFailure('malformed', 'presence: too many');
    // Each entry is at least 13 bytes: check before building the array.
    if (r.remaining < count * 13) throw new ReadFailure('truncated', 'presence: entries');
    const entries: PresenceEntry[] = [];
    for (let i = 0; i < count; i++) {
      const user = readName(r, r.u8('presence.nameLength'), 'presence.name', false);
      const online = r.u8('presence.online');
      if (online > 1) throw new ReadFailure('malformed', 'presence: online flag');
      const devices = r.u16('presence.devices');
      const lastSeen = r.u64('presence.lastSeen');
      entries.push({ user, online: online === 1, devices, lastSeen });
    }
    return { type: 'presence', ...env, kind, entries };
  },
};

/** The codec of a frame that carries one end-to-end sealed body (typing, sealed). */
function sealedCodec<F extends TypingFrame | SealedFrame>(type: F['type']): BodyCodec<F> {
  return {
    from: 'user',
    to: 'user',
    size: (f) => 2 + f.sealed.length,
    write(w, f) {
      w.u16(f.sealed.length);
      w.bytesFrom(f.sealed);
    },
    read(r, env) {
      const length = r.u16(`${type}.length`);
      if (length === 0 || length > MAX_SEALED_CONTROL_BYTES) {
        throw new ReadFailure('malformed', `${type}: sealed body length`);
      }
      return { type, ...env, sealed: r.bytesView(length, `${type}.sealed`) } as F;
    },
  };
}
const typing = sealedCodec<TypingFrame>('typing');
const sealed = sealedCodec<SealedFrame>('sealed');

const receipt: BodyCodec<ReceiptFrame> = {
  from: 'user',
  to: 'user',
  size: (f) => 1 + 4 + 2 + 8 * f.messageIds.length,
  write(w, f) {
    w.u8(RECEIPT_KINDS[f.kind]);
    w.u32(f.messageDevice);
    w.u16(f.messageIds.length);
    for (const id of f.messageIds) w.u64(id);
  },
  read(r, env) {
    const kind = RECEIPT_BY_CODE.get(r.u8('receipt.kind'));
    if (kind === undefined) throw new ReadFailure('malformed', 'receipt: unknown kind');
    const messageDevice = r.u32('receipt.device');
    const count = r.u16('receipt.count');
    if (count === 0 || count > MAX_RECEIPT_IDS)
      throw new ReadFailure('malformed', 'receipt: count');
    if (r.remaining < count * 8) throw new ReadFailure('truncated', 'receipt: ids');
    const messageIds: number[] = [];
    for (let i = 0; i < count; i++) messageIds.push(r.u64('receipt.id'));
    return { type: 'receipt', ...env, kind, messageDevice, messageIds };
  },
};

const error: BodyCodec<ErrorFrame> = {
  from: 'relay',
  to: 'any',
  size: (f) => 2 + 8 + 2 + encodeUtf8(f.text).length,
  write(w, f) {
    w.u16(ERROR_CODES[f.code]);
    w.u64(f.messageId);
    const text = encodeUtf8(f.text);
    w.u16(text.length);
    w.bytesFrom(text);
  },
  read(r, env) {
    const code = ERROR_BY_CODE.get(r.u16('error.code'));
    if (code === undefined) throw new ReadFailure('malformed', 'error: unknown code');
    const messageId = r.u64('error.messageId');
    const len = r.u16('error.textLength');
    if (len > MAX_ERROR_TEXT_BYTES) throw new ReadFailure('malformed', 'error: text too long');
    const text = r.utf8(len, 'error.text');
    return { type: 'error', ...env, code, messageId, text };
  },
};

const watch: BodyCodec<WatchFrame> = {
  from: 'user',
  to: 'relay',
  size: (f) => 1 + 2 + f.users.reduce((n, u) => n + 1 + encodeUtf8(u).length, 0),
  write(w, f) {
    w.u8(WATCH_KINDS[f.kind]);
    w.u16(f.users.length);
    for (const u of f.users) {
      const name = encodeUtf8(u);
      w.u8(name.length);
      w.bytesFrom(name);
    }
  },
  read(r, env) {
    const kind = WATCH_BY_CODE.get(r.u8('watch.kind'));
    if (kind === undefined) throw new ReadFailure('malformed', 'watch: unknown kind');
    const count = r.u16('watch.count');
    if (count > MAX_WATCH_NAMES) throw new ReadFailure('malformed', 'watch: too many names');
    // Each name is at least 2 bytes: check before building the array.
    if (r.remaining < count * 2) throw new ReadFailure('truncated', 'watch: names');
    const users: string[] = [];
    for (let i = 0; i < count; i++) {
      users.push(readName(r, r.u8('watch.nameLength'), 'watch.name', false));
    }
    return { type: 'watch', ...env, kind, users };
  },
};

const challenge: BodyCodec<ChallengeFrame> = {
  from: 'relay',
  to: 'relay',
  size: () => CHALLENGE_NONCE_BYTES + RELAY_ID_BYTES,
  write(w, f) {
    w.bytesFrom(f.nonce);
    w.bytesFrom(f.relayId);
  },
  read(r, env) {
    const nonce = r.bytesView(CHALLENGE_NONCE_BYTES, 'challenge.nonce');
    const relayId = r.bytesView(RELAY_ID_BYTES, 'challenge.relayId');
    return { type: 'challenge', ...env, nonce, relayId };
  },
};

const account: BodyCodec<AccountFrame> = {
  // From a device to the relay, or from the relay to a device (or to a link connection,
  // which has no name yet).
  from: 'any',
  to: 'any',
  size: (f) => 2 + f.body.length,
  write(w, f) {
    w.u16(f.body.length);
    w.bytesFrom(f.body);
  },
  read(r, env) {
    const length = r.u16('account.length');
    if (length > MAX_ACCOUNT_BYTES) throw new ReadFailure('malformed', 'account: body too long');
    return { type: 'account', ...env, body: r.bytesView(length, 'account.body') };
  },
};

const CODECS: Codecs = {
  hello,
  welcome,
  data,
  ack,
  presence,
  typing,
  receipt,
  error,
  held,
  watch,
  challenge,
  account,
  sealed,
};

// ---------------------------------------------------------------------------------------

function readName(r: Reader, len: number, what: string, mayBeEmpty: boolean): string {
  if (len > MAX_NAME_BYTES) throw new ReadFailure('malformed', `${what}: too long`);
  if (len === 0) {
    if (mayBeEmpty) return '';
    throw new ReadFailure('malformed', `${what}: empty`);
  }
  const name = r.utf8(len, what);
  if (!isValidUserName(name)) throw new ReadFailure('malformed', `${what}: not a valid user name`);
  return name;
}

function checkEnvelopeRole(
  role: 'user' | 'relay' | 'any',
  name: string,
  device: number,
  what: string,
) {
  if (role === 'relay' && name !== '') {
    throw new ReadFailure('malformed', `${what}: must be empty for this frame type`);
  }
  if (role === 'user' && name === '') {
    throw new ReadFailure('malformed', `${what}: a user name is required`);
  }
  if (role === 'relay' && what === 'from' && device !== 0) {
    throw new ReadFailure('malformed', 'fromDevice: must be 0 for the relay');
  }
}

/** The size in bytes `frame` encodes to. */
export function encodedSize(frame: Frame): number {
  const codec = CODECS[frame.type] as BodyCodec<Frame>;
  return (
    ENVELOPE_FIXED_BYTES +
    nameBytes(frame.from).length +
    nameBytes(frame.to).length +
    codec.size(frame) +
    CHECKSUM_BYTES
  );
}

/**
 * Encodes a frame into a new array, or into `alloc(size)` (exactly `size` bytes: a sender
 * reusing its buffers).
 */
export function encodeFrame(frame: Frame, alloc?: (size: number) => Uint8Array): Uint8Array {
  const codec = CODECS[frame.type] as BodyCodec<Frame> | undefined;
  if (!codec) throw new FrameEncodeError(`unknown frame type ${String(frame.type)}`);
  validateForEncoding(frame, codec);
  const from = nameBytes(frame.from);
  const to = nameBytes(frame.to);
  const size = ENVELOPE_FIXED_BYTES + from.length + to.length + codec.size(frame) + CHECKSUM_BYTES;
  if (size > MAX_FRAME_BYTES) throw new FrameEncodeError(`frame of ${size} bytes is too large`);
  const w = new Writer(size, alloc?.(size));
  w.u8(PROTOCOL_VERSION);
  w.u8(FRAME_TYPE_CODES[frame.type]);
  w.u8(frame.type === 'data' && frame.file === true ? DATA_FLAG_FILE : 0);
  w.u8(from.length);
  w.u8(to.length);
  w.u32(frame.fromDevice);
  w.u32(frame.toDevice);
  w.bytesFrom(from);
  w.bytesFrom(to);
  codec.write(w, frame);
  w.u32(crc32(w.bytes, 0, w.pos));
  if (w.pos !== size) throw new FrameEncodeError(`${frame.type}: size mismatch`);
  return w.bytes;
}

export interface DecodeOptions {
  /** Reject frames longer than this before looking inside (default MAX_FRAME_BYTES). */
  maxFrameBytes?: number;
  /** Skip the checksum check (the relay's channel emulator uses it to inspect damage). */
  skipChecksum?: boolean;
}

export function decodeFrame(bytes: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  const max = options.maxFrameBytes ?? MAX_FRAME_BYTES;
  if (bytes.length > max) {
    return fail('oversized', `frame of ${bytes.length} bytes exceeds the limit of ${max}`);
  }
  if (bytes.length < ENVELOPE_FIXED_BYTES + CHECKSUM_BYTES) {
    return fail('truncated', `frame of ${bytes.length} bytes is shorter than any frame`);
  }
  if (bytes[0] !== PROTOCOL_VERSION) {
    return fail(
      'unsupported-version',
      `protocol version ${bytes[0]} (expected ${PROTOCOL_VERSION})`,
    );
  }
  const bodyEnd = bytes.length - CHECKSUM_BYTES;
  if (!options.skipChecksum && !hasValidChecksum(bytes)) {
    return fail('checksum', 'CRC-32 mismatch');
  }
  const type = TYPE_BY_CODE.get(bytes[1]!);
  if (type === undefined) return fail('unknown-type', `frame type 0x${bytes[1]!.toString(16)}`);
  try {
    const r = new Reader(bytes, 2, bodyEnd);
    const flags = r.u8('flags');
    if ((flags & ~(type === 'data' ? DATA_FLAG_FILE : 0)) !== 0) {
      return fail('malformed', 'flags: reserved bits set');
    }
    const fromLen = r.u8('fromLength');
    const toLen = r.u8('toLength');
    const fromDevice = r.u32('fromDevice');
    const toDevice = r.u32('toDevice');
    const from = readName(r, fromLen, 'from', true);
    const to = readName(r, toLen, 'to', true);
    const codec = CODECS[type] as BodyCodec<Frame>;
    checkEnvelopeRole(codec.from, from, fromDevice, 'from');
    checkEnvelopeRole(codec.to, to, toDevice, 'to');
    if ((codec.from === 'user' || type === 'hello') && fromDevice === 0) {
      return fail('malformed', 'fromDevice: 0 is reserved for the relay');
    }
    const frame = codec.read(r, { from, fromDevice, to, toDevice });
    if (r.remaining !== 0) return fail('malformed', `${r.remaining} unexpected trailing bytes`);
    if (frame.type === 'data' && (flags & DATA_FLAG_FILE) !== 0) frame.file = true;
    return { ok: true, frame };
  } catch (e) {
    if (e instanceof ReadFailure) return fail(e.reason, e.detail);
    // Nothing above should throw anything else; if it does, it is still the input's fault.
    return fail('malformed', e instanceof Error ? e.message : String(e));
  }
}

/** Whether the CRC-32 trailer matches the rest of the frame (false for a too-short input). */
export function hasValidChecksum(bytes: Uint8Array): boolean {
  const end = bytes.length - CHECKSUM_BYTES;
  if (end < 0) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return crc32(bytes, 0, end) === view.getUint32(end);
}

function fail(kind: DecodeErrorKind, message: string): DecodeResult {
  return { ok: false, error: { kind, message } };
}
