// Our own messages from acceptance to their last status: each is written to SQLite with its
// segment state before its first segment leaves, reloaded after a restart, paused, resumed,
// cancelled, retried or refused, and moved on (sent, delivered, read, failed) by what the
// sender and the peer's receipts report. The segments themselves go out through sender.ts.
import { statusAdvances, type MessageStatus } from '../../shared/api.ts';
import { fileSegmentCount, type ReceiptFrame } from '../../shared/protocol/index.ts';
import { ownKey, type MessageKey, type TransportContext } from './context.ts';
import {
  outMessageOf,
  restoreMarks,
  textMessage,
  type OutMessage,
  type OutRow,
  type SegmentMarks,
} from './out-message.ts';
import type { Sender } from './sender.ts';
import { segmentCount } from './segments.ts';
import type { SourceIdentity, StreamSource } from './stream.ts';
import { transact } from '../../node/transactions.ts';

/** The largest message the transport accepts, sent or received (files stream separately). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

function checkSize(body: Uint8Array): void {
  if (body.length > MAX_MESSAGE_BYTES) {
    throw new RangeError(`a message may be at most ${MAX_MESSAGE_BYTES} bytes`);
  }
}

/** The file of a message accepted to be sealed: its source and its chunk size. */
export interface AcceptedFile {
  path: string;
  identity: SourceIdentity;
  chunk: number;
}

export class Outgoing {
  private readonly ctx: TransportContext;
  private readonly sender: Sender;
  /** Where streamed messages' (files') segments come from; null: none are sent. */
  private readonly streams: StreamSource | null;

  constructor(ctx: TransportContext, sender: Sender, streams: StreamSource | null) {
    this.ctx = ctx;
    this.sender = sender;
    this.streams = streams;
  }

  private key(id: number): MessageKey {
    return ownKey(this.ctx.me, id);
  }

  /** Loads unfinished outgoing messages with their segments' state, and queues what is left. */
  load(): void {
    const { q, me, now } = this.ctx;
    const { sending } = this.sender;
    const messages = q.pendingOut.all(me.user, me.device) as (OutRow & { id: number })[];
    for (const r of messages) {
      // A paused file waits for resumeFile() with its marks in the database.
      if (r.fileState === 'paused') continue;
      const msg = outMessageOf(r, now(), this.streams);
      sending.set(r.id, msg);
      // Iterated, not loaded: a file of a million segments costs no million objects here.
      for (const s of q.segmentState.iterate(r.id) as Iterable<SegmentMarks & { sends: number }>) {
        msg.sends[s.idx] = Math.min(s.sends, 0xffff);
        restoreMarks(msg, [s]);
        if (s.acked) continue;
        if (s.held) this.sender.heldAtStart.add(r.peer);
        else if (!msg.file) {
          this.sender.peerOut(r.peer).enqueue({ messageId: r.id, index: s.idx }, s.sends > 0);
        }
      }
    }
    for (const [id, msg] of sending) {
      if (!msg.file) continue;
      // From the first segment the relay does not hold (what it holds waits, as above).
      let first = 0;
      while (first < msg.count && (msg.held[first] || msg.acked[first])) first++;
      this.sender.peerOut(msg.peer).enqueueStream(id, first, msg.count);
    }
    // A crash between marking segments and updating the status is repaired here.
    for (const id of [...sending.keys()]) this.advance(id);
  }

  /**
   * Accepts a message: written to SQLite with its segment state in one transaction before
   * the first segment leaves. Returns its key; the message then moves on by itself.
   */
  submit(peer: string, id: number, body: Uint8Array): MessageKey {
    checkSize(body);
    const size = this.ctx.settings().segmentSize;
    const count = segmentCount(body.length, size);
    const key = this.record(peer, id, body, count, size);
    this.sender.sending.set(id, textMessage(peer, body, size, this.ctx.now()));
    const out = this.sender.peerOut(peer);
    for (let i = 0; i < count; i++) out.enqueue({ messageId: id, index: i }, false);
    this.sender.pump();
    return key;
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
    const { q, me } = this.ctx;
    const count = fileSegmentCount(identity.size, chunk);
    const key = this.record(peer, id, header, count, chunk, () =>
      q.insertFile.run(me.user, me.device, id, path, identity.size, identity.mtimeMs),
    );
    const msg = outMessageOf(
      {
        peer,
        body: Buffer.from(header),
        size: chunk,
        count,
        path,
        fileSize: identity.size,
        mtimeMs: identity.mtimeMs,
        fileState: 'sending',
      },
      this.ctx.now(),
      this.streams,
    );
    this.sender.sending.set(id, msg);
    this.sender.peerOut(peer).enqueueStream(id, 0, count);
    this.ctx.emit('fileActivity');
    this.sender.pump();
    return key;
  }

  /**
   * Accepts a message to be sealed: its row (plain body, no segments yet, crypto = 'seal')
   * and its file's, in one transaction. Nothing is sent until `sealed`.
   */
  accept(peer: string, id: number, body: Uint8Array, file?: AcceptedFile): MessageKey {
    checkSize(body);
    const { q, me } = this.ctx;
    const size = file?.chunk ?? this.ctx.settings().segmentSize;
    const addFile = file
      ? () =>
          q.insertFile.run(
            me.user,
            me.device,
            id,
            file.path,
            file.identity.size,
            file.identity.mtimeMs,
          )
      : undefined;
    const key = this.record(peer, id, body, 0, size, addFile, 'seal');
    if (file) this.ctx.emit('fileActivity');
    return key;
  }

  /**
   * An accepted message is sealed: its wire bytes, its segments and `alsoRecord` (the Signal
   * stores' writes) in one transaction; then it is sent like any other. A text's segments
   * are cut from the wire bytes at the segment size in force; a file keeps its chunk size.
   */
  sealed(id: number, wire: Uint8Array, contentKey: Uint8Array, alsoRecord: () => void): void {
    const { db, q, me } = this.ctx;
    const row = this.row(id);
    if (!row) return;
    const isFile = row.path !== null;
    const size = isFile ? row.size : this.ctx.settings().segmentSize;
    const count = isFile ? fileSegmentCount(row.fileSize!, size) : segmentCount(wire.length, size);
    transact(
      db,
      () => {
        alsoRecord();
        q.sealMessage.run(wire, count, size, me.user, me.device, id);
        if (isFile) q.insertContentKey.run(me.user, me.device, id, contentKey);
        for (let i = 0; i < count; i++) q.insertOutSegment.run(id, i);
      },
      'immediate',
    );
    if (row.fileState === 'paused' || row.fileState === 'cancelled') return;
    const msg = this.restore(id, this.row(id)!);
    const out = this.sender.peerOut(row.peer);
    if (msg.file) out.enqueueStream(id, 0, count);
    else for (let i = 0; i < count; i++) out.enqueue({ messageId: id, index: i }, false);
    this.ctx.emit('changed', this.key(id));
    this.sender.pump();
  }

  /**
   * Writes one of our messages and its segment state in one transaction, before its first
   * segment leaves; `alsoRecord` adds to the same transaction (a file's row).
   */
  private record(
    peer: string,
    id: number,
    body: Uint8Array,
    count: number,
    segmentSize: number,
    alsoRecord: () => void = () => {},
    crypto: 'seal' | null = null,
  ): MessageKey {
    const { db, q } = this.ctx;
    const key = this.key(id);
    transact(
      db,
      () => {
        q.insertMessage.run({
          ...key,
          peer,
          direction: 'out',
          body,
          segmentCount: count,
          segmentSize,
          status: 'pending',
          received: count,
          crypto,
        });
        alsoRecord();
        for (let i = 0; i < count; i++) q.insertOutSegment.run(id, i);
      },
      'immediate',
    );
    return key;
  }

  /** Stops sending a file for now (its progress is kept); false if it is not being sent. */
  pauseFile(id: number): boolean {
    if (!this.sender.sending.get(id)?.file) return false;
    this.sender.stop(id, 'withdrawn');
    this.setFileState(id, 'paused');
    this.ctx.emit('changed', this.key(id));
    return true;
  }

  /** Continues a paused file from where it stopped. */
  resumeFile(id: number): boolean {
    const r = this.row(id);
    if (!r || r.fileState !== 'paused') return false;
    this.setFileState(id, 'sending');
    const msg = this.restore(id, { ...r, fileState: 'sending' });
    this.sender.peerOut(msg.peer).enqueueStream(id, 0, msg.count);
    this.ctx.emit('changed', this.key(id));
    this.sender.pump();
    return true;
  }

  /** Gives up sending a file: it fails, and its file state says cancelled. */
  cancelFile(id: number): boolean {
    const r = this.row(id);
    if (!r?.path || (r.fileState !== 'sending' && r.fileState !== 'paused')) return false;
    this.fail(id);
    this.setFileState(id, 'cancelled');
    this.setStatus(this.key(id), 'failed');
    return true;
  }

  /** Sends a failed message again (its status returns to pending). */
  retry(id: number): boolean {
    const { db, q, me } = this.ctx;
    if (this.status(id) !== 'failed') return false;
    const m = this.row(id)!;
    transact(
      db,
      () => {
        q.setStatus.run('pending', me.user, me.device, id);
        q.resetOutSegments.run(id);
      },
      'immediate',
    );
    if (m.path !== null) {
      this.setFileState(id, 'sending');
      m.fileState = 'sending';
    }
    const msg = this.restore(id, m);
    const out = this.sender.peerOut(m.peer);
    if (msg.file) out.enqueueStream(id, 0, msg.count);
    else
      for (let i = 0; i < msg.count; i++)
        if (!msg.acked[i]) out.enqueue({ messageId: id, index: i }, false);
    this.ctx.emit('changed', this.key(id));
    this.advance(id);
    this.sender.pump();
    return true;
  }

  /** The message a row describes, with its marks from the database, being sent again. */
  private restore(id: number, r: OutRow): OutMessage {
    const msg = outMessageOf(r, this.ctx.now(), this.streams);
    restoreMarks(msg, this.ctx.q.segmentMarks.all(id) as SegmentMarks[]);
    this.sender.sending.set(id, msg);
    return msg;
  }

  /** The relay refused a message (unknown recipient, full store): it fails unless already sent. */
  refuse(id: number, reason?: string): void {
    // A message the relay already holds in full is its to deliver; a late refusal of a
    // retransmission changes nothing.
    if (this.status(id) === 'pending') this.fail(id, reason && `the relay refused it: ${reason}`);
  }

  /** Stops sending a message and fails it (a file's state fails with the reason). */
  fail(id: number, reason = 'it could not be sent'): void {
    const msg = this.sender.stop(id, 'withdrawn');
    if (!msg) return;
    if (msg.file) this.setFileState(id, 'failed', reason);
    this.setStatus(this.key(id), 'failed');
  }

  /** Moves an outgoing message to sent (the relay holds it) or delivered (the peer does). */
  advance(id: number): void {
    const msg = this.sender.sending.get(id);
    if (!msg) return;
    if (msg.ackedCount === msg.count) {
      this.finish(id);
      // A file is delivered when the peer has verified it (its receipt), not when it has
      // every segment.
      this.setStatus(this.key(id), msg.file ? 'sent' : 'delivered');
    } else if (msg.coveredCount === msg.count) {
      this.setStatus(this.key(id), 'sent');
    }
  }

  /** The peer has the whole message: what is still in flight of it arrived (sender.stop). */
  private finish(id: number): void {
    const msg = this.sender.stop(id, 'finished');
    if (msg?.file) this.setFileState(id, 'done');
  }

  onReceipt(frame: ReceiptFrame): void {
    if (frame.kind === 'cancelled' || frame.kind === 'refused') {
      if (frame.messageDevice !== this.ctx.me.device) return;
      for (const id of frame.messageIds) this.declined(id, frame.from, frame.kind);
      return;
    }
    const status: MessageStatus = frame.kind === 'read' ? 'read' : 'delivered';
    for (const id of frame.messageIds) {
      const key = { author: this.ctx.me.user, authorDevice: frame.messageDevice, id };
      // Only the message's peer says it has or read it: the relay passes any user's receipt
      // on. Our copies of what our other devices sent take their peer's receipts too (the
      // relay sends them to every device of ours).
      if (this.peerOf(key) !== frame.from) continue;
      if (frame.messageDevice === this.ctx.me.device && status === 'delivered') this.finish(id);
      this.setStatus(key, status);
    }
  }

  /** The peer of one of our messages (sent from this device or another of ours). */
  private peerOf(key: MessageKey): string | undefined {
    const row = this.ctx.q.message.get(key.author, key.authorDevice, key.id) as
      { peer: string } | undefined;
    return row?.peer;
  }

  /**
   * The recipient will not take one of our files: it cancelled it, or its app could not keep
   * it. Sending stops, and the file fails with the reason (unless it is over already).
   */
  private declined(id: number, peer: string, kind: 'cancelled' | 'refused'): void {
    const r = this.row(id);
    if (!r?.path || r.peer !== peer) return;
    // Sent in full ('done') but not delivered: it did not get there after all.
    if (r.fileState === 'failed' || r.fileState === 'cancelled') return;
    const status = this.status(id);
    if (status === 'delivered' || status === 'read') return;
    const reason =
      kind === 'cancelled'
        ? `${peer} cancelled the file`
        : `${peer}'s app could not keep the file (too large, no room, or damaged on the way)`;
    if (this.sender.sending.has(id)) this.fail(id, reason);
    else this.setFileState(id, 'failed', reason);
    this.ctx.emit('changed', this.key(id));
  }

  /** Moves a message's status forward (never back: `statusAdvances`). */
  setStatus(key: MessageKey, next: MessageStatus): void {
    const { q, me } = this.ctx;
    const row = q.status.get(key.author, key.authorDevice, key.id) as
      { status: MessageStatus } | undefined;
    if (!row || !statusAdvances(row.status, next)) return;
    q.setStatus.run(next, key.author, key.authorDevice, key.id);
    const own = key.author === me.user && key.authorDevice === me.device;
    if (own && (next === 'delivered' || next === 'read')) q.dropOutSegments.run(key.id);
    this.ctx.emit('changed', key);
  }

  private status(id: number): MessageStatus | undefined {
    const { q, me } = this.ctx;
    const row = q.status.get(me.user, me.device, id) as { status: MessageStatus } | undefined;
    return row?.status;
  }

  private row(id: number): OutRow | undefined {
    const { q, me } = this.ctx;
    const m = q.outMessage.get(me.user, me.device, id) as
      Pick<OutRow, 'peer' | 'body' | 'size' | 'count'> | undefined;
    if (!m) return undefined;
    const f = q.outFile.get(me.user, me.device, id) as
      Pick<OutRow, 'path' | 'fileSize' | 'mtimeMs' | 'fileState'> | undefined;
    // Only a file keeps its content key (its chunks are sealed with it).
    const k = f && (q.outContentKey.get(me.user, me.device, id) as { key: Buffer } | undefined);
    return {
      ...m,
      path: f?.path ?? null,
      fileSize: f?.fileSize ?? null,
      mtimeMs: f?.mtimeMs ?? null,
      fileState: f?.fileState ?? null,
      contentKey: k?.key ?? null,
    };
  }

  private setFileState(id: number, state: string, error: string | null = null): void {
    const { q, me } = this.ctx;
    q.fileState.run(state, error, me.user, me.device, id);
  }
}
