// A worker thread that checkpoints a SQLite database (the relay's or an engine's): it copies
// what the write-ahead log holds into the database file, with the fsyncs that go with it, so
// that the owner's event loop never waits for them. The owner's connection turns its
// automatic checkpoints off while this runs (checkpoints.ts) and back on if it stops.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

export interface CheckpointerData {
  file: string;
  intervalMs: number;
  /** Past this many frames in the log, restart it (see below). */
  restartFrames: number;
}

const { file, intervalMs, restartFrames } = workerData as CheckpointerData;
const db = new Database(file);
// Short: RESTART holds the owner's writer back while it waits, and a busy checkpoint is
// simply tried again at the next interval.
db.pragma('busy_timeout = 100');
// Loaded and connected: the owner may count on background checkpoints from here on.
parentPort?.postMessage({ ready: true });

const timer = setInterval(() => {
  try {
    // PASSIVE never blocks the owner's readers or writer: it copies what it can and returns.
    const [done] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    // The log only starts again from its beginning when a write transaction begins after it
    // was copied completely, which a busy writer never lets a PASSIVE checkpoint achieve.
    // RESTART holds the writer back for the little that is left, then lets the log restart.
    if (done && done.log > restartFrames) db.pragma('wal_checkpoint(RESTART)');
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return;
    // Tell the owner and stop: it goes back to checkpointing on its own connection.
    clearInterval(timer);
    parentPort?.postMessage({ failed: (e as Error).message });
    db.close();
    parentPort?.close();
  }
}, intervalMs);

parentPort?.on('message', (message: unknown) => {
  if (message !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
