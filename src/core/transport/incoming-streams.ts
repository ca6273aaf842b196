// Incoming streamed messages (files), as the receiver stores them: the transport checks
// each segment against its message and its duplicates and hands its bytes to the sink
// (stream.ts), which files/ implements. A later segment is written before it is recorded,
// so that only what is on disk is acknowledged.
import type { DataFrame, ReceiptFrame, SenderReceiptKind } from '../../shared/protocol/index.ts';
import type { TransportContext } from './context.ts';
import type { StoreResult } from './receiver.ts';
import { SegmentDropped, type SinkWrite, type StreamSink, type StreamState } from './stream.ts';

/** The row of the message a segment belongs to (see Receiver.incomingRow). */
export type IncomingRow = (
  frame: DataFrame,
  peer: string,
  segmentSize: number,
) => { received: number } | null;

/** A segment that passed every check, to be written by the sink and then recorded. */
export interface PendingWrite {
  frame: DataFrame;
  write: SinkWrite;
}

export class IncomingStreams {
  private readonly ctx: TransportContext;
  private readonly incomingRow: IncomingRow;
  /** Where incoming streams go; null refuses them. */
  readonly sink: StreamSink | null;
  /** Incoming streams whose last segment could not be written (disk full...). */
  private readonly writeFailures = new Set<string>();

  constructor(ctx: TransportContext, sink: StreamSink | null, incomingRow: IncomingRow) {
    this.ctx = ctx;
    this.sink = sink;
    this.incomingRow = incomingRow;
  }

  close(): void {
    this.sink?.close();
  }

  /**
   * A receipt from a stream's sender about it (withdrawn, paused, resumed), handed to the
   * sink. Only the device sending a stream speaks for it: any other receipt is ignored.
   */
  onSenderReceipt(frame: ReceiptFrame): void {
    if (this.sink === null || frame.from === this.ctx.me.user) return;
    if (frame.messageDevice !== frame.fromDevice) return;
    for (const id of frame.messageIds) {
      const key = { author: frame.from, authorDevice: frame.messageDevice, id };
      this.sink.senderReceipt(key, frame.kind as SenderReceiptKind);
    }
  }

  /**
   * Stores one segment of an incoming stream (inside the caller's transaction): the first
   * is taken or refused by the sink at once; a later one is returned to be written.
   */
  store(frame: DataFrame, peer: string): StoreResult | PendingWrite {
    const sink = this.sink;
    if (sink === null) return 'duplicate';
    const { from, fromDevice, messageId: id, segmentCount: count, segmentIndex: index } = frame;
    const key = { author: from, authorDevice: fromDevice, id };
    const bytes = sink.measure(frame);
    if (bytes === null || this.incomingRow(frame, peer, bytes) === null) return 'duplicate';
    const state = sink.open(key);
    // A stream that waits still takes its description: it says what waits.
    const closed =
      state === 'waiting' && index === 0 ? null : closedResult(state, from !== this.ctx.me.user);
    if (closed !== null) return closed;
    const { q } = this.ctx;
    if (index > 0) {
      if (q.hasInFileSegment.get(from, fromDevice, id, index)) return 'duplicate';
      const write = sink.place(key, index, frame.payload);
      if (write === 'later') return 'refused';
      return write === null ? 'duplicate' : { frame, write };
    }
    if (q.insertInFileSegment.run(from, fromDevice, id, index).changes === 0) return 'duplicate';
    if (sink.begin(key, count, frame.payload) !== null) return 'failed';
    return this.count(frame);
  }

  /** Writes a segment through the sink, off the event loop; resolves to the error, if any. */
  write(w: PendingWrite): Promise<Error | null> {
    return this.sink!.write(w.write).then(
      () => null,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    );
  }

  /**
   * Records a segment once its write is over (inside the caller's transaction): one that
   * could not be written is not recorded, so it is not acknowledged and the sender sends it
   * again; the stream may have been cancelled or refused meanwhile.
   */
  recordWritten(w: PendingWrite, error: Error | null): StoreResult {
    const { from, fromDevice, messageId: id, segmentIndex: index } = w.frame;
    const key = { author: from, authorDevice: fromDevice, id };
    const keyText = `${from}/${fromDevice}/${id}`;
    if (error instanceof SegmentDropped) return 'refused';
    if (error !== null) {
      // Said once per stream until a write succeeds again, not once per segment.
      if (!this.writeFailures.has(keyText)) {
        this.writeFailures.add(keyText);
        this.ctx.emit('fileWriteFailed', key, error.message);
      }
      return 'refused';
    }
    this.writeFailures.delete(keyText);
    const closed = closedResult(this.sink!.state(key), from !== this.ctx.me.user);
    if (closed !== null) return closed;
    if (this.ctx.q.insertInFileSegment.run(from, fromDevice, id, index).changes === 0) {
      return 'duplicate';
    }
    this.sink!.recorded(w.write);
    return this.count(w.frame);
  }

  /** Counts a recorded segment: the stream's first, another, or the last one. */
  private count(frame: DataFrame): StoreResult {
    const { from, fromDevice, messageId: id, segmentCount: count } = frame;
    this.ctx.q.progress.run(from, fromDevice, id);
    const { received } = this.ctx.q.message.get(from, fromDevice, id) as { received: number };
    if (received === 1) this.ctx.emit('fileActivity');
    if (received < count) return received === 1 ? 'first' : 'stored';
    return 'fileComplete';
  }
}

/**
 * What becomes of a segment of a stream not receiving (null while it is). Still coming
 * after we cancelled or refused it: the sender has not heard (our receipt may have been lost
 * while we were offline), so it is dropped and the receipt goes again.
 */
function closedResult(state: StreamState | null, incoming: boolean): StoreResult | null {
  if (state === 'receiving') return null;
  // Waiting for its user: dropped unacknowledged, and the sender is asked to hold the rest.
  if (incoming && state === 'waiting') return 'waitingFile';
  if (incoming && state === 'cancelled') return 'cancelledFile';
  if (incoming && state === 'refused') return 'refusedFile';
  return 'duplicate';
}
