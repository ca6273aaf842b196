// One transaction function per database, used again and again. better-sqlite3's
// db.transaction(fn) builds four wrapper functions and defines five properties on each at
// every call: 13 to 20 µs here, more than a small transaction itself takes (7 µs). The hot
// paths open one per event (a burst of segments stored, acks recorded, a frame held by the
// relay), so they go through this instead.
import type Database from 'better-sqlite3';

type Runner = Database.Transaction<(fn: () => unknown) => unknown>;
const runners = new WeakMap<Database.Database, Runner>();

/** `deferred` begins with BEGIN; `immediate` takes the write lock at once. */
export type TransactionMode = 'deferred' | 'immediate';

/**
 * Runs `fn` in a transaction of `db` (a savepoint when one is open already), and returns what
 * it returns; rolls back and rethrows if it throws.
 */
export function transact<T>(
  db: Database.Database,
  fn: () => T,
  mode: TransactionMode = 'deferred',
): T {
  let runner = runners.get(db);
  if (runner === undefined) {
    runner = db.transaction((f: () => unknown) => f());
    runners.set(db, runner);
  }
  return (mode === 'immediate' ? runner.immediate(fn) : runner(fn)) as T;
}
