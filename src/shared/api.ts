// The contract between the engine (src/core) and whatever shows it: the desktop app's
// preload, the browser host, the command-line client, tests and benchmarks. Plain data
// only, so that it crosses IPC and WebSockets unchanged.
import type { FileFailure } from './failures.ts';

/** An outgoing message's status only ever moves forward along this order (or to failed). */
export const OUTGOING_STATUSES = ['pending', 'sent', 'delivered', 'read'] as const;
export type MessageStatus = (typeof OUTGOING_STATUSES)[number] | 'failed';

/** Whether `next` may replace `current`: forward only; failed only from pending. */
export function statusAdvances(current: MessageStatus, next: MessageStatus): boolean {
  if (current === next) return false;
  if (next === 'failed') return current === 'pending';
  if (current === 'failed') return next !== 'pending';
  return OUTGOING_STATUSES.indexOf(next) > OUTGOING_STATUSES.indexOf(current);
}

export interface MessageView {
  /** Unique everywhere: author, author's device and id. */
  key: string;
  /** A hybrid logical clock timestamp: sorting by id gives send order. */
  id: number;
  author: string;
  authorDevice: number;
  /** The other user of the conversation. */
  peer: string;
  direction: 'in' | 'out';
  /** The text; null while an incoming message is incomplete. */
  text: string | null;
  /** Send time in epoch ms (from the id). */
  sentAt: number;
  /** Outgoing: its status. Incoming: 'delivered', or 'read' once read here. */
  status: MessageStatus;
  /** Incoming only: handed over incomplete after the assembly passes ran out. */
  error: boolean;
  /** Indices of the segments still missing, when `error` is set. */
  missing: number[];
  segmentCount: number;
  /** Segments received so far (incoming; equals segmentCount once complete). */
  received: number;
  /** Set when the message is a file (then `text` is null). */
  file: FileView | null;
  /**
   * Set when this device could not decrypt the message (it was not sealed for this device,
   * or it was altered on the way): why. Then `text` and `file` are null.
   */
  unreadable?: string;
}

export type FileState =
  'sending' | 'paused' | 'waiting' | 'receiving' | 'verifying' | 'done' | 'failed' | 'cancelled';

/**
 * Whether this device takes a peer's messages: `accepted` (we wrote to them, or accepted
 * them), a message `request` (they wrote first), or `blocked` (their messages are dropped).
 */
export type ContactState = 'accepted' | 'request' | 'blocked';

export interface FileView {
  /** The name as sent (outgoing), or as saved after sanitising (incoming, once known). */
  name: string | null;
  /** Bytes; null until an incoming file's header has arrived. */
  size: number | null;
  type: string | null;
  sha256: string | null;
  /**
   * An incoming file shows 'paused' while its sender has paused it, and 'waiting' while it
   * waits for this user's word (`held` says why); an outgoing one shows 'waiting' while its
   * recipient holds it.
   */
  state: FileState;
  /**
   * Why a 'waiting' file waits: its sender is a message `request` (Accept), it is over the
   * auto-download `size` (Download), or (outgoing) the `peer` has not taken it yet.
   */
  held: 'request' | 'size' | 'peer' | null;
  /** Bytes the peer has acknowledged (outgoing) or that are written here (incoming). */
  bytesDone: number;
  /** The file on this machine: the source (outgoing), the saved file (incoming, when done). */
  path: string | null;
  /** Why it failed, when it did, in English. */
  error: string | null;
  /** The same as a code and its values, for the UI to say in its language. */
  reason: FileFailure | null;
  /** Who cancelled it, when it is cancelled: this end ('me') or the other ('peer'). */
  cancelledBy: 'me' | 'peer' | null;
}

export interface PresenceView {
  user: string;
  online: boolean;
  devices: number;
  lastSeen: number;
}

export interface ConversationView {
  peer: string;
  lastMessage: MessageView | null;
  unread: number;
  presence: PresenceView | null;
  contact: ContactState;
}

/** What the network view shows for one conversation. */
/**
 * One conversation's transport counters since the last reset (docs/transport.md, "Counters").
 * A transmission is one data frame sent. segmentsSent = firstTransmissions + retransmissions;
 * segmentsSent + segmentsCarried = segmentsAcked + segmentsLost + segmentsSuperseded +
 * segmentsHeld + segmentsWithdrawn + segmentsInFlight, and the same for bytes. Bytes are
 * segment payloads as the frames carry them.
 */
export interface TransportStats {
  peer: string;
  /** Transmissions to the peer: first transmissions and retransmissions. */
  segmentsSent: number;
  firstTransmissions: number;
  retransmissions: number;
  /** Transmissions the peer acknowledged (an ack, or a delivery receipt while in flight). */
  segmentsAcked: number;
  /** Transmissions declared lost while their segment was unacknowledged. */
  segmentsLost: number;
  /** Transmissions made needless by an acknowledged copy of the same segment. */
  segmentsSuperseded: number;
  /** Transmissions the relay took into custody for a peer who is away. */
  segmentsHeld: number;
  /** Transmissions no longer awaited: message paused, cancelled or failed, or link down. */
  segmentsWithdrawn: number;
  /** Transmissions awaiting their fate now. */
  segmentsInFlight: number;
  /** Transmissions already in flight at the last reset (their fates count after it). */
  segmentsCarried: number;
  /** Transmissions declared lost that arrived after all (their retransmission was needless). */
  spuriousRetransmissions: number;
  /** Data frames taken from the peer, copies included (those are duplicatesDropped). */
  segmentsReceived: number;
  duplicatesDropped: number;
  bytesSent: number;
  bytesAcked: number;
  bytesLost: number;
  bytesSuperseded: number;
  bytesHeld: number;
  bytesWithdrawn: number;
  bytesInFlight: number;
  bytesCarried: number;
  /** Payload bytes received from the peer, copies included. */
  bytesReceived: number;
  rttMs: number;
  minRttMs: number;
  windowBytes: number;
  /** segmentsLost / segmentsSent. */
  lossRate: number;
}

export interface TransportSettings {
  /** X: bytes per segment, 64 to 65536. */
  segmentSize: number;
  /** N: milliseconds between assembly passes. */
  assemblyPeriodMs: number;
  /** K: passes without a new segment before an incomplete message is shown with the error flag. */
  idleCycles: number;
}

export type ConnectionState = 'connecting' | 'online' | 'offline';

/**
 * Where this profile's account stands. `new`: keys made, the name not yet registered (the
 * first connection registers it). `registered`: the relay knows this device. `name-taken`:
 * the name belongs to another account (the profile may log in under another name).
 * `removed`: this device was unlinked, or the account was recovered elsewhere. `unknown`:
 * the relay refused this registered device's proof (it may have lost its accounts).
 */
export const ACCOUNT_STATES = ['new', 'registered', 'name-taken', 'removed', 'unknown'] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

/** This profile's account and device. */
export interface AccountView {
  user: string;
  device: number;
  deviceName: string;
  state: AccountState;
  /** The account identity key's fingerprint (hex groups), for comparing by eye. */
  identityFingerprint: string;
  /** Whether a recovery code waits to be shown and acknowledged (pendingRecoveryCode). */
  recoveryCodePending: boolean;
  /**
   * Whether this device has published its prekeys to the relay (its first welcome does):
   * before, nobody can start an end-to-end session with it.
   */
  keysPublished: boolean;
}

/** One device of this account, from the relay's signed device list. */
export interface DeviceView {
  device: number;
  name: string;
  /** This device. */
  current: boolean;
  online: boolean;
  /** Epoch ms of its last connection; 0 when never seen. */
  lastSeen: number;
  /** Epoch ms at which it joined the account. */
  added: number;
}

/** A one-time code for linking a new device (shown as text and as a QR code). */
export interface LinkCodeView {
  /** 'ABCDE-FGHJK': the new device types it. */
  code: string;
  /** Epoch ms after which the relay no longer takes it. */
  expiresAt: number;
}

/** A new device asking to join with a link code whose MAC checked; answer with answerLink. */
export interface LinkRequestView {
  device: number;
  name: string;
  /** The new device's key fingerprint. */
  fingerprint: string;
}

/** A line a conversation shows between its messages: its peer's account identity changed. */
export interface NoticeView {
  peer: string;
  /** Epoch ms at which this device saw the change. */
  at: number;
  kind: 'identity-changed';
  /** The new identity key's fingerprint. */
  fingerprint: string;
}

/**
 * A conversation's safety number (docs/security.md, "Safety numbers"): the same 60 digits on
 * both sides while each has the other's current account identity key.
 */
export interface SafetyNumberView {
  user: string;
  /** 60 digits, shown in 12 groups of 5. */
  number: string;
  /** The user marked this contact's current identity as verified. */
  verified: boolean;
  /**
   * The contact was verified and their identity changed since: sending to them is blocked
   * until the user accepts the new number (acceptIdentity), which clears verified.
   */
  changed: boolean;
}

/** Why this profile cannot connect, for good (the connection stops retrying). */
export type AccountRefusal = 'name-taken' | 'removed' | 'unknown';

export type MessengerEvent =
  | { type: 'message'; message: MessageView }
  | { type: 'presence'; presence: PresenceView }
  | { type: 'typing'; user: string; typing: boolean }
  | { type: 'connection'; state: ConnectionState; detail?: string }
  | { type: 'stats'; stats: TransportStats }
  /** The relay refused something; `message` is the key of a message it refused. */
  | { type: 'error'; code: string; text: string; message?: string }
  /** This profile's account changed (registered, refused, its name, a code shown). */
  | { type: 'account'; account: AccountView }
  /** A new device typed a link code of ours; answerLink(device, accept) decides. */
  | { type: 'link-request'; request: LinkRequestView }
  /** A device joined the account (through a link code of this device). */
  | { type: 'device-linked'; device: DeviceView }
  /** A device left the account (unlinked from here). */
  | { type: 'device-removed'; device: number }
  /** A contact's account identity changed (recovered, or a new account of the same name). */
  | { type: 'identity-changed'; user: string; fingerprint: string | null; at: number }
  /** A peer's contact state changed (accepted, blocked, unblocked; from here or by writing). */
  | { type: 'contact'; user: string; contact: ContactState };
