// What the parts of the transport share: the keys and events of its messages, and one
// context (database, statements, relay link, clock, log, counters) handed to the sender, the receiver
// and the outgoing messages' bookkeeping by the Transport facade (transport.ts).
import type { EventEmitter } from 'node:events';
import type { TransportSettings } from '../../shared/api.ts';
import type { ReceiptFrame, ReceiptKind } from '../../shared/protocol/index.ts';
import type { RelayConnection } from '../connection.ts';
import type { Db } from '../store/database.ts';
import type { SegmentLog } from './segment-log.ts';
import type { Statements } from './statements.ts';
import type { Tallies } from './tally.ts';

export interface MessageKey {
  author: string;
  authorDevice: number;
  id: number;
}

export interface TransportEvents {
  /** A message's row changed: status, completion, error flag. */
  changed: [key: MessageKey];
  /** Transport statistics for a peer moved. */
  stats: [peer: string];
  /** One of our files cannot be sent (it changed or vanished): its message failed. */
  fileFailed: [key: MessageKey, reason: string];
  /** Every segment of an incoming file is on disk: it awaits verification. */
  fileComplete: [key: MessageKey];
  /** A file started moving (sent or received): progress is worth watching. */
  fileActivity: [];
  /** A file segment could not be written (disk full...): it is not acknowledged. */
  fileWriteFailed: [key: MessageKey, reason: string];
  /** A recipient asks us to hold one of our files (`wait`) or to go on (`proceed`). */
  hold: [frame: ReceiptFrame];
}

/** This device: the author of our messages. */
export interface Me {
  user: string;
  device: number;
}

export interface TransportContext {
  readonly db: Db;
  readonly q: Statements;
  readonly conn: RelayConnection;
  readonly me: Me;
  /** Monotonic milliseconds (a fake clock in tests). */
  readonly now: () => number;
  /** What happened to recent segments, for the network view. */
  readonly log: SegmentLog;
  /** The network view's counters, per peer (tally.ts defines them). */
  readonly tallies: Tallies;
  /** The settings in force (they change at run time). */
  settings(): TransportSettings;
  /** Emits one of the transport's events. */
  readonly emit: EventEmitter<TransportEvents>['emit'];
  /** The transport was closed: no timer, write or frame may act any more. */
  closed(): boolean;
  /** Messages arrive sealed (src/core/crypto): a received one waits to be opened. */
  readonly sealed: boolean;
  /** Whether the user blocked `user`: their segments are dropped (contacts.ts). */
  blocked(user: string): boolean;
  /** Sends a receipt sealed end to end if its kind is sealed (else null: send it in clear). */
  sealReceipt(to: string, device: number, ids: number[], kind: ReceiptKind): Promise<void> | null;
}

/** The key of one of our own messages. */
export function ownKey(me: Me, id: number): MessageKey {
  return { author: me.user, authorDevice: me.device, id };
}
