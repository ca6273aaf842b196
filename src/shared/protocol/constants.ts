// Every number the wire protocol fixes, named once. docs/protocol.md is the prose version.

export const PROTOCOL_VERSION = 1;

/** Wire codes of the frame types. */
export const FRAME_TYPE_CODES = {
  hello: 0x01,
  welcome: 0x02,
  data: 0x03,
  ack: 0x04,
  presence: 0x05,
  typing: 0x06,
  receipt: 0x07,
  error: 0x08,
  held: 0x09,
  watch: 0x0a,
  challenge: 0x0b,
  account: 0x0c,
  sealed: 0x0d,
} as const;
export type FrameTypeName = keyof typeof FRAME_TYPE_CODES;

/** version, type, flags, fromLen, toLen, fromDevice (u32), toDevice (u32). */
export const ENVELOPE_FIXED_BYTES = 13;
/** The CRC-32 trailer that ends every frame. */
export const CHECKSUM_BYTES = 4;

export const MAX_NAME_BYTES = 64;
export const MAX_NAME_CHARS = 32;
/** Largest segment payload a data frame may carry (the largest configurable segment size). */
export const MAX_SEGMENT_PAYLOAD = 64 * 1024;
/** A data frame's body before the payload: messageId, transmission, count, index, length. */
export const DATA_HEADER_BYTES = 8 + 8 + 4 + 4 + 4;
/**
 * The one defined envelope flag, on data frames only: the message is a file, whose segments the
 * receiver writes to disk rather than to its database (docs/protocol.md, docs/files.md).
 */
export const DATA_FLAG_FILE = 0x01;
export const MAX_AUTH_BYTES = 4096;
export const MAX_AGENT_BYTES = 64;
export const MAX_ACK_RANGES = 256;
export const MAX_PRESENCE_ENTRIES = 512;
/** Names in one watch frame; a longer list is sent as a `set` then `add` frames. */
export const MAX_WATCH_NAMES = 512;
/** Users one connection may watch at once. */
export const MAX_WATCHED_USERS = 4096;
export const MAX_RECEIPT_IDS = 1024;
export const MAX_ERROR_TEXT_BYTES = 1024;
export const MAX_DEVICE_ID = 0xffff_ffff;

/**
 * The largest frame any peer may send: a full data segment with the longest names. Control
 * frames are far smaller: a presence frame of MAX_PRESENCE_ENTRIES entries with the longest
 * names is about 39 KB, so a larger snapshot is sent as several presence frames.
 */
export const MAX_FRAME_BYTES =
  ENVELOPE_FIXED_BYTES +
  2 * MAX_NAME_BYTES +
  DATA_HEADER_BYTES +
  MAX_SEGMENT_PAYLOAD +
  CHECKSUM_BYTES;

/**
 * How a hello proves who it is (docs/protocol.md, "Accounts"). `none` is kept only so that an
 * old client's hello decodes and is refused with a clear error. `device`: a device already on
 * the account signs the relay's challenge. `register`: the first device of a new name creates
 * the account. `recover`: a fresh device takes an account back with its recovery code.
 * `link`: a fresh device asks to join an account with a one-time link code.
 */
export const AUTH_SCHEMES = { none: 0, device: 1, register: 2, recover: 3, link: 4 } as const;
/** The random challenge and the relay's identity in a challenge frame. */
export const CHALLENGE_NONCE_BYTES = 32;
export const RELAY_ID_BYTES = 32;
/**
 * The JSON body of an account frame: room for the prekey bundles of MAX_DEVICES devices (a
 * Kyber public key alone is 1,569 bytes, 2,092 in base64).
 */
export const MAX_ACCOUNT_BYTES = 60 * 1024;
/**
 * The end-to-end sealed body of a typing or sealed frame (src/core/crypto/controls.ts): a key
 * table with an entry for each of the peer's devices (a session's first entries carry PQXDH
 * keys, about 1.8 KB each) and a few bytes of content.
 */
export const MAX_SEALED_CONTROL_BYTES = 48 * 1024;
/** One-time prekeys a device uploads at a time, and the count below which it adds more. */
export const PREKEY_BATCH = 100;
export const PREKEY_LOW = 20;
/** A serialized Kyber-1024 public key (libsignal's KEMPublicKey, type byte included). */
export const KYBER_PUBLIC_KEY_BYTES = 1569;
/** Devices one account may have, the first included. */
export const MAX_DEVICES = 16;
export type AuthScheme = keyof typeof AUTH_SCHEMES;

/**
 * `snapshot`: the relay's answer to a watch frame, one entry per name it named; `update`: a
 * watched user's devices came or went. An entry with `lastSeen` 0 is a user who has never
 * connected to this relay.
 */
export const PRESENCE_KINDS = { snapshot: 0, update: 1 } as const;
export type PresenceKind = keyof typeof PRESENCE_KINDS;

/**
 * What a watch frame does to the connection's list of watched users: `set` replaces it, `add`
 * and `remove` change it. The relay answers `set` and `add` with a presence snapshot of the
 * names, and from then on pushes their changes to this connection only.
 */
export const WATCH_KINDS = { set: 0, add: 1, remove: 2 } as const;
export type WatchKind = keyof typeof WATCH_KINDS;

/**
 * From a message's recipient to its sender: `delivered`: the recipient has the message whole
 * (a file: verified and saved); `read`: it was read; `cancelled`: the recipient cancelled it
 * (a file on its way); `refused`: the recipient's app could not keep it (a file too large,
 * no room, or damaged on arrival). The last two are final: the sender stops sending and
 * shows the message as failed.
 *
 * From a message's sender to its recipient (SENDER_RECEIPT_KINDS), about a file on its way:
 * `withdrawn`: the sender cancelled it (final: the recipient deletes what it has);
 * `paused` and `resumed`: the sender paused it, or goes on with it.
 *
 * From a file's recipient to its sender, about a file the recipient does not take yet (a
 * message request, or a file over its auto-download size): `wait`: hold the rest of the file
 * (the header arrived; the chunks that came were dropped unacknowledged, so stop sending
 * them); `proceed`: the recipient now wants it, send what it has not acknowledged.
 */
export const RECEIPT_KINDS = {
  delivered: 1,
  read: 2,
  cancelled: 3,
  refused: 4,
  withdrawn: 5,
  paused: 6,
  resumed: 7,
  wait: 8,
  proceed: 9,
} as const;
export type ReceiptKind = keyof typeof RECEIPT_KINDS;
/** The kinds a message's sender sends to its recipient (the others go the other way). */
export type SenderReceiptKind = 'withdrawn' | 'paused' | 'resumed';
export const SENDER_RECEIPT_KINDS: ReadonlySet<ReceiptKind> = new Set<SenderReceiptKind>([
  'withdrawn',
  'paused',
  'resumed',
]);
/**
 * The kinds that travel end-to-end sealed, inside a sealed frame: what they say is the users'
 * business (who read what, who paused or waits for a file). The relay acts on the other four
 * (its custody lets go of a message once it is delivered, cancelled, refused or withdrawn), so
 * those stay readable to it; it sees the same end of a transfer in the acks anyway.
 */
export const SEALED_RECEIPT_KINDS: ReadonlySet<ReceiptKind> = new Set<ReceiptKind>([
  'read',
  'paused',
  'resumed',
  'wait',
  'proceed',
]);

/**
 * WebSocket close codes the relay closes with (RFC 6455 section 7.4.1, and the private range
 * for its own), so that a client can say what happened in its user's language.
 */
export const RELAY_CLOSE_CODES = {
  /** The relay is shutting down. */
  goingAway: 1001,
  /** A policy violation: no hello in time, a frame before the hello, too many invalid frames. */
  policy: 1008,
  /** A message far over the frame limit (closed by the WebSocket library). */
  tooBig: 1009,
  internalError: 1011,
  /** Another connection said hello as the same user and device. */
  replaced: 4000,
  /** This device was removed from its account (unlinked, or the account was recovered). */
  removed: 4001,
  /** A link connection is done: the new device was added (or refused); it reconnects. */
  linkDone: 4002,
} as const;

/** Error codes carried by error frames, relay to client. */
export const ERROR_CODES = {
  /** The frame did not decode; the detail text says why. */
  malformed: 1,
  unsupportedVersion: 2,
  frameTooLarge: 3,
  /** A frame other than hello arrived before the hello. */
  notAuthenticated: 4,
  badHello: 5,
  /** The frame's sender is not the user and device of the connection. */
  senderMismatch: 6,
  unknownRecipient: 7,
  /** A quota or the relay's total limit would be exceeded: the frame was not stored. Final. */
  quotaExceeded: 8,
  rateLimited: 9,
  /** A stored frame passed the relay's age limit before its recipient connected. */
  expired: 10,
  /** That frame type may not be sent by a client. */
  notAllowed: 11,
  /** Another connection took over this device id. */
  replaced: 12,
  /** The relay could not queue the frame (its recipient is too slow). */
  overloaded: 13,
  /**
   * The relay could not write the frame just now (its disk is full or failing): it was not
   * stored. Transient: the sender keeps the message and sends it again later.
   */
  storeUnavailable: 14,
  /** A watch frame would take the connection past MAX_WATCHED_USERS; it was not applied. */
  watchLimit: 15,
  /** A `register` hello for a name that already has an account. Final. */
  nameTaken: 16,
  /** A hello whose proof did not check (bad signature, unknown device, stale challenge). */
  authFailed: 17,
  /** This device is no longer on its account. Final. */
  deviceRemoved: 18,
  /** A link code that is unknown, expired or used, or a link the account's device refused. */
  linkFailed: 19,
  /** An account frame the relay could not act on (the text says why). */
  accountRefused: 20,
} as const;
export type ErrorCodeName = keyof typeof ERROR_CODES;
