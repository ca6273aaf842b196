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
import { PrekeyStore } from './prekey-store.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.ts';
import { checkpointInBackground, type BackgroundCheckpoints } from '../src/node/checkpoints.ts';
import { Ledger } from './store-usage.ts';
import { prepareStatements, type Statements } from './store-statements.ts';
import { transact } from '../src/node/transactions.ts';

export interface StoreLimits {
  /** Frames held per recipient user. */
  maxFramesPerUser: number;
  /** Bytes held per recipient user. */
  maxBytesPerUser: number;
  /** Bytes held in all. */
  maxBytesTotal: number;
  /** Frames older than this are discarded (and counted) rather than delivered. */
  maxAgeMs: number;
  /** Frames held from one sender, queued and in custody, for all of its recipients. */
  maxFramesPerSender: number;
  /** Bytes held from one sender, queued and in custody, for all of its recipients. */
  maxBytesPerSender: number;
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
  | {
      ok: false;
      reason: 'user-quota' | 'sender-quota' | 'store-full' | 'store-error';
      detail?: string;
    };

/** A queued frame as it leaves the queue, and one leaving custody: whose, and its size. */
type QueuedRow = { user: string; sender: string; bytes: number };
type HeldRow = { recipient: string; sender: string; bytes: number };

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

// Every write transaction here is BEGIN IMMEDIATE: it takes the write lock before it reads, so
// that a checkpoint on the worker thread makes it wait (busy_timeout) rather than fail with
// "database is locked" when a read snapshot would have to be upgraded to a write.
export class RelayStore {
  private readonly db: Database.Database;
  private readonly limits: StoreLimits;
  /** Queued frames and bytes per recipient. */
  private readonly usage = new Ledger();
  private totalBytes = 0;
  private totalFrames = 0;
  /** Frames and bytes in custody per recipient, checked against the same per-user limits. */
  private readonly custodyUsage = new Ledger();
  /** Frames and bytes per sender, queued and in custody together. */
  private readonly senders = new Ledger();
  private custodyTotalBytes = 0;
  private custodyTotalFrames = 0;
  private readonly stmt: Statements;
  private checkpoints: BackgroundCheckpoints | null = null;
  /** The accounts, in the same database (account-store.ts). */
  readonly accounts: AccountStore;
  /** The devices' prekeys, in the same database (prekey-store.ts). */
  readonly prekeys: PrekeyStore;

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
    this.prekeys = new PrekeyStore(this.db);
    this.accounts = new AccountStore(this.db, this.prekeys);
    this.limits = limits;
    this.stmt = prepareStatements(this.db);
    type Held = { user: string; sender: string; frames: number; bytes: number };
    const sums = (sql: string) => this.db.prepare(sql).all() as Held[];
    for (const r of sums(
      `SELECT user, sender, count(*) AS frames, sum(length(frame)) AS bytes FROM queue
       GROUP BY user, sender`,
    )) {
      this.usage.add(r.user, r.frames, r.bytes);
      this.senders.add(r.sender, r.frames, r.bytes);
      this.totalBytes += r.bytes;
      this.totalFrames += r.frames;
    }
    for (const r of sums(
      `SELECT recipient AS user, sender, count(*) AS frames, sum(length(frame)) AS bytes
       FROM custody GROUP BY recipient, sender`,
    )) {
      this.custodyUsage.add(r.user, r.frames, r.bytes);
      this.senders.add(r.sender, r.frames, r.bytes);
      this.custodyTotalBytes += r.bytes;
      this.custodyTotalFrames += r.frames;
    }
  }

  /** The limits per recipient and per sender, as a Ledger checks them. */
  private get perUser(): { frames: number; bytes: number } {
    return { frames: this.limits.maxFramesPerUser, bytes: this.limits.maxBytesPerUser };
  }
  private get perSender(): { frames: number; bytes: number } {
    return { frames: this.limits.maxFramesPerSender, bytes: this.limits.maxBytesPerSender };
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `relay database schema ${current} is newer than this relay understands (${SCHEMA_VERSION})`,
      );
    }
    for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
      transact(
        this.db,
        () => {
          this.db.exec(MIGRATIONS[v]!);
          this.db.pragma(`user_version = ${v}`);
        },
        'immediate',
      );
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
    if (!this.usage.fits(user, 1, frame.length, this.perUser))
      return { ok: false, reason: 'user-quota' };
    if (!this.senders.fits(route.sender, 1, frame.length, this.perSender))
      return { ok: false, reason: 'sender-quota' };
    if (this.totalBytes + this.custodyTotalBytes + frame.length > this.limits.maxBytesTotal) {
      return { ok: false, reason: 'store-full' };
    }
    try {
      this.stmt.enqueue.run(user, device, now, route.type, route.sender, frame);
    } catch (e) {
      // SQLITE_FULL, SQLITE_IOERR, a read-only file system: refuse the frame, keep the rest.
      return { ok: false, reason: 'store-error', detail: (e as Error).message };
    }
    this.usage.add(user, 1, frame.length);
    this.senders.add(route.sender, 1, frame.length);
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
    transact(
      this.db,
      () => {
        for (const id of ids) {
          const row = this.stmt.remove.get(id) as QueuedRow | undefined;
          if (row) this.releaseQueued(row);
        }
      },
      'immediate',
    );
  }

  /** Discards frames past the age limit; returns how many went, per recipient. */
  expire(now: number): Map<string, number> {
    const rows = this.stmt.expired.all(now - this.limits.maxAgeMs) as QueuedRow[];
    const perUser = new Map<string, number>();
    for (const r of rows) {
      this.releaseQueued(r);
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
   * has acknowledged the segment: then it is not written at all. The recipient's custody
   * is held to the per-user limits, the sender's custody and queue to the per-sender ones,
   * and all of it to the total; a row over a limit is refused on its own, the others kept.
   */
  holdBatch(rows: readonly CustodyRow[], now: number): EnqueueResult[] {
    const results: EnqueueResult[] = [];
    // Usage changes are applied only once the transaction has committed.
    const delta = new Ledger();
    const senderDelta = new Ledger();
    let deltaBytes = 0;
    let deltaFrames = 0;
    try {
      transact(
        this.db,
        () => {
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
            const room = (held: Ledger, key: string, max: typeof this.perUser, d: Ledger) =>
              addBytes <= 0 || held.fits(key, addFrames, addBytes, max, d);
            if (!room(this.custodyUsage, row.recipient, this.perUser, delta)) {
              results.push({ ok: false, reason: 'user-quota' });
              continue;
            }
            if (!room(this.senders, row.sender, this.perSender, senderDelta)) {
              results.push({ ok: false, reason: 'sender-quota' });
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
            delta.add(row.recipient, addFrames, addBytes);
            senderDelta.add(row.sender, addFrames, addBytes);
            deltaFrames += addFrames;
            deltaBytes += addBytes;
            results.push({ ok: true });
          }
        },
        'immediate',
      );
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
    this.custodyUsage.merge(delta);
    this.senders.merge(senderDelta);
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
      sender,
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
      sender,
      recipient,
      this.stmt.custodySegmentAckedBytes,
      this.stmt.custodySegmentAck,
      segments.map(([id, index]) => [sender, senderDevice, recipient, id, index]),
    );
  }

  private acknowledge(
    sender: string,
    recipient: string,
    bytesOf: Database.Statement,
    ack: Database.Statement,
    rows: readonly (readonly (string | number)[])[],
  ): number {
    let marked = 0;
    let freed = 0;
    transact(
      this.db,
      () => {
        for (const args of rows) {
          freed += (bytesOf.get(...args) as { bytes: number }).bytes;
          marked += ack.run(...args).changes;
        }
      },
      'immediate',
    );
    // Counted once committed.
    this.custodyUsage.add(recipient, 0, -freed);
    this.senders.add(sender, 0, -freed);
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
    transact(
      this.db,
      () => {
        for (const id of messageIds) {
          const rows = this.stmt.custodyRelease.all(sender, senderDevice, recipient, id) as {
            bytes: number;
          }[];
          for (const r of rows) sizes.push(r.bytes);
          // Only messages custody knew: a receipt naming anything else costs no row.
          if (rows.length > 0 || remember.has(id))
            this.stmt.rememberReleased.run(sender, senderDevice, recipient, id, now);
        }
      },
      'immediate',
    );
    // Counted once committed: a failed transaction deleted nothing.
    for (const bytes of sizes) this.releaseCustody({ recipient, sender, bytes });
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
    const rows = this.stmt.custodyExpired.all(now - this.limits.maxAgeMs) as HeldRow[];
    const perUser = new Map<string, number>();
    for (const r of rows) {
      this.releaseCustody(r);
      perUser.set(r.recipient, (perUser.get(r.recipient) ?? 0) + 1);
    }
    return perUser;
  }

  private releaseCustody({ recipient, sender, bytes }: HeldRow): void {
    this.custodyUsage.add(recipient, -1, -bytes);
    this.senders.add(sender, -1, -bytes);
    this.custodyTotalBytes -= bytes;
    this.custodyTotalFrames -= 1;
  }

  private releaseQueued({ user, sender, bytes }: QueuedRow): void {
    this.usage.add(user, -1, -bytes);
    this.senders.add(sender, -1, -bytes);
    this.totalBytes -= bytes;
    this.totalFrames -= 1;
  }

  /** Closes at once; settles when the checkpoint worker's connection is closed too. */
  close(): Promise<void> {
    // Every data frame passes through the store (custody), so its checkpoints run on a
    // worker thread (checkpoints.ts); stop it before closing.
    const stopped = this.checkpoints?.stop() ?? Promise.resolve();
    this.db.close();
    return stopped;
  }
}
