// The receiving side: data frames stored in bursts (one transaction per I/O turn), a text
// message assembled in the transaction that stores its last segment, a file's chunks written
// to its partial file before they are recorded, acknowledgements and receipts sent once what
// they promise is committed, and the assembly pass that flags messages gaining nothing.
import type { ReceiptKind, DataFrame } from '../../shared/protocol/index.ts';
import { MAX_RECEIPT_IDS } from '../../shared/protocol/index.ts';
import { AckScheduler } from './ack-ranges.ts';
import type { MessageKey, TransportContext } from './context.ts';
import { IncomingStreams, type PendingWrite } from './incoming-streams.ts';
import type { StreamSink } from './stream.ts';
import { MAX_MESSAGE_BYTES } from './outgoing.ts';
import { MIN_SEGMENT_SIZE } from './segments.ts';
import { transact } from '../../node/transactions.ts';

/** The list of missing segments names at most this many (the first ones). */
export const MAX_MISSING_LISTED = 1000;

/** Acknowledgement state for one sending device. */
interface InboundPeer {
  user: string;
  device: number;
  acks: AckScheduler;
}

export class Receiver {
  private readonly ctx: TransportContext;
  /** Called once a burst is settled: acks and receipts out, the sender may go on. */
  private readonly afterBurst: () => void;
  /** Acknowledgement state per sending device, keyed `user/device`. */
  private readonly inbound = new Map<string, InboundPeer>();
  /** Incoming streamed messages (files). */
  readonly streams: IncomingStreams;
  /** Data frames wait here for the end of the current I/O burst: one transaction for all. */
  private incoming: DataFrame[] = [];
  /** When each of `incoming` arrived: an ack's delay counts from there (see settleIncoming). */
  private incomingAt: number[] = [];
  private flushScheduled = false;
  /** A burst's chunks are being written. */
  private writing = false;

  constructor(ctx: TransportContext, sink: StreamSink | null, afterBurst: () => void) {
    this.ctx = ctx;
    this.afterBurst = afterBurst;
    this.streams = new IncomingStreams(ctx, sink, (frame, peer, size) =>
      this.incomingRow(frame, peer, size),
    );
  }

  close(): void {
    this.streams.close();
  }

  onData(frame: DataFrame): void {
    this.incoming.push(frame);
    this.incomingAt.push(this.ctx.now());
    this.scheduleFlush();
  }

  /** Stores what has come at the end of this I/O turn (once for the whole burst). */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushIncoming());
  }

  /** Stores a burst of segments in one transaction, then acknowledges them. */
  private flushIncoming(): void {
    this.flushScheduled = false;
    // One burst at a time: what comes while its chunks are written waits for the next.
    if (this.ctx.closed() || this.writing || this.incoming.length === 0) return;
    const { db, me } = this.ctx;
    const batch = this.incoming;
    const arrivals = this.incomingAt;
    this.incoming = [];
    this.incomingAt = [];
    const writes: { at: number; write: PendingWrite }[] = [];
    // A segment twice in one burst (the channel duplicates) is written once: only the first
    // copy is recorded (and hashed), and the other's write could land after it.
    const writing = new Set<string>();
    const results = transact(
      db,
      () =>
        batch.map((f, at): StoreResult => {
          const r = this.storeSegment(f, f.from === me.user ? f.to : f.from);
          if (typeof r === 'string') return r;
          const slot = r.write.slot;
          if (writing.has(slot)) return 'duplicate';
          writing.add(slot);
          writes.push({ at, write: r });
          return 'refused';
        }),
      'immediate',
    );
    if (writes.length === 0) {
      this.settleIncoming(batch, results, arrivals);
      return;
    }
    // The chunks go to disk on the thread pool; recorded and acknowledged once there.
    this.writing = true;
    void Promise.all(writes.map(({ write }) => this.streams.write(write))).then((errors) => {
      this.writing = false;
      if (this.ctx.closed()) return;
      transact(
        db,
        () => {
          writes.forEach(({ at, write }, i) => {
            results[at] = this.streams.recordWritten(write, errors[i]!);
          });
        },
        'immediate',
      );
      this.settleIncoming(batch, results, arrivals);
      if (this.incoming.length > 0) this.scheduleFlush();
    });
  }

  /**
   * A burst stored: counters, the segment log, acknowledgements, receipts and events.
   *
   * An ack's delay counts from its segment's arrival: the time the burst spent being stored
   * and written is the receiver's, which the sender's congestion control must not read as a
   * queue on the path. (One ack per burst instead of one per two segments was tried: ten
   * times fewer acks, but fewer RTT samples and later loss signals; 10% loss got slower.)
   */
  private settleIncoming(batch: DataFrame[], results: StoreResult[], arrivals: number[]): void {
    /** Receipts to send, by kind and sender. */
    const receipts = new Map<
      string,
      { user: string; device: number; kind: ReceiptKind; ids: number[] }
    >();
    const addReceipt = (frame: DataFrame, kind: ReceiptKind) => {
      const at = `${kind} ${frame.from}/${frame.fromDevice}`;
      const r = receipts.get(at) ?? { user: frame.from, device: frame.fromDevice, kind, ids: [] };
      if (!r.ids.includes(frame.messageId)) r.ids.push(frame.messageId);
      receipts.set(at, r);
    };
    const changed = new Map<string, MessageKey>();
    const fileComplete: MessageKey[] = [];
    // The burst's acks and receipts leave in one write.
    this.ctx.conn.batch(() => {
      batch.forEach((frame, i) => {
        const result = results[i]!;
        const ownCopy = frame.from === this.ctx.me.user;
        const peer = ownCopy ? frame.to : frame.from;
        // A segment that could not be stored is dropped unacknowledged: the sender will resend it.
        if (result === 'refused') return;
        // So is a chunk of a file that waits, and its sender is asked to hold the rest.
        if (result === 'waitingFile') {
          if (!ownCopy) addReceipt(frame, 'wait');
          return;
        }
        const dropped =
          result === 'duplicate' || result === 'cancelledFile' || result === 'refusedFile';
        this.ctx.tallies.receive(peer).received(frame.payload.length, dropped);
        this.ctx.log.record(
          peer,
          dropped ? 'duplicate' : 'received',
          frame.messageId,
          frame.segmentIndex,
          frame.segmentCount,
          frame.payload.length,
        );
        const key = { author: frame.from, authorDevice: frame.fromDevice, id: frame.messageId };
        // Completion, and the first segment of a message (so that progress can be shown);
        // once per message and burst.
        if (result === 'fileComplete') fileComplete.push(key);
        if (result === 'completed' || result === 'first' || result === 'failed') {
          changed.set(`${frame.from}/${frame.fromDevice}/${frame.messageId}`, key);
        }
        // Copies of our own messages from another device are history, not ours to acknowledge.
        if (ownCopy) return;
        const senderKey = `${frame.from}/${frame.fromDevice}`;
        let state = this.inbound.get(senderKey);
        if (!state) {
          state = { user: frame.from, device: frame.fromDevice, acks: new AckScheduler() };
          this.inbound.set(senderKey, state);
        }
        // The segment is committed: now it may be acknowledged.
        if (state.acks.onReceived(frame.transmission, arrivals[i]!).ackNow) this.sendAck(state);
        // A file refused at its header (too large, no room) is final: the sender hears so.
        const kind = RECEIPT_FOR[result];
        if (kind !== undefined) addReceipt(frame, kind);
      });
      for (const r of receipts.values()) void this.sendReceipt(r.user, r.device, r.ids, r.kind);
    });
    for (const key of changed.values()) this.ctx.emit('changed', key);
    // A file is delivered once verified: its receipt comes from whoever verifies it.
    for (const key of fileComplete) this.ctx.emit('fileComplete', key);
    this.afterBurst();
  }

  /**
   * Persists one incoming segment (inside the caller's transaction) and completes the
   * message when it was the last one.
   */
  private storeSegment(frame: DataFrame, peer: string): StoreResult | PendingWrite {
    // A blocked peer's messages are dropped (acknowledged, so that they stop), files refused.
    if (frame.from !== this.ctx.me.user && this.ctx.blocked(frame.from)) {
      return frame.file === true ? 'refusedFile' : 'duplicate';
    }
    if (frame.file === true) return this.streams.store(frame, peer);
    const { q } = this.ctx;
    const { from, fromDevice, messageId: id, segmentCount: count, segmentIndex: index } = frame;
    // No message is larger than MAX_MESSAGE_BYTES, even in the smallest segments.
    if (count > Math.ceil(MAX_MESSAGE_BYTES / MIN_SEGMENT_SIZE)) return 'duplicate';
    if ((count - 1) * frame.payload.length > MAX_MESSAGE_BYTES) return 'duplicate';
    const row = this.incomingRow(frame, peer, frame.payload.length);
    if (row === null) return 'duplicate';
    // A message in one segment (most texts) is whole as it comes: nothing is kept aside to
    // assemble it, which spares its transaction a row written and deleted again.
    if (count === 1) {
      const whole = q.completeWhole.run(frame.payload, from, fromDevice, id).changes === 1;
      return whole ? 'completed' : 'duplicate';
    }
    if (q.insertInSegment.run(from, fromDevice, id, index, frame.payload).changes === 0) {
      return 'duplicate';
    }
    q.progress.run(from, fromDevice, id);
    if (row.received + 1 < count) return row.received === 0 ? 'first' : 'stored';
    const parts = q.segments.all(from, fromDevice, id) as { payload: Buffer }[];
    q.complete.run(Buffer.concat(parts.map((p) => p.payload)), from, fromDevice, id);
    q.dropInSegments.run(from, fromDevice, id);
    return 'completed';
  }
  /**
   * The row of the message a segment belongs to, created by its first segment (looked up
   * first: one statement per segment rather than two). Null when the segment does not fit the
   * message as known (another shape for a known id is a forgery or a bug: keep what we have)
   * or the message is complete.
   */
  private incomingRow(
    frame: DataFrame,
    peer: string,
    segmentSize: number,
  ): { received: number } | null {
    const { from, fromDevice, messageId: id, segmentCount: count } = frame;
    type Row = { peer: string; complete: number; count: number; received: number };
    let row = this.ctx.q.message.get(from, fromDevice, id) as Row | undefined;
    if (!row) {
      const direction = from === this.ctx.me.user ? 'out' : 'in';
      this.ctx.q.insertMessage.run({
        author: from,
        authorDevice: fromDevice,
        id,
        peer,
        direction,
        body: null,
        segmentCount: count,
        segmentSize,
        status: direction === 'in' ? 'delivered' : 'sent',
        received: 0,
        crypto: this.ctx.sealed ? 'open' : null,
      });
      row = this.ctx.q.message.get(from, fromDevice, id) as Row | undefined;
    }
    if (!row || row.complete || row.count !== count || row.peer !== peer) return null;
    return row;
  }

  private sendAck(state: InboundPeer): void {
    const ack = state.acks.takeAck(this.ctx.now());
    if (!ack) return;
    this.ctx.conn.send({
      type: 'ack',
      from: this.ctx.me.user,
      fromDevice: this.ctx.me.device,
      to: state.user,
      toDevice: state.device,
      ackDelayMicros: ack.ackDelayMicros,
      ranges: ack.ranges,
    });
  }

  /** Sends a receipt, sealed if its kind is (transport.ts: sendReceipt). */
  sendReceipt(to: string, device: number, ids: number[], kind: ReceiptKind): Promise<void> {
    const sealed: Promise<void>[] = [];
    for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
      const part = ids.slice(i, i + MAX_RECEIPT_IDS);
      const sent = this.ctx.sealReceipt(to, device, part, kind);
      if (sent) {
        sealed.push(sent);
        continue;
      }
      this.ctx.conn.send({
        type: 'receipt',
        from: this.ctx.me.user,
        fromDevice: this.ctx.me.device,
        to,
        toDevice: 0,
        kind,
        messageDevice: device,
        messageIds: part,
      });
    }
    return Promise.all(sealed).then(() => {});
  }

  // ---------------------------------------------------------------------------------------
  // The timer's pass (delayed acks) and the assembly pass

  /** The earliest delayed-ack deadline (Infinity: none). */
  deadline(): number {
    let at = Infinity;
    for (const s of this.inbound.values()) {
      const t = s.acks.ackDeadline();
      if (t !== null) at = Math.min(at, t);
    }
    return at;
  }

  onDeadline(now: number): void {
    for (const s of this.inbound.values()) {
      const t = s.acks.ackDeadline();
      if (t !== null && t <= now + 1) this.sendAck(s);
    }
  }

  /**
   * Every N ms: an incoming message that gained no segment for K passes is handed over
   * with the error flag (and the list of what is missing); its later completion clears it.
   */
  assemblyPass(): void {
    if (this.ctx.closed()) return;
    const { db, q } = this.ctx;
    const flagged = transact(
      db,
      () => {
        q.idle.run();
        return q.newlyFlagged.all(this.ctx.settings().idleCycles) as MessageKey[];
      },
      'immediate',
    );
    for (const key of flagged) this.ctx.emit('changed', key);
  }

  /** Segment indices of an incomplete incoming message that have not arrived. */
  missing(key: MessageKey, count: number): number[] {
    const arrived = this.ctx.q.arrivedIndices.all({
      author: key.author,
      authorDevice: key.authorDevice,
      id: key.id,
    }) as { idx: number }[];
    const have = new Set(arrived.map((r) => r.idx));
    const out: number[] = [];
    for (let i = 0; i < count && out.length < MAX_MISSING_LISTED; i++)
      if (!have.has(i)) out.push(i);
    return out;
  }
}

/** What became of one incoming segment. */
export type StoreResult =
  | 'duplicate'
  | 'first'
  | 'stored'
  | 'completed'
  | 'fileComplete'
  | 'failed'
  | 'refused'
  | 'cancelledFile'
  | 'refusedFile'
  | 'waitingFile';

/** The receipt a stored segment's result calls for: its message is complete, refused or cancelled. */
const RECEIPT_FOR: Partial<Record<StoreResult, ReceiptKind>> = {
  completed: 'delivered',
  failed: 'refused',
  refusedFile: 'refused',
  cancelledFile: 'cancelled',
};
