// The relay database's schema: numbered migrations, run in order by RelayStore, each in a
// transaction; PRAGMA user_version records how far a database has come.

export const SCHEMA_VERSION = 5;

export const MIGRATIONS: Record<number, string> = {
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
  // Custody: every data frame the relay accepted, kept until its recipient says the message
  // was delivered. One row per segment; a retransmission replaces the frame in place.
  2: `
    CREATE TABLE custody (
      sender TEXT NOT NULL,
      sender_device INTEGER NOT NULL,
      recipient TEXT NOT NULL,
      recipient_device INTEGER NOT NULL,
      message_id INTEGER NOT NULL,
      segment_index INTEGER NOT NULL,
      transmission INTEGER NOT NULL,
      acked INTEGER NOT NULL DEFAULT 0,
      stored_at INTEGER NOT NULL,
      frame BLOB NOT NULL,
      UNIQUE (sender, sender_device, recipient, message_id, segment_index)
    ) STRICT;
    CREATE INDEX custody_by_transmission ON custody (sender, sender_device, recipient, transmission)
      WHERE acked = 0;
    CREATE INDEX custody_unacked ON custody (sender, sender_device, recipient, message_id, segment_index)
      WHERE acked = 0;
    CREATE INDEX custody_by_age ON custody (stored_at);
  `,
  // Messages released from custody (their recipient said delivered, cancelled or refused),
  // remembered up to the age limit: a copy of one arriving later (a sender that restarted
  // before hearing of the receipt) needs no custody, and would otherwise never be released.
  3: `
    CREATE TABLE custody_released (
      sender TEXT NOT NULL,
      sender_device INTEGER NOT NULL,
      recipient TEXT NOT NULL,
      message_id INTEGER NOT NULL,
      released_at INTEGER NOT NULL,
      PRIMARY KEY (sender, sender_device, recipient, message_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX custody_released_by_age ON custody_released (released_at);
  `,
  // Accounts (docs/protocol.md, "Accounts"): a name bound to its identity key, the signed
  // device list as its exact bytes, each device's key (a removed device keeps its row, so that
  // its later hellos are told it was removed), and the pairs of users who have exchanged a
  // frame (who may see whose presence).
  4: `
    CREATE TABLE accounts (
      user TEXT PRIMARY KEY,
      identity_key BLOB NOT NULL,
      recovery_key BLOB NOT NULL,
      device_list BLOB NOT NULL,
      device_list_sig BLOB NOT NULL,
      version INTEGER NOT NULL,
      created INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE devices (
      user TEXT NOT NULL,
      device INTEGER NOT NULL,
      key BLOB NOT NULL,
      name TEXT NOT NULL,
      added INTEGER NOT NULL,
      last_seen INTEGER NOT NULL DEFAULT 0,
      removed INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (user, device)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE peers (
      a TEXT NOT NULL,
      b TEXT NOT NULL,
      PRIMARY KEY (a, b)
    ) STRICT, WITHOUT ROWID;
  `,
  // Prekeys (docs/protocol.md, "Prekey bundles"): each device's signed prekey and last-resort
  // Kyber prekey (replaced by each upload), and its one-time prekeys, each deleted when served.
  // Public data, bounded per device (prekey-store.ts); a device leaving its account takes its
  // rows with it in the same transaction.
  5: `
    CREATE TABLE prekey_sets (
      user TEXT NOT NULL,
      device INTEGER NOT NULL,
      registration_id INTEGER NOT NULL,
      signed_id INTEGER NOT NULL,
      signed_key BLOB NOT NULL,
      signed_sig BLOB NOT NULL,
      kyber_id INTEGER NOT NULL,
      kyber_key BLOB NOT NULL,
      kyber_sig BLOB NOT NULL,
      PRIMARY KEY (user, device)
    ) STRICT;
    CREATE TABLE one_time_prekeys (
      user TEXT NOT NULL,
      device INTEGER NOT NULL,
      id INTEGER NOT NULL,
      key BLOB NOT NULL,
      PRIMARY KEY (user, device, id)
    ) STRICT, WITHOUT ROWID;
  `,
};
