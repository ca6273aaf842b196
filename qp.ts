import { openDatabase } from '/work/main/src/core/store/database.ts';
import { mkdtempSync } from 'node:fs';
const db = openDatabase(mkdtempSync('/tmp/qp-'));
for (const q of [
`SELECT m.peer, coalesce(m.wire, m.body) AS body, m.segment_size AS size, m.segment_count AS count, f.path, f.size AS fileSize, f.mtime_ms AS mtimeMs, f.state AS fileState, k.key AS contentKey FROM messages m LEFT JOIN files f ON f.author = m.author AND f.author_device = m.author_device AND f.id = m.id LEFT JOIN content_keys k ON k.author = m.author AND k.author_device = m.author_device AND k.id = m.id WHERE m.author = ? AND m.author_device = ? AND m.id = ?`,
`SELECT author, author_device, id, peer, body, wire, segment_count, crypto FROM messages WHERE (crypto = 'seal' AND status = 'pending') OR (crypto = 'open' AND (body IS NOT NULL OR wire IS NOT NULL)) ORDER BY crypto DESC, id`,
]) { const st = db.prepare('EXPLAIN QUERY PLAN ' + q); const args = q.includes('?') ? ['a', 1, 2] : []; console.log(st.all(...args).map((r: any) => r.detail).join(' | ')); }
