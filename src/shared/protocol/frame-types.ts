// The frames of the Strata wire format as TypeScript types: what frames.ts encodes and
// decodes. docs/protocol.md describes the same fields byte by byte.
import type {
  AuthScheme,
  ErrorCodeName,
  PresenceKind,
  ReceiptKind,
  WatchKind,
} from './constants.ts';

/** Who a frame is from and for. An empty name with device 0 is the relay itself. */
export interface Envelope {
  from: string;
  fromDevice: number;
  to: string;
  /** 0 addresses every device of `to`. */
  toDevice: number;
}

export interface HelloFrame extends Envelope {
  type: 'hello';
  auth: { scheme: AuthScheme; data: Uint8Array };
  agent: string;
}
export interface WelcomeFrame extends Envelope {
  type: 'welcome';
  serverTime: number;
  maxFrameBytes: number;
  queued: number;
}
export interface DataFrame extends Envelope {
  type: 'data';
  messageId: number;
  /** A fresh number for every transmission, retransmissions included (RFC 9002's packet number). */
  transmission: number;
  segmentCount: number;
  segmentIndex: number;
  payload: Uint8Array;
  /** Set on every segment of a file message (envelope flag DATA_FLAG_FILE). */
  file?: true;
}
/** An inclusive range of transmission numbers, `[low, high]`. */
export type AckRange = readonly [low: number, high: number];
export interface AckFrame extends Envelope {
  type: 'ack';
  ackDelayMicros: number;
  /** Disjoint, non-adjacent, in descending order: ranges[0] holds the largest acknowledged. */
  ranges: AckRange[];
}
/**
 * The relay's custody receipt: the transmission numbers of the recipient's own data frames
 * that the relay now holds durably. The body is exactly an ack body (ackDelayMicros is 0).
 */
export interface HeldFrame extends Envelope {
  type: 'held';
  ackDelayMicros: number;
  /** Disjoint, non-adjacent, in descending order, as in an ack frame. */
  ranges: AckRange[];
}
export interface PresenceEntry {
  user: string;
  online: boolean;
  devices: number;
  lastSeen: number;
}
export interface PresenceFrame extends Envelope {
  type: 'presence';
  kind: PresenceKind;
  entries: PresenceEntry[];
}
/** The users whose presence this connection hears of (docs/protocol.md, "Presence"). */
export interface WatchFrame extends Envelope {
  type: 'watch';
  kind: WatchKind;
  users: string[];
}
/**
 * Whether the sender is typing, sealed end to end (src/core/crypto/controls.ts): the relay
 * forwards it at once to the devices online and stores nothing.
 */
export interface TypingFrame extends Envelope {
  type: 'typing';
  sealed: Uint8Array;
}
/**
 * A receipt of one of SEALED_RECEIPT_KINDS, sealed end to end (src/core/crypto/controls.ts):
 * held for an offline device like a receipt.
 */
export interface SealedFrame extends Envelope {
  type: 'sealed';
  sealed: Uint8Array;
}
export interface ReceiptFrame extends Envelope {
  type: 'receipt';
  kind: ReceiptKind;
  /** The device that sent the messages this receipt is about. */
  messageDevice: number;
  messageIds: number[];
}
export interface ErrorFrame extends Envelope {
  type: 'error';
  code: ErrorCodeName;
  /** The message the error concerns, or 0. */
  messageId: number;
  text: string;
}

/**
 * The relay's first frame on every connection: a fresh random challenge, valid only on this
 * connection, and the relay's identity (the SHA-256 of its TLS certificate, or of the random
 * id in its data folder). Every hello signs both (src/shared/protocol/account.ts).
 */
export interface ChallengeFrame extends Envelope {
  type: 'challenge';
  nonce: Uint8Array;
  relayId: Uint8Array;
}
/**
 * Account operations between a device and the relay (linking, the device list, identity
 * keys): a JSON object with a `kind`, checked by parseAccountMessage.
 */
export interface AccountFrame extends Envelope {
  type: 'account';
  body: Uint8Array;
}

export type Frame =
  | HelloFrame
  | WelcomeFrame
  | DataFrame
  | AckFrame
  | PresenceFrame
  | TypingFrame
  | SealedFrame
  | ReceiptFrame
  | ErrorFrame
  | HeldFrame
  | WatchFrame
  | ChallengeFrame
  | AccountFrame;

export type DecodeErrorKind =
  'truncated' | 'oversized' | 'unsupported-version' | 'unknown-type' | 'malformed' | 'checksum';

export interface DecodeError {
  kind: DecodeErrorKind;
  message: string;
}

export type DecodeResult = { ok: true; frame: Frame } | { ok: false; error: DecodeError };
