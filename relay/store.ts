// The relay's durable state in SQLite (WAL): the users it has seen, frames held for devices
// that are offline, and the data frames in the relay's custody. A queued frame is deleted
// only after it has been handed to a live connection, so a crash between the two delivers it
// again rather than losing it (the transport above drops duplicates). A frame in custody is
// kept until its recipient says the message was delivered (docs/protocol.md, "Custody").
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameTypeName } from '../src/shared/protocol/index.ts';
import { AccountStore } from './account-store.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.ts';
import { checkpointInBackground, type BackgroundCheckpoints } from '../src/node/checkpoints.ts';

export interface StoreLimits {
  /** Frames held per recipient user. */
  maxFramesPerUser: number;
  /** Bytes held per recipient user. */
  maxBytesPerUser: number;
  /** Bytes held in all. */
  maxBytesTotal: number;
  /** Frames older than this are discarded (and counted) rather than delivered. */
  maxAgeMs: number;
}

/** What the router needs to know about a frame without decoding it again. */
export interface FrameRoute {
  type: FrameTypeName;
  sender: string;
}

export interface StoredFrame extends FrameRoute {
  id: number;
  frame: Uint8Array;
}

export type EnqueueResult =
  | { ok: true }
  | { ok: false; reason: 'user-quota' | 'store-full' | 'store-error'; detail?: string };

/** One data frame the relay takes custody of: who sent it, to whom, and which segment. */
export interface CustodyRow {
  sender: string;
  senderDevice: number;
  recipient: string;
  /** The data frame's toDevice (0: any device of the recipient). */
  recipientDevice: number;
  messageId: number;
  segmentIndex: number;
  transmission: number;
  frame: Uint8Array;
}

/** A segment in custody that its recipient has not acknowledged yet. */
export interface HeldSegment {
  recipientDevice: number;
  messageId: number;
  segmentIndex: number;
  /** The latest transmission of the segment the relay has seen. */
  transmission: number;
  frame: Uint8Array;
}

/** Whose custody: one sending device's frames towards one recipient. */
export interface CustodyKey {
  sender: string;
  senderDevice: number;
  recipient: string;
}

type Usage = { frames: number; bytes: number };

// Every write transaction here is BEGIN IMMEDIATE: it takes the write lock before it reads, so
// that a checkpoint on the worker thread makes it wait (busy_timeout) rather than fail with
// "database is locked" when a read snapshot would have to be upgraded to a write.
export class RelayStore {
  private readonly db: Database.Database;
  private readonly limits: StoreLimits;
  /** Queued frames and bytes per recipient. */
  private readonly usage = new Map<string, Usage>();
  private totalBytes = 0;
  private totalFrames = 0;
  /** Frames and bytes in custody per recipient, checked against the same per-user limits. */
  private readonly custodyUsage = new Map<string, Usage>();
  private custodyTotalBytes = 0;
  private custodyTotalFrames = 0;
  private readonly stmt;
  private checkpoints: BackgroundCheckpoints | null = null;
  /** The accounts, in the same database (account-store.ts). */
  readonly accounts: AccountStore;

  constructor(dataDir: string, limits: StoreLimits) {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'relay.db');
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (not a power cut) and is much faster.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    try {
      this.migrate();
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.checkpoints = checkpointInBackground(this.db, file);
    this.accounts = new AccountStore(this.db);
    this.limits = limits;
    this.stmt = {
      upsertUser: this.db.prepare(
        `INSERT INTO users (name, first_seen, last_seen) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen`,
      ),
      touchUser: this.db.prepare('UPDATE users SET last_seen = ? WHERE name = ?'),
      users: this.db.prepare('SELECT name, last_seen AS lastSeen FROM users ORDER BY name'),
      enqueue: this.db.prepare(
        'INSERT INTO queue (user, device, enqueued_at, type, sender, frame) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      pending: this.db.prepare(
        `SELECT id, type, sender, frame FROM queue WHERE user = ? AND (device = 0 OR device = ?) AND id > ?
         ORDER BY id LIMIT ?`,
      ),
      countFor: this.db.prepare(
        'SELECT count(*) AS n FROM queue WHERE user = ? AND (device = 0 OR device = ?)',
      ),
      remove: this.db.prepare(
        'DELETE FROM queue WHERE id = ? RETURNING user, length(frame) AS bytes',
      ),
      expired: this.db.prepare(
        'DELETE FROM queue WHERE enqueued_at < ? RETURNING user, length(frame) AS bytes',
      ),
      custodyExisting: this.db.prepare(
        `SELECT length(frame) AS bytes, transmission, acked FROM custody
         WHERE sender = ? AND sender_device = ? AND recipient = ? AND message_id = ? AND segment_index = ?`,
      ),
      custodyInsert: this.db.prepare(
        `INSERT INTO custody (sender, sender_device, recipient, recipient_device, message_id,
           segment_index, transmission, acked, stored_at, frame)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
         ON CONFLICT (sender, sender_device, recipient, message_id, segment_index) DO UPDATE
           SET transmission = excluded.transmission, frame = excluded.frame
           WHERE excluded.transmission > custody.transmission AND custody.acked = 0`,
      ),
      custodyAckedBytes: this.db.prepare(
        `SELECT coalesce(sum(length(frame)), 0) AS bytes FROM custody
         WHERE sender = ? AND sender_device = ? AND recipient = ? AND transmission BETWEEN ? AND ?
           AND acked = 0`,
      ),
      // An acknowledged frame is never sent again: its bytes go, its row stays until the
      // message is delivered. So a large file costs the relay its window, not its size.
      custodyAck: this.db.prepare(
        `UPDATE custody SET acked = 1, frame = X''
         WHERE sender = ? AND sender_device = ? AND recipient = ? AND transmission BETWEEN ? AND ?
           AND acked = 0`,
      ),
      custodySegmentAckedBytes: this.db.prepare(
        `SELECT coalesce(sum(length(frame)), 0) AS bytes FROM custody
         WHERE sender = ? AND sender_device = ? AND recipient = ? AND message_id = ?
           AND segment_index = ? AND acked = 0`,
      ),
      custodySegmentAck: this.db.prepare(
        `UPDATE custody SET acked = 1, frame = X''
         WHERE sender = ? AND sender_device = ? AND recipient = ? AND message_id = ?
           AND segment_index = ? AND acked = 0`,
      ),
      wasReleased: this.db.prepare(
        `SELECT 1 FROM custody_released
         WHERE sender = ? AND sender_device = ? AND recipient = ? AND message_id = ?`,
      ),
      rememberReleased: this.db.prepare(
        `INSERT OR REPLACE INTO custody_released
           (sender, sender_device, recipient, message_id, released_at) VALUES (?, ?, ?, ?, ?)`,
      ),
      releasedExpired: this.db.prepare('DELETE FROM custody_released WHERE released_at < ?'),
      custodyRelease: this.db.prepare(
        `DELETE FROM custody
         WHERE sender = ? AND sender_device = ? AND recipient = ? AND message_id = ?
         RETURNING length(frame) AS bytes`,
      ),
      custodyUnacked: this.db.prepare(
        `SELECT recipient_device AS recipientDevice, message_id AS messageId,
           segment_index AS segmentIndex, transmission, frame
         FROM custody WHERE sender = ? AND sender_device = ? AND recipient = ? AND acked = 0
         ORDER BY message_id, segment_index LIMIT ?`,
      ),
      custodyKeys: this.db.prepare(
        `SELECT DISTINCT sender, sender_device AS senderDevice, recipient FROM custody
         WHERE acked = 0 ORDER BY sender, sender_device, recipient`,
      ),
      custodyExpired: this.db.prepare(
        'DELETE FROM custody WHERE stored_at < ? RETURNING recipient, length(frame) AS bytes',
      ),
    };
    const rows = this.db
      .prepare(
        'SELECT user, count(*) AS frames, sum(length(frame)) AS bytes FROM queue GROUP BY user',
      )
      .all() as { user: string; frames: number; bytes: number }[];
    for (const r of rows) {
      this.usage.set(r.user, { frames: r.frames, bytes: r.bytes });
      this.totalBytes += r.bytes;
      this.totalFrames += r.frames;
    }
    const held = this.db
      .prepare(
        `SELECT recipient AS user, count(*) AS frames, sum(length(frame)) AS bytes FROM custody
         GROUP BY recipient`,
      )
      .all() as { user: string; frames: number; bytes: number }[];
    for (const r of held) {
      this.custodyUsage.set(r.user, { frames: r.frames, bytes: r.bytes });
      this.custodyTotalBytes += r.bytes;
      this.custodyTotalFrames += r.frames;
    }
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `relay database schema ${current} is newer than this relay understands (${SCHEMA_VERSION})`,
      );
    }
    for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
      this.db
        .transaction(() => {
          this.db.exec(MIGRATIONS[v]!);
          this.db.pragma(`user_version = ${v}`);
        })
        .immediate();
    }
  }

  get frames(): number {
    return this.totalFrames;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Frames in custody. */
  get custodyFrames(): number {
    return this.custodyTotalFrames;
  }

  /** Bytes in custody. */
  get custodyBytes(): number {
    return this.custodyTotalBytes;
  }

  rememberUser(name: string, now: number): void {
    this.stmt.upsertUser.run(name, now, now);
  }

  touchUser(name: string, now: number): void {
    this.stmt.touchUser.run(now, name);
  }

  users(): { name: string; lastSeen: number }[] {
    return this.stmt.users.all() as { name: string; lastSeen: number }[];
  }

  /** Holds `frame` for `user` (device 0: whichever of the user's devices connects first). */
  enqueue(
    user: string,
    device: number,
    frame: Uint8Array,
    route: FrameRoute,
    now: number,
  ): EnqueueResult {
    const use = this.usage.get(user) ?? { frames: 0, bytes: 0 };
    if (
      use.frames + 1 > this.limits.maxFramesPerUser ||
      use.bytes + frame.length > this.limits.maxBytesPerUser
    ) {
      return { ok: false, reason: 'user-quota' };
    }
    if (this.totalBytes + this.custodyTotalBytes + frame.length > this.limits.maxBytesTotal) {
      return { ok: false, reason: 'store-full' };
    }
    try {
      this.stmt.enqueue.run(user, device, now, route.type, route.sender, frame);
    } catch (e) {
      // SQLITE_FULL, SQLITE_IOERR, a read-only file system: refuse the frame, keep the rest.
      return { ok: false, reason: 'store-error', detail: (e as Error).message };
    }
    use.frames += 1;
    use.bytes += frame.length;
    this.usage.set(user, use);
    this.totalBytes += frame.length;
    this.totalFrames += 1;
    return { ok: true };
  }

  /** The next frames held for a device, oldest first, after the frame with id `afterId`. */
  pending(user: string, device: number, afterId: number, limit: number): StoredFrame[] {
    const rows = this.stmt.pending.all(user, device, afterId, limit) as (FrameRoute & {
      id: number;
      frame: Buffer;
    })[];
    return rows.map((r) => ({
      id: r.id,
      type: r.type,
      sender: r.sender,
      frame: new Uint8Array(r.frame.buffer, r.frame.byteOffset, r.frame.length),
    }));
  }

  countPending(user: string, device: number): number {
    return (this.stmt.countFor.get(user, device) as { n: number }).n;
  }

  /** Forgets frames that have been handed to a connection. */
  remove(ids: number[]): void {
    if (ids.length === 0) return;
    this.db
      .transaction(() => {
        for (const id of ids) {
          const row = this.stmt.remove.get(id) as { user: string; bytes: number } | undefined;
          if (row) this.releaseQueued(row.user, row.bytes);
        }
      })
      .immediate();
  }

  /** Discards frames past the age limit; returns how many went, per recipient. */
  expire(now: number): Map<string, number> {
    const rows = this.stmt.expired.all(now - this.limits.maxAgeMs) as {
      user: string;
      bytes: number;
    }[];
    const perUser = new Map<string, number>();
    for (const r of rows) {
      this.releaseQueued(r.user, r.bytes);
      perUser.set(r.user, (perUser.get(r.user) ?? 0) + 1);
    }
    return perUser;
  }

  // -------------------------------------------------------------------------------------
  // Custody

  /**
   * Takes custody of data frames, in one transaction: all of them are durable when this
   * returns, or none is. Returns one result per row, in order. A row for a segment already
   * in custody (a retransmission) replaces its transmission and frame, unless the recipient
   * has acknowledged the segment: then it is not written at all. The recipient's
   * custody is held to the per-user limits, and all custody and queued bytes together to the
   * total limit; a row over a limit is refused on its own, the others are kept.
   */
  holdBatch(rows: readonly CustodyRow[], now: number): EnqueueResult[] {
    const results: EnqueueResult[] = [];
    // Usage changes are applied only once the transaction has committed.
    const delta = new Map<string, Usage>();
    let deltaBytes = 0;
    let deltaFrames = 0;
    try {
      this.db
        .transaction(() => {
          for (const row of rows) {
            const old = this.stmt.custodyExisting.get(
              row.sender,
              row.senderDevice,
              row.recipient,
              row.messageId,
              row.segmentIndex,
            ) as { bytes: number; transmission: number; acked: number } | undefined;
            // The recipient has this segment already, or the whole message: a late copy of it
            // needs no custody.
            const released =
              old === undefined &&
              this.stmt.wasReleased.get(
                row.sender,
                row.senderDevice,
                row.recipient,
                row.messageId,
              ) !== undefined;
            if (old?.acked || released) {
              results.push({ ok: true });
              continue;
            }
            const replaces = old !== undefined && row.transmission > old.transmission;
            const addFrames = old === undefined ? 1 : 0;
            const addBytes =
              old === undefined ? row.frame.length : replaces ? row.frame.length - old.bytes : 0;
            const use = this.custodyUsage.get(row.recipient) ?? { frames: 0, bytes: 0 };
            const d = delta.get(row.recipient) ?? { frames: 0, bytes: 0 };
            if (
              addBytes > 0 &&
              (use.frames + d.frames + addFrames > this.limits.maxFramesPerUser ||
                use.bytes + d.bytes + addBytes > this.limits.maxBytesPerUser)
            ) {
              results.push({ ok: false, reason: 'user-quota' });
              continue;
            }
            if (
              addBytes > 0 &&
              this.totalBytes + this.custodyTotalBytes + deltaBytes + addBytes >
                this.limits.maxBytesTotal
            ) {
              results.push({ ok: false, reason: 'store-full' });
              continue;
            }
            this.stmt.custodyInsert.run(
              row.sender,
              row.senderDevice,
              row.recipient,
              row.recipientDevice,
              row.messageId,
              row.segmentIndex,
              row.transmission,
              now,
              row.frame,
            );
            d.frames += addFrames;
            d.bytes += addBytes;
            delta.set(row.recipient, d);
            deltaFrames += addFrames;
            deltaBytes += addBytes;
            results.push({ ok: true });
          }
        })
        .immediate();
    } catch (e) {
      // SQLITE_FULL, SQLITE_IOERR, a read-only file system: the transaction rolled back, so
      // nothing of this batch is held, whatever the loop had decided.
      const failed: EnqueueResult = {
        ok: false,
        reason: 'store-error',
        detail: (e as Error).message,
      };
      return rows.map((_, i) => (results[i]?.ok === false ? results[i]! : failed));
    }
    for (const [user, d] of delta) {
      const use = this.custodyUsage.get(user) ?? { frames: 0, bytes: 0 };
      use.frames += d.frames;
      use.bytes += d.bytes;
      if (use.frames <= 0) this.custodyUsage.delete(user);
      else this.custodyUsage.set(user, use);
    }
    this.custodyTotalFrames += deltaFrames;
    this.custodyTotalBytes += deltaBytes;
    return results;
  }

  /**
   * Marks the frames `recipient` acknowledged (their latest transmission is in `ranges`) so
   * that the relay stops retransmitting them. Returns how many were newly marked.
   */
  markAcked(
    sender: string,
    senderDevice: number,
    recipient: string,
    ranges: readonly (readonly [low: number, high: number])[],
  ): number {
    return this.acknowledge(
      recipient,
      this.stmt.custodyAckedBytes,
      this.stmt.custodyAck,
      ranges.map(([low, high]) => [sender, senderDevice, recipient, low, high]),
    );
  }

  /**
   * Marks frames acknowledged by segment: a later copy of each, acknowledged before custody
   * wrote it, stands for the copy written earlier. Returns how many were newly marked.
   */
  markSegmentsAcked(
    sender: string,
    senderDevice: number,
    recipient: string,
    segments: readonly (readonly [messageId: number, segmentIndex: number])[],
  ): number {
    return this.acknowledge(
      recipient,
      this.stmt.custodySegmentAckedBytes,
      this.stmt.custodySegmentAck,
      segments.map(([id, index]) => [sender, senderDevice, recipient, id, index]),
    );
  }

  private acknowledge(
    recipient: string,
    bytesOf: Database.Statement,
    ack: Database.Statement,
    rows: readonly (readonly (string | number)[])[],
  ): number {
    let marked = 0;
    let freed = 0;
    this.db
      .transaction(() => {
        for (const args of rows) {
          freed += (bytesOf.get(...args) as { bytes: number }).bytes;
          marked += ack.run(...args).changes;
        }
      })
      .immediate();
    // Counted once committed.
    const use = this.custodyUsage.get(recipient);
    if (use) use.bytes -= freed;
    this.custodyTotalBytes -= freed;
    return marked;
  }

  /**
   * Lets go of messages their recipient has: deletes every segment, and remembers (up to the
   * age limit) the messages of `remember` and those that had segments here, so that a later
   * copy of one is not held again. Returns how many segments went.
   */
  release(
    sender: string,
    senderDevice: number,
    recipient: string,
    messageIds: number[],
    now: number,
    remember: ReadonlySet<number> = new Set(),
  ): number {
    const sizes: number[] = [];
    this.db
      .transaction(() => {
        for (const id of messageIds) {
          const rows = this.stmt.custodyRelease.all(sender, senderDevice, recipient, id) as {
            bytes: number;
          }[];
          for (const r of rows) sizes.push(r.bytes);
          // Only messages custody knew: a receipt naming anything else costs no row.
          if (rows.length > 0 || remember.has(id))
            this.stmt.rememberReleased.run(sender, senderDevice, recipient, id, now);
        }
      })
      .immediate();
    // Counted once committed: a failed transaction deleted nothing.
    for (const bytes of sizes) this.releaseCustody(recipient, bytes);
    return sizes.length;
  }

  /** Segments in custody that `recipient` has not acknowledged, by message and segment. */
  unackedFor(
    sender: string,
    senderDevice: number,
    recipient: string,
    limit: number,
  ): HeldSegment[] {
    const rows = this.stmt.custodyUnacked.all(sender, senderDevice, recipient, limit) as (Omit<
      HeldSegment,
      'frame'
    > & { frame: Buffer })[];
    return rows.map((r) => ({
      ...r,
      frame: new Uint8Array(r.frame.buffer, r.frame.byteOffset, r.frame.length),
    }));
  }

  /** Every (sender, device, recipient) with frames in custody not acknowledged yet. */
  senderDevicesWithCustody(): CustodyKey[] {
    return this.stmt.custodyKeys.all() as CustodyKey[];
  }

  /** Discards custody past the age limit; returns how many frames went, per recipient. */
  expireCustody(now: number): Map<string, number> {
    this.stmt.releasedExpired.run(now - this.limits.maxAgeMs);
    const rows = this.stmt.custodyExpired.all(now - this.limits.maxAgeMs) as {
      recipient: string;
      bytes: number;
    }[];
    const perUser = new Map<string, number>();
    for (const r of rows) {
      this.releaseCustody(r.recipient, r.bytes);
      perUser.set(r.recipient, (perUser.get(r.recipient) ?? 0) + 1);
    }
    return perUser;
  }

  private releaseCustody(user: string, bytes: number): void {
    const use = this.custodyUsage.get(user);
    if (use) {
      use.frames -= 1;
      use.bytes -= bytes;
      if (use.frames <= 0) this.custodyUsage.delete(user);
    }
    this.custodyTotalBytes -= bytes;
    this.custodyTotalFrames -= 1;
  }

  private releaseQueued(user: string, bytes: number): void {
    const use = this.usage.get(user);
    if (use) {
      use.frames -= 1;
      use.bytes -= bytes;
      if (use.frames <= 0) this.usage.delete(user);
    }
    this.totalBytes -= bytes;
    this.totalFrames -= 1;
  }

  close(): void {
    // Every data frame passes through the store (custody), so its checkpoints run on a
    // worker thread (checkpoints.ts); stop it before closing.
    this.checkpoints?.stop();
    this.db.close();
  }
}
