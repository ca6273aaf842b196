// The SQL of the relay's store (store.ts), prepared once per database: users, the offline
// queue and custody.
import type Database from 'better-sqlite3';

export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
  return {
    upsertUser: db.prepare(
      `INSERT INTO users (name, first_seen, last_seen) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen`,
    ),
    touchUser: db.prepare('UPDATE users SET last_seen = ? WHERE name = ?'),
    users: db.prepare('SELECT name, last_seen AS lastSeen FROM users ORDER BY name'),
    enqueue: db.prepare(
      'INSERT INTO queue (user, device, enqueued_at, type, sender, frame) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    pending: db.prepare(
      `SELECT id, type, sender, frame FROM queue WHERE user = ? AND (device = 0 OR device = ?) AND id > ?
       ORDER BY id LIMIT ?`,
    ),
    countFor: db.prepare(
      'SELECT count(*) AS n FROM queue WHERE user = ? AND (device = 0 OR device = ?)',
    ),
    remove: db.prepare(
      'DELETE FROM queue WHERE id = ? RETURNING user, sender, length(frame) AS bytes',
    ),
    expired: db.prepare(
      'DELETE FROM queue WHERE enqueued_at < ? RETURNING user, sender, length(frame) AS bytes',
    ),
    custodyExisting: db.prepare(
      `SELECT length(frame) AS bytes, transmission, acked FROM custody
       WHERE sender = ? AND sender_device = ? AND recipient = ? AND message_id = ? AND segment_index = ?`,
    ),
    custodyInsert: db.prepare(
      `INSERT INTO custody (sender, sender_device, recipient, recipient_device, message_id,
         segment_index, transmission, acked, stored_at, frame)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
       ON CONFLICT (sender, sender_device, recipient, message_id, segment_index) DO UPDATE
         SET transmission = excluded.transmission, frame = excluded.frame
         WHERE excluded.transmission > custody.transmission AND custody.acked = 0`,
    ),
    custodyAckedBytes: db.prepare(
      `SELECT coalesce(sum(length(frame)), 0) AS bytes FROM custody
       WHERE sender = ? AND sender_device = ? AND recipient = ? AND transmission BETWEEN ? AND ?
         AND acked = 0`,
    ),
    // An acknowledged frame is never sent again: its bytes go, its row stays until the
    // message is delivered. So a large file costs the relay its window, not its size.
    custodyAck: db.prepare(
      `UPDATE custody SET acked = 1, frame = X''
       WHERE sender = ? AND sender_device = ? AND recipient = ? AND transmission BETWEEN ? AND ?
         AND acked = 0`,
    ),
    custodySegmentAckedBytes: db.prepare(
      `SELECT coalesce(sum(length(frame)), 0) AS bytes FROM custody
       WHERE sender = ? AND sender_device = ? AND recipient = ? AND message_id = ?
         AND segment_index = ? AND acked = 0`,
    ),
    custodySegmentAck: db.prepare(
      `UPDATE custody SET acked = 1, frame = X''
       WHERE sender = ? AND sender_device = ? AND recipient = ? AND message_id = ?
         AND segment_index = ? AND acked = 0`,
    ),
    wasReleased: db.prepare(
      `SELECT 1 FROM custody_released
       WHERE sender = ? AND sender_device = ? AND recipient = ? AND message_id = ?`,
    ),
    rememberReleased: db.prepare(
      `INSERT OR REPLACE INTO custody_released
         (sender, sender_device, recipient, message_id, released_at) VALUES (?, ?, ?, ?, ?)`,
    ),
    releasedExpired: db.prepare('DELETE FROM custody_released WHERE released_at < ?'),
    custodyRelease: db.prepare(
      `DELETE FROM custody
       WHERE sender = ? AND sender_device = ? AND recipient = ? AND message_id = ?
       RETURNING length(frame) AS bytes`,
    ),
    custodyUnacked: db.prepare(
      `SELECT recipient_device AS recipientDevice, message_id AS messageId,
         segment_index AS segmentIndex, transmission, frame
       FROM custody WHERE sender = ? AND sender_device = ? AND recipient = ? AND acked = 0
       ORDER BY message_id, segment_index LIMIT ?`,
    ),
    custodyKeys: db.prepare(
      `SELECT DISTINCT sender, sender_device AS senderDevice, recipient FROM custody
       WHERE acked = 0 ORDER BY sender, sender_device, recipient`,
    ),
    custodyExpired: db.prepare(
      `DELETE FROM custody WHERE stored_at < ?
       RETURNING recipient, sender, length(frame) AS bytes`,
    ),
  };
}
