// The transport layer: turns messages into segments and back over the relay, reliably and
// in order, with its state in SQLite so that a SIGKILL at any moment loses nothing it
// accepted. docs/transport.md describes the design; the pieces are:
//   - outbound.ts: per peer, the send queue, loss detection (RFC 9002) and congestion
//     control; ack-ranges.ts: the receiver's acknowledgements;
//   - this file: persistence, the single timer that serves every peer, statuses, and the
//     assembly pass that hands over incomplete messages with the error flag.
import { EventEmitter } from 'node:events';
import { statusAdvances, type MessageStatus, type TransportSettings } from '../../shared/api.ts';
import type {
  AckFrame,
  DataFrame,
  Frame,
  ReceiptFrame,
  ReceiptKind,
} from '../../shared/protocol/index.ts';
import {
  CHUNK_OFFSET_BYTES,
  MAX_RECEIPT_IDS,
  SENDER_RECEIPT_KINDS,
  type SenderReceiptKind,
  decodeChunk,
  decodeFileHeader,
  writeChunkOffset,
  fileSegmentCount,
} from '../../shared/protocol/index.ts';
import { LOG_CAPACITY } from '../../shared/contract.ts';
import type { RelayConnection } from '../connection.ts';
import { statementCache, type Db } from '../store/database.ts';
import { AckScheduler } from './ack-ranges.ts';
import { PeerOutbound, TransmissionSpaces, numbersIn, type SegmentRef } from './outbound.ts';
import { SegmentLog } from './segment-log.ts';
import { checkRoom, DiskFullError } from '../files/disk.ts';
import { PartialFiles } from '../files/partial.ts';
import { FileSource, FileSourceError, type FileIdentity } from '../files/source.ts';
import { MIN_SEGMENT_SIZE, segmentBounds, segmentCount } from './segments.ts';

/**
 * The attempt limit: a segment sent this many times, over at least FAIL_AFTER_MS of the
 * current link, without the relay ever confirming it holds it, fails its message (the user
 * can retry). Both conditions, so that a slow, loaded machine does not fail messages that
 * are merely late; and only once the relay answers a ping, so that attempts lost in a link
 * that died silently do not fail it: that link is dropped and the message sent again.
 */
export const MAX_SENDS_PER_SEGMENT = 10;
export const FAIL_AFTER_MS = 30_000;
/**
 * After a peer comes back, how long its acknowledgements may stop short of what the relay
 * held for it before this sender sends the rest itself.
 */
export const HELD_SWEEP_MS = 3000;
/** The largest message the transport accepts, sent or received (files stream separately). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** The list of missing segments names at most this many (the first ones). */
export const MAX_MISSING_LISTED = 1000;

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
  /** The sender of an incoming file withdrew, paused or resumed it. */
  senderReceipt: [key: MessageKey, kind: SenderReceiptKind];
}

/** Where incoming files are written, and how large one may be. */
export interface FileOptions {
  /** The folder of partial files (in the profile); null refuses incoming files. */
  partialDir: string | null;
  maxFileBytes: number;
}

interface Me {
  user: string;
  device: number;
}

interface InboundCounters {
  segmentsReceived: number;
  duplicatesDropped: number;
  bytesReceived: number;
}

export class Transport extends EventEmitter<TransportEvents> {
  private readonly db: Db;
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly conn: RelayConnection;
  private readonly me: Me;
  settings: TransportSettings;
  private readonly now: () => number;
  private readonly outbound = new Map<string, PeerOutbound>();
  /** Acknowledgement state per sending device, keyed `user/device`. */
  private readonly inbound = new Map<
    string,
    { user: string; device: number; acks: AckScheduler }
  >();
  private readonly inboundCounters = new Map<string, InboundCounters>();
  /** What happened to recent segments, for the network view. */
  readonly log = new SegmentLog(LOG_CAPACITY);
  /** Incoming files' partial files; null when this transport takes no files. */
  readonly partial: PartialFiles | null;
  /** The largest incoming file accepted (the profile's setting; it may change). */
  maxFileBytes: number;
  /**
   * Peers back from away, with when what the relay held for them is to be sent again if
   * their acknowledgements have not covered it by then (pushed back while they make progress).
   */
  private readonly heldSweeps = new Map<string, number>();
  /** Peers the relay says are away. */
  private readonly offlinePeers = new Set<string>();
  /** Incoming files whose last segment could not be written (disk full...). */
  private readonly writeFailures = new Set<string>();
  /** Our own messages still being sent, with their segments' state. */
  private readonly sending = new Map<number, OutMessage>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Infinity;
  private assembly: ReturnType<typeof setInterval> | null = null;
  private pumping = false;
  /** Quitting: nothing more is sent; `drained` settles drain() once nothing is in flight. */
  private draining = false;
  private drained: (() => void) | null = null;
  /** Each peer's block of transmission numbers (outbound.ts). */
  private readonly spaces: TransmissionSpaces;
  private closed = false;
  private readonly q;

  constructor(
    db: Db,
    conn: RelayConnection,
    me: Me,
    settings: TransportSettings,
    now = () => performance.now(),
    files: FileOptions = { partialDir: null, maxFileBytes: 0 },
  ) {
    super();
    this.partial = files.partialDir === null ? null : new PartialFiles(files.partialDir);
    this.maxFileBytes = files.maxFileBytes;
    this.db = db;
    this.sql = statementCache(db);
    this.conn = conn;
    this.me = me;
    this.settings = settings;
    this.now = now;
    this.q = {
      insertMessage: db.prepare(
        `INSERT INTO messages (author, author_device, id, peer, direction, body, segment_count, segment_size, status, received)
         VALUES (@author, @authorDevice, @id, @peer, @direction, @body, @segmentCount, @segmentSize, @status, @received)
         ON CONFLICT DO NOTHING`,
      ),
      insertOutSegment: db.prepare('INSERT INTO out_segments (message_id, idx) VALUES (?, ?)'),
      pendingOut: db.prepare(
        `SELECT m.id, m.peer, m.body, m.segment_size AS size, m.segment_count AS count,
                f.path, f.size AS fileSize, f.mtime_ms AS mtimeMs, f.state AS fileState
         FROM messages m
         LEFT JOIN files f ON f.author = m.author AND f.author_device = m.author_device AND f.id = m.id
         WHERE m.author = ? AND m.author_device = ? AND m.direction = 'out'
           AND m.status IN ('pending', 'sent')
           AND EXISTS (SELECT 1 FROM out_segments s WHERE s.message_id = m.id)
         ORDER BY m.id`,
      ),
      markSent: db.prepare(
        'UPDATE out_segments SET sends = sends + 1 WHERE message_id = ? AND idx = ?',
      ),
      markAcked: db.prepare('UPDATE out_segments SET acked = 1 WHERE message_id = ? AND idx = ?'),
      markHeld: db.prepare('UPDATE out_segments SET held = 1 WHERE message_id = ? AND idx = ?'),
      outMessage: db.prepare(
        `SELECT m.peer, m.body, m.segment_size AS size, m.segment_count AS count,
                f.path, f.size AS fileSize, f.mtime_ms AS mtimeMs, f.state AS fileState
         FROM messages m
         LEFT JOIN files f ON f.author = m.author AND f.author_device = m.author_device AND f.id = m.id
         WHERE m.author = ? AND m.author_device = ? AND m.id = ?`,
      ),
      insertFile: db.prepare(
        `INSERT INTO files (author, author_device, id, path, size, mtime_ms, state)
         VALUES (?, ?, ?, ?, ?, ?, 'sending')`,
      ),
      fileState: db.prepare(
        'UPDATE files SET state = ?, error = ? WHERE author = ? AND author_device = ? AND id = ?',
      ),
      segmentMarks: db.prepare('SELECT idx, held, acked FROM out_segments WHERE message_id = ?'),
      segmentState: db.prepare(
        'SELECT idx, held, acked, sends FROM out_segments WHERE message_id = ? ORDER BY idx',
      ),
      dropOutSegments: db.prepare('DELETE FROM out_segments WHERE message_id = ?'),
      resetOutSegments: db.prepare('UPDATE out_segments SET sends = 0 WHERE message_id = ?'),
      status: db.prepare(
        'SELECT status FROM messages WHERE author = ? AND author_device = ? AND id = ?',
      ),
      setStatus: db.prepare(
        'UPDATE messages SET status = ? WHERE author = ? AND author_device = ? AND id = ?',
      ),
      message: db.prepare(
        `SELECT direction, peer, body IS NOT NULL AS complete, segment_count AS count, received
         FROM messages WHERE author = ? AND author_device = ? AND id = ?`,
      ),
      insertInSegment: db.prepare(
        `INSERT INTO in_segments (author, author_device, message_id, idx, payload) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      progress: db.prepare(
        `UPDATE messages SET received = received + 1, idle_passes = 0
         WHERE author = ? AND author_device = ? AND id = ?`,
      ),
      segments: db.prepare(
        `SELECT payload FROM in_segments WHERE author = ? AND author_device = ? AND message_id = ?
         ORDER BY idx`,
      ),
      complete: db.prepare(
        `UPDATE messages SET body = ?, error = 0, idle_passes = 0
         WHERE author = ? AND author_device = ? AND id = ?`,
      ),
      insertInFile: db.prepare(
        `INSERT INTO files (author, author_device, id, path, state) VALUES (?, ?, ?, ?, 'receiving')
         ON CONFLICT DO NOTHING`,
      ),
      fileOf: db.prepare(
        'SELECT path, header, state FROM files WHERE author = ? AND author_device = ? AND id = ?',
      ),
      fileHeader: db.prepare(
        'UPDATE files SET header = ? WHERE author = ? AND author_device = ? AND id = ?',
      ),
      fileFailedIn: db.prepare(
        `UPDATE files SET state = 'failed', error = ? WHERE author = ? AND author_device = ? AND id = ?`,
      ),
      insertInFileSegment: db.prepare(
        `INSERT INTO in_file_segments (author, author_device, message_id, idx) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      hasInFileSegment: db.prepare(
        'SELECT 1 FROM in_file_segments WHERE author = ? AND author_device = ? AND message_id = ? AND idx = ?',
      ),
      dropInSegments: db.prepare(
        'DELETE FROM in_segments WHERE author = ? AND author_device = ? AND message_id = ?',
      ),
      idle: db.prepare(
        "UPDATE messages SET idle_passes = idle_passes + 1 WHERE body IS NULL AND direction IN ('in', 'out')",
      ),
      newlyFlagged: db.prepare(
        `UPDATE messages SET error = 1 WHERE body IS NULL AND error = 0 AND idle_passes >= ?
         RETURNING author, author_device AS authorDevice, id`,
      ),
      reserve: db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('transmission', ?)"),
      reserved: db.prepare("SELECT value FROM meta WHERE key = 'transmission'"),
    };
    this.spaces = new TransmissionSpaces(
      () => Number((this.q.reserved.get() as { value: string } | undefined)?.value ?? 0),
      (end) => this.q.reserve.run(String(end)),
    );
    // The socket took what was waiting: send more, if anything is queued.
    conn.on('drain', () => {
      for (const out of this.outbound.values()) {
        if (out.hasWork) {
          this.pump();
          return;
        }
      }
    });
  }

  // ---------------------------------------------------------------------------------------
  // Life cycle

  /** Loads unfinished outgoing messages and starts the assembly pass. */
  start(): void {
    const messages = this.q.pendingOut.all(this.me.user, this.me.device) as (OutRow & {
      id: number;
    })[];
    for (const r of messages) {
      // A paused file waits for resumeFile() with its marks in the database.
      if (r.fileState === 'paused') continue;
      const msg = this.outMessageOf(r);
      this.sending.set(r.id, msg);
      // Iterated, not loaded: a file of a million segments costs no million objects here.
      for (const s of this.q.segmentState.iterate(r.id) as Iterable<{
        idx: number;
        held: number;
        acked: number;
        sends: number;
      }>) {
        msg.sends[s.idx] = Math.min(s.sends, 0xffff);
        if (s.held) markSegment(msg, 'held', s.idx);
        if (s.acked) markSegment(msg, 'acked', s.idx);
        else if (!msg.file) {
          this.peerOut(r.peer).enqueue({ messageId: r.id, index: s.idx }, s.sends > 0);
        }
      }
    }
    for (const [id, msg] of this.sending) {
      if (msg.file) this.peerOut(msg.peer).enqueueStream(id, 0, msg.count);
    }
    // A crash between marking segments and updating the status is repaired here.
    for (const id of [...this.sending.keys()]) this.advanceOutgoing(id);
    this.restartAssembly();
    this.pump();
  }

  close(): void {
    this.closed = true;
    for (const msg of this.sending.values()) msg.file?.close();
    this.partial?.close();
    if (this.timer) clearTimeout(this.timer);
    if (this.assembly) clearInterval(this.assembly);
  }

  updateSettings(settings: TransportSettings): void {
    this.settings = settings;
    this.restartAssembly();
  }

  private restartAssembly(): void {
    if (this.assembly) clearInterval(this.assembly);
    this.assembly = setInterval(() => this.assemblyPass(), this.settings.assemblyPeriodMs);
  }

  /** The relay link came up: send whatever waits. */
  onOnline(): void {
    // The attempt limit counts time on this link: what went into a dead one proves nothing.
    for (const msg of this.sending.values()) msg.since = this.now();
    for (const out of this.outbound.values()) out.requeueInFlight();
    this.pump();
  }

  /** The relay link went down: what was in flight is sent again later. */
  onOffline(): void {
    for (const out of this.outbound.values()) out.requeueInFlight();
    this.drained?.();
  }

  /**
   * Before quitting: sends nothing more (new segments and retransmissions alike) and settles
   * once everything in flight is acknowledged or lost, the link drops, or `timeoutMs` passes.
   * What arrived is then recorded as acknowledged, so that the next start does not send it
   * again: with a window of megabytes, that was a sixth of a 24 MiB file.
   */
  drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.drained = null;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.drained = () => {
        if (!this.conn.isOnline || !this.anythingInFlight()) done();
      };
      this.drained();
    });
  }

  private anythingInFlight(): boolean {
    for (const out of this.outbound.values()) if (out.loss.bytesInFlight > 0) return true;
    return false;
  }

  // ---------------------------------------------------------------------------------------
  // Sending

  /**
   * Accepts a message: written to SQLite with its segment state in one transaction before
   * the first segment leaves. Returns its key; the message then moves on by itself.
   */
  submit(peer: string, id: number, body: Uint8Array): MessageKey {
    if (body.length > MAX_MESSAGE_BYTES) {
      throw new RangeError(`a message may be at most ${MAX_MESSAGE_BYTES} bytes`);
    }
    const size = this.settings.segmentSize;
    const count = segmentCount(body.length, size);
    const key = this.recordOutgoing(peer, id, body, count, size);
    this.sending.set(id, outMessage(peer, body, size, this.now()));
    const out = this.peerOut(peer);
    for (let i = 0; i < count; i++) out.enqueue({ messageId: id, index: i }, false);
    this.pump();
    return key;
  }

  /**
   * Accepts a file for `peer`: `header` is the message body (the file's description), the bytes
   * stay in the file at `path` and are read as segments go out, `chunk` bytes at a time.
   */
  submitFile(
    peer: string,
    id: number,
    header: Uint8Array,
    path: string,
    identity: FileIdentity,
    chunk: number,
  ): MessageKey {
    const count = fileSegmentCount(identity.size, chunk);
    const key = this.recordOutgoing(peer, id, header, count, chunk, () =>
      this.q.insertFile.run(
        this.me.user,
        this.me.device,
        id,
        path,
        identity.size,
        identity.mtimeMs,
      ),
    );
    const msg = this.outMessageOf({
      peer,
      body: Buffer.from(header),
      size: chunk,
      count,
      path,
      fileSize: identity.size,
      mtimeMs: identity.mtimeMs,
      fileState: 'sending',
    });
    this.sending.set(id, msg);
    this.peerOut(peer).enqueueStream(id, 0, count);
    this.emit('fileActivity');
    this.pump();
    return key;
  }

  /**
   * Writes one of our messages and its segment state in one transaction, before its first
   * segment leaves; `alsoRecord` adds to the same transaction (a file's row).
   */
  private recordOutgoing(
    peer: string,
    id: number,
    body: Uint8Array,
    count: number,
    segmentSize: number,
    alsoRecord: () => void = () => {},
  ): MessageKey {
    const key = { author: this.me.user, authorDevice: this.me.device, id };
    this.db
      .transaction(() => {
        this.q.insertMessage.run({
          ...key,
          peer,
          direction: 'out',
          body,
          segmentCount: count,
          segmentSize,
          status: 'pending',
          received: count,
        });
        alsoRecord();
        for (let i = 0; i < count; i++) this.q.insertOutSegment.run(id, i);
      })
      .immediate();
    return key;
  }

  /** Stops sending a file for now (its progress is kept); false if it is not being sent. */
  pauseFile(id: number): boolean {
    const msg = this.sending.get(id);
    if (!msg?.file) return false;
    this.sending.delete(id);
    msg.file.close();
    this.outbound.get(msg.peer)?.dropStream(id);
    this.outbound.get(msg.peer)?.forget((ref) => ref.messageId === id);
    this.q.fileState.run('paused', null, this.me.user, this.me.device, id);
    this.changed({ author: this.me.user, authorDevice: this.me.device, id });
    return true;
  }

  /** Continues a paused file from where it stopped. */
  resumeFile(id: number): boolean {
    const r = this.q.outMessage.get(this.me.user, this.me.device, id) as OutRow | undefined;
    if (!r || r.fileState !== 'paused') return false;
    this.q.fileState.run('sending', null, this.me.user, this.me.device, id);
    const msg = this.outMessageOf({ ...r, fileState: 'sending' });
    for (const m of this.q.segmentMarks.all(id) as { idx: number; held: number; acked: number }[]) {
      if (m.held) markSegment(msg, 'held', m.idx);
      if (m.acked) markSegment(msg, 'acked', m.idx);
    }
    this.sending.set(id, msg);
    this.peerOut(msg.peer).enqueueStream(id, 0, msg.count);
    this.changed({ author: this.me.user, authorDevice: this.me.device, id });
    this.pump();
    return true;
  }

  /**
   * The recipient will not take one of our files: it cancelled it, or its app could not keep
   * it. Sending stops, and the file fails with the reason (unless it is over already).
   */
  private declined(id: number, peer: string, kind: 'cancelled' | 'refused'): void {
    const r = this.q.outMessage.get(this.me.user, this.me.device, id) as OutRow | undefined;
    if (!r?.path || r.peer !== peer) return;
    // Sent in full ('done') but not delivered: it did not get there after all.
    if (r.fileState === 'failed' || r.fileState === 'cancelled') return;
    const status = (
      this.q.status.get(this.me.user, this.me.device, id) as { status: MessageStatus }
    ).status;
    if (status === 'delivered' || status === 'read') return;
    const reason =
      kind === 'cancelled'
        ? `${peer} cancelled the file`
        : `${peer}'s app could not keep the file (too large, no room, or damaged on the way)`;
    const msg = this.sending.get(id);
    if (msg) this.fail(id, reason);
    else this.q.fileState.run('failed', reason, this.me.user, this.me.device, id);
    this.changed({ author: this.me.user, authorDevice: this.me.device, id });
  }

  /** Gives up sending a file: it fails with `reason`, and its file state says cancelled. */
  cancelFile(id: number): boolean {
    const r = this.q.outMessage.get(this.me.user, this.me.device, id) as OutRow | undefined;
    if (!r?.path || (r.fileState !== 'sending' && r.fileState !== 'paused')) return false;
    this.fail(id);
    this.q.fileState.run('cancelled', null, this.me.user, this.me.device, id);
    this.setStatus({ author: this.me.user, authorDevice: this.me.device, id }, 'failed');
    return true;
  }

  private outMessageOf(r: OutRow): OutMessage {
    if (r.path === null) return outMessage(r.peer, new Uint8Array(r.body), r.size, this.now());
    const header = new Uint8Array(r.body);
    const file = new FileSource(r.path, { size: r.fileSize!, mtimeMs: r.mtimeMs! });
    const size = r.fileSize!;
    const chunk = r.size;
    let scratch: Uint8Array | null = null;
    return {
      ...emptyOutMessage(r.peer, r.size, r.count, this.now()),
      file,
      read: (index) => {
        if (index === 0) return header;
        const offset = (index - 1) * chunk;
        const length = Math.min(chunk, size - offset);
        // One buffer per file, read into again for every segment: the frame is encoded
        // (copied) before send() returns, and nothing keeps a payload after that.
        if (scratch === null || scratch.length < CHUNK_OFFSET_BYTES + length) {
          scratch = new Uint8Array(CHUNK_OFFSET_BYTES + chunk);
        }
        const payload = scratch.subarray(0, CHUNK_OFFSET_BYTES + length);
        writeChunkOffset(payload, offset);
        file.readInto(payload, CHUNK_OFFSET_BYTES, offset, length);
        return payload;
      },
    };
  }

  /** Sends a failed message again (its status returns to pending). */
  retry(id: number): boolean {
    const row = this.q.status.get(this.me.user, this.me.device, id) as
      { status: MessageStatus } | undefined;
    if (!row || row.status !== 'failed') return false;
    const m = this.q.outMessage.get(this.me.user, this.me.device, id) as OutRow;
    const marks = this.q.segmentMarks.all(id) as { idx: number; held: number; acked: number }[];
    this.db
      .transaction(() => {
        this.q.setStatus.run('pending', this.me.user, this.me.device, id);
        this.q.resetOutSegments.run(id);
      })
      .immediate();
    if (m.path !== null) {
      this.q.fileState.run('sending', null, this.me.user, this.me.device, id);
      m.fileState = 'sending';
    }
    const msg = this.outMessageOf(m);
    for (const m of marks) {
      if (m.held) markSegment(msg, 'held', m.idx);
      if (m.acked) markSegment(msg, 'acked', m.idx);
    }
    this.sending.set(id, msg);
    const out = this.peerOut(m.peer);
    if (msg.file) out.enqueueStream(id, 0, msg.count);
    else
      for (let i = 0; i < msg.count; i++)
        if (!msg.acked[i]) out.enqueue({ messageId: id, index: i }, false);
    this.changed({ author: this.me.user, authorDevice: this.me.device, id });
    this.advanceOutgoing(id);
    this.pump();
    return true;
  }

  private peerOut(peer: string): PeerOutbound {
    let out = this.outbound.get(peer);
    if (!out) {
      out = new PeerOutbound(peer, this.settings.segmentSize);
      this.outbound.set(peer, out);
    }
    return out;
  }

  /** Sends as much as congestion control and the socket allow, peer by peer in turn. */
  private pump(): void {
    if (this.pumping || this.closed || this.draining || !this.conn.isOnline) return;
    // Most calls (one per incoming ack) find nothing to send: no transaction for those.
    let ready = false;
    for (const out of this.outbound.values()) {
      if (out.hasWork && out.canSend(this.conn.buffered)) {
        ready = true;
        break;
      }
    }
    if (!ready) {
      this.arm();
      return;
    }
    this.pumping = true;
    // Blocks of numbers are reserved, committed on their own, before a frame of the burst
    // leaves: frames leave before the burst's transaction commits.
    for (const out of this.outbound.values()) if (out.hasWork) this.spaces.ensure(out);
    try {
      // One transaction for the bookkeeping of a whole burst, not one commit per segment.
      this.db
        .transaction(() => {
          let progress = true;
          while (progress) {
            progress = false;
            for (const out of this.outbound.values()) {
              if (!out.hasWork || !out.canSend(this.conn.buffered)) continue;
              const next = out.next((ref) => this.settled(ref));
              if (!next) continue;
              this.sendSegment(out, next.ref, next.retransmission);
              progress = true;
            }
          }
        })
        .immediate();
    } finally {
      this.pumping = false;
    }
    this.arm();
  }

  /** Acked, failed or abandoned segments need no (more) sending. */
  private settled(ref: SegmentRef): boolean {
    const msg = this.sending.get(ref.messageId);
    return !msg || msg.acked[ref.index] === 1;
  }

  private sendSegment(out: PeerOutbound, ref: SegmentRef, retransmission: boolean): void {
    const msg = this.sending.get(ref.messageId)!;
    const count = msg.count;
    let payload: Uint8Array;
    try {
      payload = msg.read(ref.index);
    } catch (e) {
      if (!(e instanceof FileSourceError)) throw e;
      // The file changed or vanished: no segment of it may go out any more.
      this.fail(ref.messageId, e.message);
      this.emit(
        'fileFailed',
        { author: this.me.user, authorDevice: this.me.device, id: ref.messageId },
        e.message,
      );
      return;
    }
    const bytes = msg.file && ref.index > 0 ? payload.length - CHUNK_OFFSET_BYTES : payload.length;
    const transmission = out.nextTransmission;
    const frame: DataFrame = {
      type: 'data',
      from: this.me.user,
      fromDevice: this.me.device,
      to: out.peer,
      toDevice: 0,
      messageId: ref.messageId,
      transmission,
      segmentCount: count,
      segmentIndex: ref.index,
      payload,
      ...(msg.file ? { file: true as const } : {}),
    };
    if (!this.conn.send(frame)) {
      out.enqueue(ref, true);
      return;
    }
    // A file's cursor may come back over segments sent before (a resume, a sweep): those
    // count as retransmissions too.
    if (msg.sends[ref.index]! > 0) retransmission = true;
    const sends = Math.min(msg.sends[ref.index]! + 1, 0xffff);
    msg.sends[ref.index] = sends;
    this.q.markSent.run(ref.messageId, ref.index);
    out.onSent(transmission, ref, payload.length, this.now());
    out.counters.segmentsSent++;
    out.counters.bytesSent += bytes;
    if (retransmission) out.counters.retransmissions++;
    this.log.record(
      out.peer,
      retransmission ? 'retransmitted' : 'sent',
      ref.messageId,
      ref.index,
      count,
      bytes,
    );
    // A segment that keeps failing to reach even the relay fails its message, if the relay
    // answers a ping meanwhile (a link that does not is dropped, and this one goes again).
    if (
      sends >= MAX_SENDS_PER_SEGMENT &&
      !msg.held[ref.index] &&
      this.now() - msg.since >= FAIL_AFTER_MS
    ) {
      void this.conn.confirmAlive().then((alive) => {
        if (!alive || this.closed || this.sending.get(ref.messageId) !== msg) return;
        if (msg.held[ref.index] || msg.acked[ref.index]) return;
        this.fail(ref.messageId, 'the relay did not take it: it is overloaded or refuses it');
      });
    }
  }

  /** The relay refused a message (unknown recipient, full store): it fails unless already sent. */
  refuse(id: number, reason?: string): void {
    // A message the relay already holds in full is its to deliver; a late refusal of a
    // retransmission changes nothing.
    const row = this.q.status.get(this.me.user, this.me.device, id) as
      { status: MessageStatus } | undefined;
    if (row?.status === 'pending') this.fail(id, reason && `the relay refused it: ${reason}`);
  }

  private fail(id: number, reason = 'it could not be sent'): void {
    const msg = this.sending.get(id);
    if (!msg) return;
    this.sending.delete(id);
    msg.file?.close();
    if (msg.file) this.q.fileState.run('failed', reason, this.me.user, this.me.device, id);
    this.outbound.get(msg.peer)?.dropStream(id);
    this.outbound.get(msg.peer)?.forget((ref) => ref.messageId === id);
    this.setStatus({ author: this.me.user, authorDevice: this.me.device, id }, 'failed');
  }

  // ---------------------------------------------------------------------------------------
  // Frames in

  onFrame(frame: Frame): void {
    switch (frame.type) {
      case 'data':
        this.onData(frame);
        break;
      case 'ack':
        this.onAck(frame);
        break;
      case 'held':
        this.onHeld(frame.ranges);
        break;
      case 'receipt':
        this.onReceipt(frame);
        break;
      default:
        return;
    }
    this.drained?.();
    this.pump();
  }

  private onAck(frame: AckFrame): void {
    const out = this.outbound.get(frame.from);
    if (!out) return;
    const result = out.onAck(frame.ranges, frame.ackDelayMicros / 1000, this.now());
    // The relay's stored copies of what it held while the peer was away, arriving.
    const unparked = out.unpark(frame.ranges);
    const touched = new Set<number>();
    for (const p of result.acked) {
      // Logged whatever the message's state: a receipt may have finished it first.
      const count = this.sending.get(p.meta.messageId)?.count ?? 0;
      this.log.record(out.peer, 'acked', p.meta.messageId, p.meta.index, count, p.bytes);
    }
    const settled = [...result.acked, ...result.spurious];
    this.db
      .transaction(() => {
        for (const ref of [...settled.map((p) => p.meta), ...unparked]) {
          const msg = this.sending.get(ref.messageId);
          if (!msg || !markSegment(msg, 'acked', ref.index)) continue;
          this.q.markAcked.run(ref.messageId, ref.index);
          out.counters.segmentsAcked++;
          touched.add(ref.messageId);
        }
      })
      .immediate();
    out.release(settled.map((p) => p.transmission));
    // A returning peer making progress through what the relay stored: let it go on.
    if (unparked.length > 0 && this.heldSweeps.has(out.peer)) {
      this.heldSweeps.set(out.peer, this.now() + HELD_SWEEP_MS);
    }
    for (const p of result.lost) {
      this.logLost(out.peer, p.meta, p.bytes);
      if (!this.settled(p.meta)) out.enqueue(p.meta, true);
    }
    for (const id of touched) this.advanceOutgoing(id);
    this.emit('stats', out.peer);
  }

  private onHeld(ranges: readonly (readonly [number, number])[]): void {
    const touched = new Set<number>();
    const released: SegmentRef[] = [];
    this.db
      .transaction(() => {
        for (const out of this.outbound.values()) {
          for (const [low, high] of ranges) {
            for (const n of numbersIn(out.transmissions, low, high)) {
              const ref = out.transmissions.get(n)!;
              const msg = this.sending.get(ref.messageId);
              if (!msg || !markSegment(msg, 'held', ref.index)) continue;
              this.q.markHeld.run(ref.messageId, ref.index);
              touched.add(ref.messageId);
              if (this.offlinePeers.has(out.peer)) released.push(ref);
            }
          }
        }
      })
      .immediate();
    for (const out of this.outbound.values()) out.loss.resetPtoBackoff();
    // For a peer that is away, what the relay holds is the relay's to deliver: it leaves the
    // window (so a large file keeps flowing into custody) and is not probed again and again.
    if (released.length > 0) {
      const gone = new Set(released.map((r) => `${r.messageId}:${r.index}`));
      for (const peer of new Set(released.map((r) => this.sending.get(r.messageId)?.peer))) {
        if (peer !== undefined) {
          this.outbound.get(peer)?.park((r) => gone.has(`${r.messageId}:${r.index}`));
        }
      }
    }
    for (const id of touched) this.advanceOutgoing(id);
  }

  /**
   * The relay's word on a peer's presence. While it is away, segments the relay holds leave
   * this sender's window. When it is back, the relay delivers what it stored, so nothing is
   * sent again at once (that would send a file to an absent peer twice); only if the peer's
   * acknowledgements stop short of it for HELD_SWEEP_MS (the channel lost some of the
   * relay's copies) does this sender send the rest itself.
   */
  peerPresence(peer: string, online: boolean): void {
    if (!online) {
      this.offlinePeers.add(peer);
      this.heldSweeps.delete(peer);
      return;
    }
    if (!this.offlinePeers.delete(peer)) return;
    this.heldSweeps.set(peer, this.now() + HELD_SWEEP_MS);
    this.arm();
  }

  /** Sends again what the relay held for `peer` and the peer has not acknowledged. */
  private sweepHeld(peer: string): void {
    this.heldSweeps.delete(peer);
    const out = this.outbound.get(peer);
    if (!out) return;
    for (const [id, msg] of this.sending) {
      if (msg.peer !== peer) continue;
      let first = -1;
      for (let i = 0; i < msg.count; i++) {
        if (!msg.held[i] || msg.acked[i]) continue;
        if (msg.file) {
          first = i;
          break;
        }
        out.enqueue({ messageId: id, index: i }, true);
      }
      // A file's cursor goes back to the first of them and skips what is acknowledged.
      if (first !== -1) out.enqueueStream(id, first, msg.count);
    }
  }

  /** Moves an outgoing message to sent (the relay holds it) or delivered (the peer does). */
  private advanceOutgoing(id: number): void {
    const msg = this.sending.get(id);
    if (!msg) return;
    const key = { author: this.me.user, authorDevice: this.me.device, id };
    if (msg.ackedCount === msg.count) {
      this.finishSending(id);
      // A file is delivered when the peer has verified it (its receipt), not when it has
      // every segment.
      this.setStatus(key, msg.file ? 'sent' : 'delivered');
    } else if (msg.coveredCount === msg.count) {
      this.setStatus(key, 'sent');
    }
  }

  private finishSending(id: number): void {
    const msg = this.sending.get(id);
    if (!msg) return;
    this.sending.delete(id);
    msg.file?.close();
    if (msg.file) this.q.fileState.run('done', null, this.me.user, this.me.device, id);
    this.outbound.get(msg.peer)?.dropStream(id);
    this.outbound.get(msg.peer)?.forget((ref) => ref.messageId === id);
  }

  private onReceipt(frame: ReceiptFrame): void {
    // About the sender's own file on its way here: the files layer's business. Only the
    // device sending a file speaks for it.
    if (SENDER_RECEIPT_KINDS.has(frame.kind)) {
      if (frame.messageDevice !== frame.fromDevice || frame.from === this.me.user) return;
      for (const id of frame.messageIds) {
        this.emit(
          'senderReceipt',
          { author: frame.from, authorDevice: frame.messageDevice, id },
          frame.kind as SenderReceiptKind,
        );
      }
      return;
    }
    if (frame.kind === 'cancelled' || frame.kind === 'refused') {
      if (frame.messageDevice !== this.me.device) return;
      for (const id of frame.messageIds) this.declined(id, frame.from, frame.kind);
      return;
    }
    const status: MessageStatus = frame.kind === 'read' ? 'read' : 'delivered';
    for (const id of frame.messageIds) {
      const key = { author: this.me.user, authorDevice: frame.messageDevice, id };
      if (frame.messageDevice === this.me.device && status === 'delivered') this.finishSending(id);
      this.setStatus(key, status);
    }
  }

  setStatus(key: MessageKey, next: MessageStatus): void {
    const row = this.q.status.get(key.author, key.authorDevice, key.id) as
      { status: MessageStatus } | undefined;
    if (!row || !statusAdvances(row.status, next)) return;
    this.q.setStatus.run(next, key.author, key.authorDevice, key.id);
    const own = key.author === this.me.user && key.authorDevice === this.me.device;
    if (own && (next === 'delivered' || next === 'read')) this.q.dropOutSegments.run(key.id);
    this.changed(key);
  }

  /** Data frames wait here for the end of the current I/O burst: one transaction for all. */
  private incoming: DataFrame[] = [];
  /** When each of `incoming` arrived: an ack's delay counts from there (see settleIncoming). */
  private incomingAt: number[] = [];
  private flushScheduled = false;
  /** A burst's chunks are being written. */
  private writing = false;

  private onData(frame: DataFrame): void {
    this.incoming.push(frame);
    this.incomingAt.push(this.now());
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
    if (this.closed || this.writing || this.incoming.length === 0) return;
    const batch = this.incoming;
    const arrivals = this.incomingAt;
    this.incoming = [];
    this.incomingAt = [];
    const writes: { at: number; write: PendingWrite }[] = [];
    // A segment twice in one burst (the channel duplicates) is written once: only the first
    // copy is recorded (and hashed), and the other's write could land after it.
    const writing = new Set<string>();
    const results = this.db
      .transaction(() =>
        batch.map((f, at): StoreResult => {
          const r = this.storeSegment(f, f.from === this.me.user ? f.to : f.from);
          if (typeof r === 'string') return r;
          const slot = `${r.path}#${r.frame.segmentIndex}`;
          if (writing.has(slot)) return 'duplicate';
          writing.add(slot);
          writes.push({ at, write: r });
          return 'refused';
        }),
      )
      .immediate();
    if (writes.length === 0 || this.partial === null) {
      this.settleIncoming(batch, results, arrivals);
      return;
    }
    // The chunks go to disk on the thread pool; recorded and acknowledged once there.
    const partial = this.partial;
    this.writing = true;
    void Promise.all(
      writes.map(({ write: w }) =>
        partial.write(w.path, w.offset, w.bytes).then(
          () => null,
          (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
        ),
      ),
    ).then((errors) => {
      this.writing = false;
      if (this.closed) return;
      this.db
        .transaction(() => {
          writes.forEach(({ at, write }, i) => {
            results[at] = this.recordWritten(write, errors[i]!);
          });
        })
        .immediate();
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
    const changed = new Map<string, MessageKey>();
    const fileComplete: MessageKey[] = [];
    batch.forEach((frame, i) => {
      const result = results[i]!;
      const ownCopy = frame.from === this.me.user;
      const peer = ownCopy ? frame.to : frame.from;
      const counters = this.inboundCounters.get(peer) ?? {
        segmentsReceived: 0,
        duplicatesDropped: 0,
        bytesReceived: 0,
      };
      this.inboundCounters.set(peer, counters);
      // A segment that could not be stored is dropped unacknowledged: the sender will resend it.
      if (result === 'refused') return;
      counters.segmentsReceived++;
      counters.bytesReceived += frame.payload.length;
      const dropped =
        result === 'duplicate' || result === 'cancelledFile' || result === 'refusedFile';
      if (dropped) counters.duplicatesDropped++;
      this.log.record(
        peer,
        dropped ? 'duplicate' : 'received',
        frame.messageId,
        frame.segmentIndex,
        frame.segmentCount,
        frame.payload.length,
      );
      // Completion, and the first segment of a message (so that progress can be shown);
      // once per message and burst.
      if (result === 'fileComplete') {
        fileComplete.push({
          author: frame.from,
          authorDevice: frame.fromDevice,
          id: frame.messageId,
        });
      }
      if (result === 'completed' || result === 'first' || result === 'failed') {
        changed.set(`${frame.from}/${frame.fromDevice}/${frame.messageId}`, {
          author: frame.from,
          authorDevice: frame.fromDevice,
          id: frame.messageId,
        });
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
      if (kind !== undefined) {
        const at = `${kind} ${senderKey}`;
        const r = receipts.get(at) ?? { user: frame.from, device: frame.fromDevice, kind, ids: [] };
        if (!r.ids.includes(frame.messageId)) r.ids.push(frame.messageId);
        receipts.set(at, r);
      }
    });
    for (const key of changed.values()) this.changed(key);
    for (const r of receipts.values()) this.sendReceipt(r.user, r.device, r.ids, r.kind);
    // A file is delivered once verified: its receipt comes from whoever verifies it.
    for (const key of fileComplete) this.emit('fileComplete', key);
    this.pump();
  }

  /**
   * Persists one incoming segment (inside the caller's transaction) and completes the
   * message when it was the last one.
   */
  private storeSegment(frame: DataFrame, peer: string): StoreResult | PendingWrite {
    if (frame.file === true) return this.storeFileSegment(frame, peer);
    const { from, fromDevice, messageId: id, segmentCount: count, segmentIndex: index } = frame;
    // No message is larger than MAX_MESSAGE_BYTES, even in the smallest segments.
    if (count > Math.ceil(MAX_MESSAGE_BYTES / MIN_SEGMENT_SIZE)) return 'duplicate';
    if ((count - 1) * frame.payload.length > MAX_MESSAGE_BYTES) return 'duplicate';
    const row = this.incomingRow(frame, peer, frame.payload.length);
    if (row === null) return 'duplicate';
    if (this.q.insertInSegment.run(from, fromDevice, id, index, frame.payload).changes === 0) {
      return 'duplicate';
    }
    this.q.progress.run(from, fromDevice, id);
    if (row.received + 1 < count) return row.received === 0 ? 'first' : 'stored';
    const parts = this.q.segments.all(from, fromDevice, id) as { payload: Buffer }[];
    this.q.complete.run(Buffer.concat(parts.map((p) => p.payload)), from, fromDevice, id);
    this.q.dropInSegments.run(from, fromDevice, id);
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
    let row = this.q.message.get(from, fromDevice, id) as Row | undefined;
    if (!row) {
      const direction = from === this.me.user ? 'out' : 'in';
      this.q.insertMessage.run({
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
      });
      row = this.q.message.get(from, fromDevice, id) as Row | undefined;
    }
    if (!row || row.complete || row.count !== count || row.peer !== peer) return null;
    return row;
  }

  /**
   * Writes one segment of an incoming file into its partial file (inside the caller's
   * transaction) and records it; a segment that cannot be written is not recorded, so it is
   * not acknowledged and the sender sends it again.
   */
  private storeFileSegment(frame: DataFrame, peer: string): StoreResult | PendingWrite {
    const { from, fromDevice, messageId: id, segmentCount: count, segmentIndex: index } = frame;
    const partial = this.partial;
    if (partial === null) return 'duplicate';
    // Every chunk holds at least a byte: no file of the allowed size has more segments.
    if (count > this.maxFileBytes + 1) return 'duplicate';
    const chunk = index === 0 ? null : decodeChunk(frame.payload);
    if (index > 0 && (chunk === null || chunk.offset + chunk.bytes.length > this.maxFileBytes)) {
      return 'duplicate';
    }
    const direction = from === this.me.user ? 'out' : 'in';
    if (this.incomingRow(frame, peer, chunk === null ? 0 : chunk.bytes.length) === null) {
      return 'duplicate';
    }
    type File = { path: string; header: string | null; state: string };
    let file = this.q.fileOf.get(from, fromDevice, id) as File | undefined;
    if (!file) {
      const path = partial.pathOf(from, fromDevice, id);
      this.q.insertInFile.run(from, fromDevice, id, path);
      file = this.q.fileOf.get(from, fromDevice, id) as File | undefined;
      partial.begin(path);
    }
    if (!file) return 'duplicate';
    const closed = closedFileResult(file.state, direction === 'in');
    if (closed !== null) return closed;
    if (index > 0) {
      // A chunk is recorded only once its bytes are on disk: it is written first, off the
      // event loop, and recordWritten() records (and counts) it.
      if (this.q.hasInFileSegment.get(from, fromDevice, id, index)) return 'duplicate';
      const size = file.header === null ? null : this.headerSize(file.header);
      if (size !== null && chunk!.offset + chunk!.bytes.length > size) return 'duplicate';
      return { frame, path: file.path, offset: chunk!.offset, bytes: chunk!.bytes };
    }
    if (this.q.insertInFileSegment.run(from, fromDevice, id, index).changes === 0) {
      return 'duplicate';
    }
    {
      const header = decodeFileHeader(frame.payload);
      // The header must describe this many segments, in chunks of at least one byte.
      const fits =
        header !== null &&
        header.size <= this.maxFileBytes &&
        count <= header.size + 1 &&
        (header.size === 0 ? count === 1 : count >= 2);
      let room: string | null = null;
      if (fits) {
        try {
          checkRoom(partial.dir, header.size);
        } catch (e) {
          if (!(e instanceof DiskFullError)) throw e;
          room = `refused: ${e.message}`;
        }
      }
      if (!fits || room !== null) {
        const why =
          room ??
          (header === null
            ? 'the sender described the file in a way this version does not understand'
            : header.size > this.maxFileBytes
              ? `the file is larger than the ${this.maxFileBytes}-byte limit`
              : 'the file header does not match its segments');
        this.q.fileFailedIn.run(why, from, fromDevice, id);
        partial.remove(file.path);
        return 'failed';
      }
      this.q.fileHeader.run(JSON.stringify(header), from, fromDevice, id);
    }
    return this.countFileSegment(frame);
  }

  /**
   * Records a chunk once its write is over (inside the caller's transaction): a chunk that
   * could not be written is not recorded, so it is not acknowledged and the sender sends it
   * again; the file may have been cancelled or refused meanwhile.
   */
  private recordWritten(w: PendingWrite, error: Error | null): StoreResult {
    const { from, fromDevice, messageId: id, segmentIndex: index } = w.frame;
    const keyText = `${from}/${fromDevice}/${id}`;
    if (error !== null) {
      // Said once per file until a write succeeds again, not once per segment.
      if (!this.writeFailures.has(keyText)) {
        this.writeFailures.add(keyText);
        this.emit('fileWriteFailed', { author: from, authorDevice: fromDevice, id }, error.message);
      }
      return 'refused';
    }
    this.writeFailures.delete(keyText);
    const file = this.q.fileOf.get(from, fromDevice, id) as { state: string } | undefined;
    const closed = closedFileResult(file?.state, from !== this.me.user);
    if (closed !== null) return closed;
    if (this.q.insertInFileSegment.run(from, fromDevice, id, index).changes === 0) {
      return 'duplicate';
    }
    this.partial?.recorded(w.path, w.offset, w.bytes);
    return this.countFileSegment(w.frame);
  }

  /** Counts a recorded segment of a file: its first, another, or the last one. */
  private countFileSegment(frame: DataFrame): StoreResult {
    const { from, fromDevice, messageId: id, segmentCount: count } = frame;
    this.q.progress.run(from, fromDevice, id);
    const { received } = this.q.message.get(from, fromDevice, id) as { received: number };
    if (received === 1) this.emit('fileActivity');
    if (received < count) return received === 1 ? 'first' : 'stored';
    return 'fileComplete';
  }

  /** Sizes from stored file headers (JSON), parsed once per file rather than per segment. */
  private readonly headerSizes = new Map<string, number>();

  private headerSize(header: string): number {
    let size = this.headerSizes.get(header);
    if (size === undefined) {
      size = (JSON.parse(header) as { size: number }).size;
      if (this.headerSizes.size >= 64) this.headerSizes.clear();
      this.headerSizes.set(header, size);
    }
    return size;
  }

  /** Incoming files whose segments are all in but which are not verified yet. */
  filesAwaitingVerification(): MessageKey[] {
    return this.sql(
      `SELECT m.author, m.author_device AS authorDevice, m.id FROM messages m
         JOIN files f ON f.author = m.author AND f.author_device = m.author_device AND f.id = m.id
       WHERE m.body IS NULL AND m.received = m.segment_count AND f.state IN ('receiving', 'verifying')`,
    ).all() as MessageKey[];
  }

  private sendAck(state: { user: string; device: number; acks: AckScheduler }): void {
    const ack = state.acks.takeAck(this.now());
    if (!ack) return;
    this.conn.send({
      type: 'ack',
      from: this.me.user,
      fromDevice: this.me.device,
      to: state.user,
      toDevice: state.device,
      ackDelayMicros: ack.ackDelayMicros,
      ranges: ack.ranges,
    });
  }

  sendReceipt(to: string, device: number, ids: number[], kind: ReceiptKind): void {
    for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
      this.conn.send({
        type: 'receipt',
        from: this.me.user,
        fromDevice: this.me.device,
        to,
        toDevice: 0,
        kind,
        messageDevice: device,
        messageIds: ids.slice(i, i + MAX_RECEIPT_IDS),
      });
    }
  }

  // ---------------------------------------------------------------------------------------
  // The single timer and the assembly pass

  private arm(): void {
    if (this.closed) return;
    let at = Infinity;
    for (const out of this.outbound.values()) {
      const t = out.loss.lossDetectionTimer();
      if (t !== null) at = Math.min(at, t);
    }
    for (const s of this.inbound.values()) {
      const t = s.acks.ackDeadline();
      if (t !== null) at = Math.min(at, t);
    }
    for (const t of this.heldSweeps.values()) at = Math.min(at, t);
    if (at === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = at;
    if (at === Infinity) return;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, at - this.now()));
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.now();
    for (const s of this.inbound.values()) {
      const t = s.acks.ackDeadline();
      if (t !== null && t <= now + 1) this.sendAck(s);
    }
    for (const [peer, t] of this.heldSweeps) if (t <= now + 1) this.sweepHeld(peer);
    for (const out of this.outbound.values()) {
      const t = out.loss.lossDetectionTimer();
      if (t === null || t > now + 1) continue;
      const result = out.onLossTimeout(now);
      if (result.kind === 'loss') {
        for (const p of result.lost) {
          this.logLost(out.peer, p.meta, p.bytes);
          if (!this.settled(p.meta)) out.enqueue(p.meta, true);
        }
      } else if (result.kind === 'probe') {
        // RFC 9002 §6.2.4: probes go out whatever the window says, and carry new data when
        // there is some; otherwise they resend the oldest unacknowledged segments.
        out.probeCredit = Math.max(1, result.probes.length);
        if (!out.hasWork) {
          for (const p of result.probes) if (!this.settled(p.meta)) out.enqueue(p.meta, true);
        }
      }
      this.emit('stats', out.peer);
    }
    this.pump();
  }

  /**
   * Every N ms: an incoming message that gained no segment for K passes is handed over
   * with the error flag (and the list of what is missing); its later completion clears it.
   */
  assemblyPass(): void {
    if (this.closed) return;
    const flagged = this.db
      .transaction(() => {
        this.q.idle.run();
        return this.q.newlyFlagged.all(this.settings.idleCycles) as MessageKey[];
      })
      .immediate();
    for (const key of flagged) this.changed(key);
  }

  /** Segment indices of an incomplete incoming message that have not arrived. */
  missing(key: MessageKey, count: number): number[] {
    const have = new Set(
      (
        this.sql(
          `SELECT idx FROM in_segments WHERE author = @author AND author_device = @authorDevice
             AND message_id = @id
           UNION ALL
           SELECT idx FROM in_file_segments WHERE author = @author AND author_device = @authorDevice
             AND message_id = @id`,
        ).all({ author: key.author, authorDevice: key.authorDevice, id: key.id }) as {
          idx: number;
        }[]
      ).map((r) => r.idx),
    );
    const out: number[] = [];
    for (let i = 0; i < count && out.length < MAX_MISSING_LISTED; i++)
      if (!have.has(i)) out.push(i);
    return out;
  }

  stats(peer: string) {
    const out = this.outbound.get(peer);
    const inb = this.inboundCounters.get(peer) ?? {
      segmentsReceived: 0,
      duplicatesDropped: 0,
      bytesReceived: 0,
    };
    const sent = out?.counters.segmentsSent ?? 0;
    return {
      peer,
      segmentsSent: sent,
      segmentsAcked: out?.counters.segmentsAcked ?? 0,
      retransmissions: out?.counters.retransmissions ?? 0,
      spuriousRetransmissions: out?.loss.spuriousCount ?? 0,
      segmentsReceived: inb.segmentsReceived,
      duplicatesDropped: inb.duplicatesDropped,
      bytesSent: out?.counters.bytesSent ?? 0,
      bytesReceived: inb.bytesReceived,
      rttMs: out?.loss.rtt.smoothedRtt ?? 0,
      minRttMs: out?.loss.rtt.minRtt ?? 0,
      windowBytes: out?.cc.window ?? 0,
      bytesInFlight: out?.loss.bytesInFlight ?? 0,
      lossRate: sent > 0 ? (out?.loss.lostCount ?? 0) / sent : 0,
    };
  }

  private logLost(peer: string, ref: SegmentRef, bytes: number): void {
    const msg = this.sending.get(ref.messageId);
    this.log.record(peer, 'lost', ref.messageId, ref.index, msg?.count ?? 0, bytes);
  }

  private changed(key: MessageKey): void {
    this.emit('changed', key);
  }
}

/** An outgoing message still being sent: its bytes and each segment's state. */
interface OutMessage {
  peer: string;
  /** The payload of segment `index`: a slice of the text, or a file's header or chunk. */
  read: (index: number) => Uint8Array;
  /** A file's source, open while the file is being sent; null for text. */
  file: FileSource | null;
  size: number;
  count: number;
  /** When this run started sending it (for the attempt limit). */
  since: number;
  acked: Uint8Array;
  held: Uint8Array;
  sends: Uint16Array;
  ackedCount: number;
  heldCount: number;
  /** Segments held by the relay or acknowledged by the peer: all of them means sent. */
  coveredCount: number;
}

/** A chunk of a file that passed every check, to be written at its offset and then recorded. */
interface PendingWrite {
  frame: DataFrame;
  path: string;
  offset: number;
  bytes: Uint8Array;
}

/** What became of one incoming segment. */
type StoreResult =
  | 'duplicate'
  | 'first'
  | 'stored'
  | 'completed'
  | 'fileComplete'
  | 'failed'
  | 'refused'
  | 'cancelledFile'
  | 'refusedFile';

/** The receipt a stored segment's result calls for: its message is complete, refused or cancelled. */
const RECEIPT_FOR: Partial<Record<StoreResult, ReceiptKind>> = {
  completed: 'delivered',
  failed: 'refused',
  refusedFile: 'refused',
  cancelledFile: 'cancelled',
};

/** A row describing one of our messages, with its file when it is one. */
interface OutRow {
  peer: string;
  body: Buffer;
  size: number;
  count: number;
  path: string | null;
  fileSize: number | null;
  mtimeMs: number | null;
  fileState: string | null;
}

function outMessage(peer: string, body: Uint8Array, size: number, now: number): OutMessage {
  const count = segmentCount(body.length, size);
  return {
    ...emptyOutMessage(peer, size, count, now),
    read: (index) => {
      const [start, end] = segmentBounds(index, body.length, size);
      return body.subarray(start, end);
    },
  };
}

function emptyOutMessage(
  peer: string,
  size: number,
  count: number,
  now: number,
): Omit<OutMessage, 'read'> {
  return {
    peer,
    file: null,
    size,
    count,
    since: now,
    acked: new Uint8Array(count),
    held: new Uint8Array(count),
    sends: new Uint16Array(count),
    ackedCount: 0,
    heldCount: 0,
    coveredCount: 0,
  };
}

/** Sets a segment's flag; returns false if it was set already. */
/**
 * What becomes of a segment of a file no longer receiving (null while it is). Still coming
 * after we cancelled or refused it: the sender has not heard (our receipt may have been lost
 * while we were offline), so it is dropped and the receipt goes again.
 */
function closedFileResult(state: string | undefined, incoming: boolean): StoreResult | null {
  if (state === 'receiving') return null;
  if (incoming && state === 'cancelled') return 'cancelledFile';
  if (incoming && state === 'failed') return 'refusedFile';
  return 'duplicate';
}

function markSegment(msg: OutMessage, flag: 'acked' | 'held', index: number): boolean {
  if (index >= msg.count || msg[flag][index]) return false;
  if (!msg.acked[index] && !msg.held[index]) msg.coveredCount++;
  msg[flag][index] = 1;
  if (flag === 'acked') msg.ackedCount++;
  else msg.heldCount++;
  return true;
}
