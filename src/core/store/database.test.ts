import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION, closeDatabase, migrate, openDatabase } from './database.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'strata-db-test-'));

describe('engine database', () => {
  it('creates the schema at the current version, in WAL mode', () => {
    const db = openDatabase(dir());
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    ).map((t) => t.name);
    expect(tables).toEqual(
      expect.arrayContaining(['meta', 'messages', 'out_segments', 'in_segments', 'peers']),
    );
    closeDatabase(db);
  });

  it('checkpoints on a worker thread, which says when it has started', async () => {
    const db = openDatabase(dir());
    await db.checkpoints!.ready;
    // Still on the worker (a failed start would have handed checkpoints back to db).
    expect(db.checkpoints!.worker).not.toBeNull();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    closeDatabase(db);
  });

  it('runs each migration once, in order, and keeps data across reopening', () => {
    const d = dir();
    const db = openDatabase(d);
    db.prepare("INSERT INTO meta (key, value) VALUES ('user', 'alice')").run();
    closeDatabase(db);
    const again = openDatabase(d);
    expect(again.prepare("SELECT value FROM meta WHERE key = 'user'").get()).toEqual({
      value: 'alice',
    });
    closeDatabase(again);
  });

  it('upgrades step by step, each step in its own transaction', () => {
    const db = new Database(':memory:');
    const steps = [
      'CREATE TABLE a (x INTEGER)',
      'ALTER TABLE a ADD COLUMN y INTEGER',
      'CREATE TABLE b (z)',
    ];
    migrate(db, steps.slice(0, 1));
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    migrate(db, steps);
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(db.prepare('INSERT INTO a (x, y) VALUES (1, 2)').run().changes).toBe(1);
    // A failing step leaves the database at the last good version.
    expect(() => migrate(db, [...steps, 'CREATE TABLE a (dup)'])).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(3);
  });

  it('refuses a database from a newer Strata with a clear message', () => {
    const d = dir();
    const db = openDatabase(d);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    closeDatabase(db);
    expect(() => openDatabase(d)).toThrow(/newer Strata/);
  });
});
