// Checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever
// commit crosses the threshold, with its fsyncs, and stalls that process for tens of
// milliseconds: the tail of every latency figure. A worker thread does them instead, on its
// own connection; if it cannot start or stops, the owner's automatic checkpoints come back.
import type Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import type { CheckpointerData } from './checkpoint-worker.ts';

/** SQLite's own default: checkpoint once the write-ahead log holds this many pages. */
export const AUTO_CHECKPOINT_PAGES = 1000;
/** How often the worker copies the write-ahead log into the database. */
const CHECKPOINT_INTERVAL_MS = 100;
/** The worker makes the write-ahead log start again once it holds this many pages. */
const WAL_RESTART_FRAMES = 16_384;
/** The write-ahead log is truncated back to this size after it has been checkpointed. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Where the worker's code is, seen from the module that starts it (`moduleUrl`): Node running
 * the sources finds checkpoint-worker.ts next to checkpoints.ts; the Electron main bundle
 * (out/main/index.js) finds the worker's own bundle, checkpoint-worker.js, next to it
 * (electron.vite.config.ts builds it as a second entry).
 */
export function checkpointWorkerUrl(moduleUrl: string): URL {
  const extension = new URL(moduleUrl).pathname.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./checkpoint-worker${extension}`, moduleUrl);
}

export interface BackgroundCheckpoints {
  /** The worker, while it runs (tests stop it to see the fallback). */
  readonly worker: Worker | null;
  /**
   * Settles once the worker has loaded and connected, or once checkpoints fell back to the
   * owner's connection: starting a thread costs a core some time, which a benchmark should
   * not count against what it measures.
   */
  readonly ready: Promise<void>;
  /** Stops the worker; settles once its connection is closed and the thread has exited. */
  stop(): Promise<void>;
}

/** Moves `db`'s checkpoints (its file is `file`) to a worker thread. */
export function checkpointInBackground(db: Database.Database, file: string): BackgroundCheckpoints {
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  let settle = () => {};
  const handle = {
    worker: null as Worker | null,
    ready: new Promise<void>((resolve) => (settle = resolve)),
    stop: () => Promise.resolve(),
  };
  const fallBack = () => {
    settle();
    if (!handle.worker || !db.open) return;
    handle.worker = null;
    db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  };
  try {
    handle.worker = new Worker(checkpointWorkerUrl(import.meta.url), {
      workerData: {
        file,
        intervalMs: CHECKPOINT_INTERVAL_MS,
        restartFrames: WAL_RESTART_FRAMES,
      } satisfies CheckpointerData,
    });
  } catch {
    settle();
    return handle;
  }
  handle.worker.unref();
  handle.worker.on('message', (message: { ready?: true; failed?: string }) => {
    if (message.ready === true) settle();
    else fallBack();
  });
  handle.worker.on('error', fallBack);
  handle.worker.on('exit', fallBack);
  db.pragma('wal_autocheckpoint = 0');
  handle.stop = () => {
    const worker = handle.worker;
    handle.worker = null;
    if (!worker) return Promise.resolve();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Held by the thread until it has exited: one waiting on this must not find the event
    // loop empty (a process would end with its await unsettled).
    worker.ref();
    worker.postMessage('close');
    return exited;
  };
  return handle;
}
