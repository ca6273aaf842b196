// The engine's SQLite database (better-sqlite3, WAL): profile, messages and the transport's
// segment state at both ends. Migrations are numbered and run in order, each in a
// transaction; PRAGMA user_version records how far a database has come.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointInBackground, type BackgroundCheckpoints } from '../../node/checkpoints.ts';
import { transact } from '../../node/transactions.ts';

export type Db = Database.Database & { checkpoints?: BackgroundCheckpoints };

/** Each entry upgrades the schema from its index to the next version. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;

  -- Every message, both directions. For incoming messages body is NULL until all segments
  -- are in; the segments wait in in_segments meanwhile.
  CREATE TABLE messages (
    author TEXT NOT NULL,
    author_device INTEGER NOT NULL,
    id INTEGER NOT NULL,
    peer TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    body BLOB,
    segment_count INTEGER NOT NULL,
    segment_size INTEGER NOT NULL,
    status TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    error INTEGER NOT NULL DEFAULT 0,
    idle_passes INTEGER NOT NULL DEFAULT 0,
    read INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (author, author_device, id)
  ) STRICT;
  CREATE INDEX messages_by_peer ON messages (peer, id);
  CREATE INDEX messages_incomplete ON messages (direction, body) WHERE body IS NULL;

  -- Sender side: which segments of our own messages the peer and the relay hold.
  CREATE TABLE out_segments (
    message_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    held INTEGER NOT NULL DEFAULT 0,
    acked INTEGER NOT NULL DEFAULT 0,
    sends INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, idx)
  ) STRICT, WITHOUT ROWID;

  -- Receiver side: segments of incomplete incoming messages.
  CREATE TABLE in_segments (
    author TEXT NOT NULL,
    author_device INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (author, author_device, message_id, idx)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE peers (
    name TEXT PRIMARY KEY,
    online INTEGER NOT NULL DEFAULT 0,
    devices INTEGER NOT NULL DEFAULT 0,
    last_seen INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  `,
  // 2: files. A file message's row in messages holds its header as its body; the bytes live on
  // disk: the sender's own file (path), or the receiver's partial file and then the final one.
  `
  CREATE TABLE files (
    author TEXT NOT NULL,
    author_device INTEGER NOT NULL,
    id INTEGER NOT NULL,
    -- The source (sender), the partial file and then the final file (receiver).
    path TEXT NOT NULL,
    -- Sender: the source's size and mtime when sent, to notice a file that changed.
    size INTEGER NOT NULL DEFAULT -1,
    mtime_ms REAL NOT NULL DEFAULT 0,
    -- Receiver: the header (name, size, type, sha256) once segment 0 is in, as JSON.
    header TEXT,
    state TEXT NOT NULL CHECK (state IN
      ('sending', 'paused', 'receiving', 'verifying', 'done', 'failed', 'cancelled')),
    error TEXT,
    PRIMARY KEY (author, author_device, id)
  ) STRICT;

  -- Receiver side: which segments of an incoming file are written to its partial file.
  CREATE TABLE in_file_segments (
    author TEXT NOT NULL,
    author_device INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (author, author_device, message_id, idx)
  ) STRICT, WITHOUT ROWID;
  `,
  // 3: where a verified incoming file is being saved, recorded before it is moved there, so
  // that a crash between the move and the commit of 'done' finds it there on the next start.
  `
  ALTER TABLE files ADD COLUMN saving_to TEXT;
  `,
  // 4: who cancelled a file (either end can), whether the sender of an incoming file has
  // paused it, and the receipts about files still to be sent (a connection that is down must
  // not lose them: the peer would wait forever).
  `
  ALTER TABLE files ADD COLUMN cancelled_by TEXT CHECK (cancelled_by IN ('sender', 'receiver'));
  ALTER TABLE files ADD COLUMN sender_paused INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE file_receipts (
    to_user TEXT NOT NULL,
    message_device INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (to_user, message_device, message_id)
  ) STRICT;
  `,
  // 5: contacts' account identity keys as last seen (first seen is trusted), and the notices
  // a change of one leaves in that conversation.
  `
  CREATE TABLE identities (
    user TEXT PRIMARY KEY,
    identity_key TEXT NOT NULL,
    seen_at INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE notices (
    peer TEXT NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
  ) STRICT;
  CREATE INDEX notices_by_peer ON notices (peer, at);
  `,
  // 6: end-to-end encryption (src/core/crypto). A message's `wire` is what crosses the relay
  // when it differs from its body (our sealed messages); `crypto` says what is still to do:
  // 'seal' (ours, accepted, not sealed yet) or 'open' (received sealed, not opened yet).
  // `hidden`: a carrier between our own devices (history for a linked device), never shown.
  // libsignal's stores, the content keys of files (their chunks are sealed with them), and
  // the device lists of the accounts we write to.
  `
  ALTER TABLE messages ADD COLUMN wire BLOB;
  ALTER TABLE messages ADD COLUMN crypto TEXT CHECK (crypto IN ('seal', 'open'));
  ALTER TABLE messages ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX messages_crypto ON messages (crypto) WHERE crypto IS NOT NULL;
  CREATE TABLE content_keys (
    author TEXT NOT NULL,
    author_device INTEGER NOT NULL,
    id INTEGER NOT NULL,
    key BLOB NOT NULL,
    PRIMARY KEY (author, author_device, id)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE signal_sessions (address TEXT PRIMARY KEY, record BLOB NOT NULL) STRICT;
  CREATE TABLE signal_prekeys (id INTEGER PRIMARY KEY, record BLOB NOT NULL) STRICT;
  CREATE TABLE signal_signed_prekeys (id INTEGER PRIMARY KEY, record BLOB NOT NULL) STRICT;
  CREATE TABLE signal_kyber_prekeys (id INTEGER PRIMARY KEY, record BLOB NOT NULL) STRICT;
  CREATE TABLE signal_devices (user TEXT PRIMARY KEY, devices TEXT NOT NULL) STRICT;
  `,
  // 7: the contacts whose safety number the user verified, with the identity key it was
  // verified against: a different current key (identities) blocks sending until accepted.
  `
  CREATE TABLE verified (
    user TEXT PRIMARY KEY,
    identity_key TEXT NOT NULL,
    verified_at INTEGER NOT NULL
  ) STRICT;
  `,
  // 8: each peer's contact state as the user set it (without a row: accepted
  // when we ever wrote to them, else a message request); an incoming file held for the user's
  // word (`held`: 'request' until the contact is accepted, 'size' when over the auto-download
  // size), and one of ours the recipient asked us to hold (`peer_held` 1, its state 'paused';
  // 2 once it asked us to go on).
  `
  CREATE TABLE contacts (
    user TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('accepted', 'blocked')),
    at INTEGER NOT NULL
  ) STRICT;
  ALTER TABLE files ADD COLUMN held TEXT CHECK (held IN ('request', 'size'));
  ALTER TABLE files ADD COLUMN peer_held INTEGER NOT NULL DEFAULT 0;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The profile folder and its database files: the device's private keys live there. */
export const PROFILE_DIR_MODE = 0o700;
export const PROFILE_FILE_MODE = 0o600;

export function openDatabase(profileDir: string): Db {
  mkdirSync(profileDir, { recursive: true, mode: PROFILE_DIR_MODE });
  chmodSync(profileDir, PROFILE_DIR_MODE);
  const file = join(profileDir, 'strata.db');
  // SQLite gives the WAL and shared-memory files the main file's mode: create it private.
  closeSync(openSync(file, 'a', PROFILE_FILE_MODE));
  const db: Db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL survives a crash of the process (SIGKILL), which is what the
    // transport's promises rest on; only a power cut can lose the last transactions.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db);
    // An older profile's files (or an umask that widened them) are made private too.
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      if (existsSync(f)) chmodSync(f, PROFILE_FILE_MODE);
    }
  } catch (e) {
    db.close();
    throw e;
  }
  db.checkpoints = checkpointInBackground(db, file);
  return db;
}

/**
 * Closes `db` at once; the promise settles when its checkpoint worker has closed its own
 * connection too, after which the profile's files may be removed or reopened elsewhere.
 */
export function closeDatabase(db: Db): Promise<void> {
  const stopped = db.checkpoints?.stop() ?? Promise.resolve();
  db.close();
  return stopped;
}

export function migrate(db: Db, migrations: readonly string[] = MIGRATIONS): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `this profile's database is from a newer Strata (schema ${current}; this one knows ${migrations.length})`,
    );
  }
  for (let v = current; v < migrations.length; v++) {
    transact(db, () => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    });
  }
}

/** Keeps one value of the profile's `meta` table (settings, the clock...). */
export function saveMeta(db: Db, key: string, value: string): void {
  statementCache(db)('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
}

/** Prepares each SQL text once: preparing is far dearer than running. */
export function statementCache(db: Db): (sql: string) => Database.Statement {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  const statements = cache;
  return (sql) => {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  };
}

/** One cache of prepared statements per database, whoever asks for it and how often. */
const caches = new WeakMap<Db, Map<string, Database.Statement>>();
