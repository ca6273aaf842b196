// The relay's durable state in SQLite (WAL): the users it has seen, and frames held for
// devices that are offline. A frame is deleted only after it has been handed to a live
// connection, so a crash between the two delivers it again rather than losing it (the
// transport above drops duplicates).
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameTypeName } from '../src/shared/protocol/index.ts';

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

const SCHEMA_VERSION = 1;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE users (
      name TEXT PRIMARY KEY,
      first_seen INTEGER NOT NULL,
      last_seen INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE queue (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      user TEXT NOT NULL,
      device INTEGER NOT NULL,
      enqueued_at INTEGER NOT NULL,
      type TEXT NOT NULL,
      sender TEXT NOT NULL,
      frame BLOB NOT NULL
    ) STRICT;
    CREATE INDEX queue_by_user ON queue (user, id);
  `,
};

export class RelayStore {
  private readonly db: Database.Database;
  private readonly limits: StoreLimits;
  private readonly usage = new Map<string, { frames: number; bytes: number }>();
  private totalBytes = 0;
  private totalFrames = 0;
  private readonly stmt;

  constructor(dataDir: string, limits: StoreLimits) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'relay.db'));
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
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `relay database schema ${current} is newer than this relay understands (${SCHEMA_VERSION})`,
      );
    }
    for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v}`);
      })();
    }
  }

  get frames(): number {
    return this.totalFrames;
  }

  get bytes(): number {
    return this.totalBytes;
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
    if (this.totalBytes + frame.length > this.limits.maxBytesTotal) {
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
    this.db.transaction(() => {
      for (const id of ids) {
        const row = this.stmt.remove.get(id) as { user: string; bytes: number } | undefined;
        if (row) this.release(row.user, row.bytes);
      }
    })();
  }

  /** Discards frames past the age limit; returns how many went, per recipient. */
  expire(now: number): Map<string, number> {
    const rows = this.stmt.expired.all(now - this.limits.maxAgeMs) as {
      user: string;
      bytes: number;
    }[];
    const perUser = new Map<string, number>();
    for (const r of rows) {
      this.release(r.user, r.bytes);
      perUser.set(r.user, (perUser.get(r.user) ?? 0) + 1);
    }
    return perUser;
  }

  private release(user: string, bytes: number): void {
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
    this.db.close();
  }
}
