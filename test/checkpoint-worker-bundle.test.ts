// The Electron bundle of the host process (out/main/host-process.js, built by `npm run build`
// before the tests), which runs the core, carries the core's checkpoint worker as a file of its own. This runs that very file in a worker thread, as
// the bundle would, found the way the bundle finds it.
import Database from 'better-sqlite3';
import { existsSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { checkpointWorkerUrl } from '../src/node/checkpoints.ts';
import { tempDir } from './helpers/relay-process.ts';

const MAIN_BUNDLE = new URL('../out/main/host-process.js', import.meta.url);

describe('the bundled checkpoint worker', () => {
  it('sits next to the main bundle and checkpoints a database until told to close', async () => {
    const workerUrl = checkpointWorkerUrl(MAIN_BUNDLE.href);
    expect(fileURLToPath(workerUrl)).toBe(
      fileURLToPath(new URL('../out/main/checkpoint-worker.js', import.meta.url)),
    );
    expect(existsSync(workerUrl), 'run `npx electron-vite build` first').toBe(true);

    const file = join(tempDir('strata-checkpoint-'), 'test.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (v BLOB)');
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    for (let i = 0; i < 200; i++) insert.run(Buffer.alloc(4096, i));

    // Until a checkpoint, the rows are in the write-ahead log and the database file is small;
    // the worker's checkpoint copies them into it. Watch the file grow (the owner must not
    // checkpoint itself, so it only looks at the file's size).
    const copied = 200 * 4096;
    expect(statSync(file).size).toBeLessThan(copied);
    const checkpointed = new Promise<void>((resolve) => {
      const watcher = watch(file, () => {
        if (statSync(file).size < copied) return;
        watcher.close();
        resolve();
      });
    });
    const worker = new Worker(workerUrl, {
      workerData: { file, intervalMs: 10, restartFrames: 16_384 },
    });
    const failures: unknown[] = [];
    const ready = new Promise<unknown>((resolve) => worker.once('message', resolve));
    worker.on('error', (e) => failures.push(e));
    worker.on('message', (m: { ready?: true }) => {
      if (m.ready !== true) failures.push(m);
    });
    const failed = new Promise<never>((_, reject) =>
      worker.once('exit', (code) =>
        reject(new Error(`worker exited (${code}): ${String(failures)}`)),
      ),
    );
    // It says when it has loaded and connected (what a benchmark waits for).
    expect(await Promise.race([ready, failed])).toEqual({ ready: true });
    await Promise.race([checkpointed, failed]);
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    worker.postMessage('close');
    expect(await exited).toBe(0);
    expect(failures).toEqual([]);
    db.close();
  });
});
