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
}

export type FileState =
  'sending' | 'paused' | 'receiving' | 'verifying' | 'done' | 'failed' | 'cancelled';

export interface FileView {
  /** The name as sent (outgoing), or as saved after sanitising (incoming, once known). */
  name: string | null;
  /** Bytes; null until an incoming file's header has arrived. */
  size: number | null;
  type: string | null;
  sha256: string | null;
  /** An incoming file shows 'paused' while its sender has paused it. */
  state: FileState;
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

export type MessengerEvent =
  | { type: 'message'; message: MessageView }
  | { type: 'presence'; presence: PresenceView }
  | { type: 'typing'; user: string; typing: boolean }
  | { type: 'connection'; state: ConnectionState; detail?: string }
  | { type: 'stats'; stats: TransportStats }
  /** The relay refused something; `message` is the key of a message it refused. */
  | { type: 'error'; code: string; text: string; message?: string };
