import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeDatabase, openDatabase, type Db } from '../store/database.ts';
import { PARTIAL_EXPIRY_MS, sweepPartials } from './partial-sweep.ts';

let db: Db;
afterEach(() => closeDatabase(db));

const NOW = Date.UTC(2026, 11, 3);

describe('the partial files sweep at start', () => {
  it('deletes partial files nothing owns and expires transfers idle too long', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-sweep-'));
    db = openDatabase(dir);
    const partial = join(dir, 'partial');
    mkdirSync(partial);
    const file = (name: string, ageMs: number) => {
      const path = join(partial, name);
      writeFileSync(path, 'bytes');
      const at = (NOW - ageMs) / 1000;
      utimesSync(path, at, at);
      return path;
    };
    const row = (id: number, path: string, state: string) =>
      db
        .prepare(
          `INSERT INTO files (author, author_device, id, path, state) VALUES ('alice', 1, ?, ?, ?)`,
        )
        .run(id, path, state);
    const fresh = file('fresh.part', 60_000);
    const stale = file('stale.part', PARTIAL_EXPIRY_MS + 60_000);
    const refused = file('refused.part', 1000); // its transfer failed; the file stayed
    const orphan = file('orphan.part', 1000); // no row at all
    const other = file('notes.txt', 1000); // not a partial file: left alone
    row(1, fresh, 'receiving');
    row(2, stale, 'receiving');
    row(3, refused, 'failed');

    const sweep = sweepPartials(db, partial, NOW);
    expect(sweep.orphans.sort()).toEqual([orphan, refused].sort());
    expect(sweep.expired).toEqual([{ author: 'alice', authorDevice: 1, id: 2, path: stale }]);
    expect([fresh, stale, refused, orphan, other].map((p) => existsSync(p))).toEqual([
      true,
      true,
      false,
      false,
      true,
    ]);
  });
});
