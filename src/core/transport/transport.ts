// The transport layer: turns messages into segments and back over the relay, reliably and
// in order, with its state in SQLite so that a SIGKILL at any moment loses nothing it
// accepted. docs/transport.md describes the design. This file is the facade the messenger,
// the files and the tests use; the work is done by:
//   - outgoing.ts: our messages from acceptance to their last status;
//   - sender.ts: the pump, retransmission, and the acks and custody receipts that come back
//     (per peer, outbound.ts holds the queue, loss detection and congestion control);
//   - receiver.ts: incoming segments stored in bursts, assembly, the acks and receipts sent;
//   - incoming-streams.ts, stream.ts: streamed messages (files), whose bytes only pass
//     through the source and sink that src/core/files implements;
//   - timer.ts: the one timer serving every peer, and the assembly pass's period;
//   - statements.ts: the prepared SQL.
import { EventEmitter } from 'node:events';
import type { MessageStatus, TransportSettings, TransportStats } from '../../shared/api.ts';
import type { Frame, ReceiptFrame, ReceiptKind } from '../../shared/protocol/index.ts';
import { SEALED_RECEIPT_KINDS, SENDER_RECEIPT_KINDS } from '../../shared/protocol/index.ts';
import { LOG_CAPACITY } from '../../shared/contract.ts';
import type { RelayConnection } from '../connection.ts';
import type { Db } from '../store/database.ts';
import type { Me, MessageKey, TransportContext, TransportEvents } from './context.ts';
import { Outgoing, type AcceptedFile } from './outgoing.ts';
import { Receiver } from './receiver.ts';
import { SegmentLog } from './segment-log.ts';
import { Sender } from './sender.ts';
import { prepareStatements } from './statements.ts';
import type { SourceIdentity, StreamSink, StreamSource } from './stream.ts';
import { Tallies } from './tally.ts';
import { TransportTimer } from './timer.ts';

export type { MessageKey, TransportEvents } from './context.ts';
export { MAX_MISSING_LISTED } from './receiver.ts';
export { MAX_MESSAGE_BYTES, type AcceptedFile } from './outgoing.ts';
export { FAIL_AFTER_MS, HELD_SWEEP_MS, MAX_SENDS_PER_SEGMENT } from './sender.ts';

/** Streamed messages (files): where their segments come from and go (see stream.ts). */
export interface Streams {
  /** Reads our streamed messages' segments; without it none can be sent. */
  source?: StreamSource | null;
  /** Takes incoming streamed messages; without it they are dropped. */
  sink?: StreamSink | null;
  /**
   * Messages are end-to-end encrypted (src/core/crypto): ours are accepted, then sealed
   * (accept, sealed), and received ones are stored to be opened (crypto = 'open').
   */
  sealed?: boolean;
  /** Whether the user blocked a peer (their segments are dropped); default: nobody. */
  blocked?: (user: string) => boolean;
}

export class Transport extends EventEmitter<TransportEvents> {
  settings: TransportSettings;
  /** What happened to recent segments, for the network view. */
  readonly log = new SegmentLog(LOG_CAPACITY);
  /** The network view's counters, per peer. */
  private readonly tallies = new Tallies();
  private readonly sender: Sender;
  private readonly outgoing: Outgoing;
  private readonly receiver: Receiver;
  private readonly timer: TransportTimer;
  private closed = false;
  private readonly sealsMessages: boolean;
  /**
   * Seals and sends a receipt of SEALED_RECEIPT_KINDS (set by src/core/crypto once it is
   * attached); settles once it is on its way, rejects if it cannot be sealed now.
   */
  sealReceipt:
    ((to: string, device: number, ids: number[], kind: ReceiptKind) => Promise<void>) | null = null;

  constructor(
    db: Db,
    conn: RelayConnection,
    me: Me,
    settings: TransportSettings,
    now = () => performance.now(),
    streams: Streams = {},
  ) {
    super();
    this.settings = settings;
    this.sealsMessages = streams.sealed ?? false;
    const ctx: TransportContext = {
      db,
      q: prepareStatements(db),
      conn,
      me,
      now,
      log: this.log,
      tallies: this.tallies,
      settings: () => this.settings,
      emit: this.emit.bind(this),
      closed: () => this.closed,
      sealed: this.sealsMessages,
      blocked: streams.blocked ?? (() => false),
      sealReceipt: (to, device, ids, kind) =>
        this.sealsMessages && SEALED_RECEIPT_KINDS.has(kind) && this.sealReceipt
          ? this.sealReceipt(to, device, ids, kind)
          : null,
    };
    this.sender = new Sender(ctx, {
      progressed: (id) => this.outgoing.advance(id),
      failed: (id, reason) => this.outgoing.fail(id, reason),
      arm: () => this.timer.arm(),
    });
    this.outgoing = new Outgoing(ctx, this.sender, streams.source ?? null);
    this.receiver = new Receiver(ctx, streams.sink ?? null, () => this.sender.pump());
    this.timer = new TransportTimer(now, [this.receiver, this.sender], () => this.sender.pump());
    conn.on('drain', () => this.sender.onSocketDrain());
  }

  // ---------------------------------------------------------------------------------------
  // Life cycle

  /** Loads unfinished outgoing messages and starts the assembly pass. */
  start(): void {
    this.outgoing.load();
    this.restartAssembly();
    this.sender.pump();
  }

  close(): void {
    this.closed = true;
    this.sender.close();
    this.receiver.close();
    this.timer.close();
  }

  updateSettings(settings: TransportSettings): void {
    this.settings = settings;
    this.restartAssembly();
  }

  private restartAssembly(): void {
    this.timer.everyPeriod(this.settings.assemblyPeriodMs, () => this.receiver.assemblyPass());
  }

  /** The relay link came up: send whatever waits. */
  onOnline(): void {
    this.sender.onOnline();
  }

  /** The relay link went down: what was in flight is sent again later. */
  onOffline(): void {
    this.sender.onOffline();
  }

  /**
   * Before quitting: sends nothing more (new segments and retransmissions alike) and settles
   * once everything in flight is acknowledged or lost, the link drops, or `timeoutMs` passes.
   * What arrived is then recorded as acknowledged, so that the next start does not send it
   * again: with a window of megabytes, that was a sixth of a 24 MiB file.
   */
  drain(timeoutMs: number): Promise<void> {
    return this.sender.drain(timeoutMs);
  }

  // ---------------------------------------------------------------------------------------
  // Sending

  /** Accepts a message: stored with its segment state before the first segment leaves. */
  submit(peer: string, id: number, body: Uint8Array): MessageKey {
    return this.outgoing.submit(peer, id, body);
  }

  /**
   * Accepts a message to be sealed before it is sent: durable when this returns, with its
   * plain body (and its file's row); nothing leaves until `sealed`.
   */
  accept(peer: string, id: number, body: Uint8Array, file?: AcceptedFile): MessageKey {
    return this.outgoing.accept(peer, id, body, file);
  }

  /**
   * A message accepted earlier is sealed: `wire` is what goes out, `alsoRecord` writes in the
   * same transaction (the Signal stores' stage). Its segments then go out like any message's.
   */
  sealed(id: number, wire: Uint8Array, contentKey: Uint8Array, alsoRecord: () => void): void {
    this.outgoing.sealed(id, wire, contentKey, alsoRecord);
  }

  /**
   * Accepts a streamed message (a file) for `peer`: `header` is the message body (its
   * description); the source at `path` is read as segments go out, `chunk` bytes at a time.
   */
  submitFile(
    peer: string,
    id: number,
    header: Uint8Array,
    path: string,
    identity: SourceIdentity,
    chunk: number,
  ): MessageKey {
    return this.outgoing.submitFile(peer, id, header, path, identity, chunk);
  }

  /** Stops sending a file for now (its progress is kept); false if it is not being sent. */
  pauseFile(id: number): boolean {
    return this.outgoing.pauseFile(id);
  }

  /** Continues a paused file from where it stopped. */
  resumeFile(id: number): boolean {
    return this.outgoing.resumeFile(id);
  }

  /** Gives up sending a file: it fails, and its file state says cancelled. */
  cancelFile(id: number): boolean {
    return this.outgoing.cancelFile(id);
  }

  /** Forgets everything in flight with `peer`: their conversation is being deleted. */
  forgetPeer(peer: string): void {
    this.sender.forgetPeer(peer);
  }

  /** Sends a failed message again (its status returns to pending). */
  retry(id: number): boolean {
    return this.outgoing.retry(id);
  }

  /** The relay refused a message (unknown recipient, full store): it fails unless already sent. */
  refuse(id: number, reason?: string): void {
    this.outgoing.refuse(id, reason);
  }

  setStatus(key: MessageKey, next: MessageStatus): void {
    this.outgoing.setStatus(key, next);
  }

  /** The relay's word on a peer's presence (see Sender.peerPresence). */
  peerPresence(peer: string, online: boolean): void {
    this.sender.peerPresence(peer, online);
  }

  // ---------------------------------------------------------------------------------------
  // Frames in, receipts out

  onFrame(frame: Frame): void {
    switch (frame.type) {
      case 'data':
        this.receiver.onData(frame);
        break;
      case 'ack':
        this.sender.onAck(frame.from, frame.ranges, frame.ackDelayMicros / 1000);
        break;
      case 'held':
        this.sender.onHeld(frame.ranges);
        break;
      case 'receipt':
        // Sealed kinds count only once opened (onOpenedReceipt): in clear, the relay (or
        // anyone it lets through) could have written one.
        if (this.sealsMessages && SEALED_RECEIPT_KINDS.has(frame.kind)) return;
        this.onReceipt(frame);
        break;
      default:
        return;
    }
    this.sender.afterFrame();
  }

  /** A receipt that came sealed end to end, opened (src/core/crypto/controls.ts). */
  onOpenedReceipt(frame: ReceiptFrame): void {
    if (this.closed) return;
    this.onReceipt(frame);
    this.sender.afterFrame();
  }

  private onReceipt(frame: ReceiptFrame): void {
    // From a message's sender, about a stream on its way here; the others are about ours.
    if (SENDER_RECEIPT_KINDS.has(frame.kind)) this.receiver.streams.onSenderReceipt(frame);
    else if (frame.kind === 'wait' || frame.kind === 'proceed') this.emit('hold', frame);
    else this.outgoing.onReceipt(frame);
  }

  /**
   * Sends a receipt: sealed end to end when its kind is one of SEALED_RECEIPT_KINDS (the
   * promise settles once it is on its way, and rejects if it cannot be sealed now).
   */
  sendReceipt(to: string, device: number, ids: number[], kind: ReceiptKind): Promise<void> {
    return this.receiver.sendReceipt(to, device, ids, kind);
  }

  // ---------------------------------------------------------------------------------------
  // Assembly and statistics

  /** Flags incoming messages that gained nothing for K passes (runs every N ms by itself). */
  assemblyPass(): void {
    this.receiver.assemblyPass();
  }

  /** Segment indices of an incomplete incoming message that have not arrived. */
  missing(key: MessageKey, count: number): number[] {
    return this.receiver.missing(key, count);
  }

  /** The network view's counters for `peer` (docs/transport.md, "Counters"). */
  stats(peer: string): TransportStats {
    const out = this.sender.outbound.get(peer);
    const gauges = out && {
      inFlight: { segments: out.loss.inFlightCount, bytes: out.loss.bytesInFlight },
      rttMs: out.loss.rtt.smoothedRtt,
      minRttMs: out.loss.rtt.minRtt,
      windowBytes: out.cc.window,
    };
    return this.tallies.stats(peer, gauges);
  }

  /** Starts the network view's counters and log again, for `peer` or for every peer. */
  resetStats(peer?: string): void {
    const peers = peer === undefined ? this.tallies.peers() : [peer];
    for (const p of peers) {
      const loss = this.sender.outbound.get(p)?.loss;
      this.tallies.reset(p, {
        segments: loss?.inFlightCount ?? 0,
        bytes: loss?.bytesInFlight ?? 0,
      });
    }
    this.log.clear(peer);
    for (const p of peers) this.emit('stats', p);
  }
}
