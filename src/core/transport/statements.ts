// The transport's prepared SQL, in one place: the tables it reads and writes are described in
// docs/transport.md ("State in SQLite"). The sender, the receiver and the facade share one set.
import type { Db } from '../store/database.ts';

/** Prepares every statement the transport runs, once per database. */
export function prepareStatements(db: Db) {
  return {
    insertMessage: db.prepare(
      `INSERT INTO messages (author, author_device, id, peer, direction, body, segment_count, segment_size, status, received, crypto)
       VALUES (@author, @authorDevice, @id, @peer, @direction, @body, @segmentCount, @segmentSize, @status, @received, @crypto)
       ON CONFLICT DO NOTHING`,
    ),
    insertOutSegment: db.prepare('INSERT INTO out_segments (message_id, idx) VALUES (?, ?)'),
    pendingOut: db.prepare(
      `SELECT m.id, m.peer, coalesce(m.wire, m.body) AS body, m.segment_size AS size,
              m.segment_count AS count, f.path, f.size AS fileSize, f.mtime_ms AS mtimeMs,
              f.state AS fileState, k.key AS contentKey
       FROM messages m
       LEFT JOIN files f ON f.author = m.author AND f.author_device = m.author_device AND f.id = m.id
       LEFT JOIN content_keys k ON k.author = m.author AND k.author_device = m.author_device AND k.id = m.id
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
    // One of our messages, its file and its file's content key: three lookups by key, which
    // cost a third of the same as one query with two left joins (measured).
    outMessage: db.prepare(
      `SELECT peer, coalesce(wire, body) AS body, segment_size AS size, segment_count AS count
       FROM messages WHERE author = ? AND author_device = ? AND id = ?`,
    ),
    outFile: db.prepare(
      `SELECT path, size AS fileSize, mtime_ms AS mtimeMs, state AS fileState
       FROM files WHERE author = ? AND author_device = ? AND id = ?`,
    ),
    outContentKey: db.prepare(
      'SELECT key FROM content_keys WHERE author = ? AND author_device = ? AND id = ?',
    ),
    sealMessage: db.prepare(
      `UPDATE messages SET wire = ?, segment_count = ?, segment_size = ?, crypto = NULL
       WHERE author = ? AND author_device = ? AND id = ?`,
    ),
    insertContentKey: db.prepare(
      'INSERT OR REPLACE INTO content_keys (author, author_device, id, key) VALUES (?, ?, ?, ?)',
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
    completeWhole: db.prepare(
      `UPDATE messages SET body = ?, received = 1, error = 0, idle_passes = 0
       WHERE author = ? AND author_device = ? AND id = ? AND body IS NULL`,
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
    arrivedIndices: db.prepare(
      `SELECT idx FROM in_segments WHERE author = @author AND author_device = @authorDevice
         AND message_id = @id
       UNION ALL
       SELECT idx FROM in_file_segments WHERE author = @author AND author_device = @authorDevice
         AND message_id = @id`,
    ),
    reserve: db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('transmission', ?)"),
    reserved: db.prepare("SELECT value FROM meta WHERE key = 'transmission'"),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
