// Typing indicators and the receipts that say what a user does (read, paused, resumed, wait,
// proceed: SEALED_RECEIPT_KINDS), sealed end to end like message bodies. Each goes in a key
// table to the peer's devices, with its own associated data ('control', id 0), so neither the
// relay nor anyone on the path can read one, write one, or pass one off as a message; and as
// every entry spends a message key of its Signal session, a replayed one does not open.
// A typing frame is forwarded at once and never stored; a sealed frame (a receipt) is held for
// a device that is away, like a clear receipt.
import {
  RECEIPT_KINDS,
  SEALED_RECEIPT_KINDS,
  type ReceiptFrame,
  type ReceiptKind,
  type SealedFrame,
  type TypingFrame,
} from '../../shared/protocol/index.ts';
import { Reader, ReadFailure, Writer } from '../../shared/protocol/bytes.ts';
import type { Db } from '../store/database.ts';
import { SealError, type SealAuthor } from './content.ts';
import type { SignalEngine } from './engine.ts';
import type { Stage } from './stores.ts';
import { transact } from '../../node/transactions.ts';

/**
 * What a sealed control says, once opened. `answer` says nothing: it is the Signal message
 * that tells a device which keeps sending a session's first (PQXDH) message, 1.8 KB in every
 * key table, that the session is set up (docs/security.md, "Sessions").
 */
export type Control =
  | { kind: 'typing'; typing: boolean }
  | { kind: 'receipt'; receipt: ReceiptKind; messageDevice: number; messageIds: number[] }
  | { kind: 'answer' };

const TYPING = 1;
const RECEIPT = 2;
const ANSWER = 3;
/** A device that keeps sending first messages is answered at most this often. */
export const ANSWER_INTERVAL_MS = 10_000;
const RECEIPT_BY_CODE = new Map<number, ReceiptKind>(
  Object.entries(RECEIPT_KINDS).map(([k, v]) => [v, k as ReceiptKind]),
);

export function encodeControl(c: Control): Uint8Array {
  if (c.kind === 'typing') return new Uint8Array([TYPING, c.typing ? 1 : 0]);
  if (c.kind === 'answer') return new Uint8Array([ANSWER]);
  const w = new Writer(1 + 1 + 4 + 2 + 8 * c.messageIds.length);
  w.u8(RECEIPT);
  w.u8(RECEIPT_KINDS[c.receipt]);
  w.u32(c.messageDevice);
  w.u16(c.messageIds.length);
  for (const id of c.messageIds) w.u64(id);
  return w.bytes;
}

/** Reads an opened control; throws SealError when it is not one. */
export function decodeControl(bytes: Uint8Array): Control {
  try {
    const r = new Reader(bytes);
    const kind = r.u8('kind');
    let c: Control;
    if (kind === TYPING) {
      const state = r.u8('typing');
      if (state > 1) throw new SealError('a typing control says neither yes nor no');
      c = { kind: 'typing', typing: state === 1 };
    } else if (kind === RECEIPT) {
      const receipt = RECEIPT_BY_CODE.get(r.u8('receipt'));
      if (!receipt || !SEALED_RECEIPT_KINDS.has(receipt)) {
        throw new SealError('a sealed receipt of a kind that is not sealed');
      }
      const messageDevice = r.u32('device');
      const count = r.u16('count');
      if (count === 0) throw new SealError('a sealed receipt names no message');
      const messageIds: number[] = [];
      for (let i = 0; i < count; i++) messageIds.push(r.u64('id'));
      c = { kind: 'receipt', receipt, messageDevice, messageIds };
    } else if (kind === ANSWER) {
      c = { kind: 'answer' };
    } else throw new SealError('an unknown control');
    if (r.remaining !== 0) throw new SealError('a control with bytes after it');
    return c;
  } catch (e) {
    if (e instanceof ReadFailure) throw new SealError(`a malformed control: ${e.detail}`);
    throw e;
  }
}

export interface ControlHooks {
  /** Whether the relay is connected (a device list may be fetched). */
  online(): boolean;
  /** Sends a typing or sealed frame to the relay. */
  send(frame: TypingFrame | SealedFrame): void;
  /** `user` is typing to us, or stopped (opened from a typing frame). */
  typing(user: string, typing: boolean): void;
  /** A receipt opened from a sealed frame, as the transport takes receipts. */
  receipt(frame: ReceiptFrame): void;
}

export class SealedControls {
  private readonly signal: SignalEngine;
  private readonly db: Db;
  private readonly me: { user: string; device: number };
  private readonly hooks: ControlHooks;
  private closed = false;
  /** When each device (`user.device`) was last answered. */
  private readonly answered = new Map<string, number>();

  constructor(
    signal: SignalEngine,
    db: Db,
    me: { user: string; device: number },
    hooks: ControlHooks,
  ) {
    this.signal = signal;
    this.db = db;
    this.me = me;
    this.hooks = hooks;
  }

  /**
   * Tells `peer`'s devices whether we are typing. One that cannot be sealed now (no keys of
   * theirs yet, the relay away) is dropped: the indicator is only worth something now.
   */
  typing(peer: string, typing: boolean): void {
    void this.seal(peer, { kind: 'typing', typing })
      .then((sealed) => this.hooks.send({ type: 'typing', ...this.envelope(peer), sealed }))
      .catch(() => {});
  }

  /** Seals a receipt for `to`'s devices; rejects if it cannot be sealed now (sent again later). */
  async receipt(to: string, device: number, ids: number[], kind: ReceiptKind): Promise<void> {
    const control: Control = {
      kind: 'receipt',
      receipt: kind,
      messageDevice: device,
      messageIds: ids,
    };
    const sealed = await this.seal(to, control);
    this.hooks.send({ type: 'sealed', ...this.envelope(to), sealed });
  }

  /**
   * A message from `user`'s `device` came in a session's first message: it has not heard
   * from us on that session, and so seals every message with the full PQXDH header. A sealed
   * answer (a Signal message back) ends that; lost, the next first message asks again.
   */
  answer(user: string, device: number): void {
    const at = `${user}.${device}`;
    const now = Date.now();
    if (now - (this.answered.get(at) ?? -Infinity) < ANSWER_INTERVAL_MS) return;
    this.answered.set(at, now);
    void this.seal(user, { kind: 'answer' })
      .then((sealed) => this.hooks.send({ type: 'sealed', ...this.envelope(user), sealed }))
      .catch(() => this.answered.delete(at));
  }

  /** A typing or sealed frame from a peer: opened, checked, and passed on. */
  onFrame(frame: TypingFrame | SealedFrame): void {
    if (this.closed) return;
    const author: SealAuthor = {
      user: frame.from,
      device: frame.fromDevice,
      id: 0,
      purpose: 'control',
    };
    void this.signal
      .open(author, frame.sealed, (_o, stage) => this.commit(stage))
      .then(({ body }) => {
        if (this.closed) return;
        const c = decodeControl(body);
        // An answer has done its work once opened (the session moved on). Typing and
        // receipts come from other users: from our own devices they mean nothing. A typing
        // frame carries a typing control, a sealed frame a receipt: the relay stores one and
        // not the other, so neither may stand in for the other.
        if (frame.from === this.me.user) return;
        if (c.kind === 'typing' && frame.type === 'typing') this.hooks.typing(frame.from, c.typing);
        if (c.kind === 'receipt' && frame.type === 'sealed') {
          this.hooks.receipt({
            type: 'receipt',
            from: frame.from,
            fromDevice: frame.fromDevice,
            to: this.me.user,
            toDevice: this.me.device,
            kind: c.receipt,
            messageDevice: c.messageDevice,
            messageIds: c.messageIds,
          });
        }
      })
      // Not for this device, altered, replayed, or from an identity not trusted: dropped.
      .catch(() => {});
  }

  close(): void {
    this.closed = true;
  }

  private seal(peer: string, control: Control): Promise<Uint8Array> {
    const author: SealAuthor = { ...this.me, id: 0, purpose: 'control' };
    return this.signal
      .seal(
        author,
        peer,
        encodeControl(control),
        this.hooks.online(),
        (_s, stage) => this.commit(stage),
        false,
      )
      .then((s) => s.wire);
  }

  private envelope(peer: string) {
    return { from: this.me.user, fromDevice: this.me.device, to: peer, toDevice: 0 };
  }

  /** The session's state moves on in its own transaction (a control concerns no message). */
  private commit(stage: Stage): void {
    transact(this.db, () => stage.apply(this.db));
  }
}
