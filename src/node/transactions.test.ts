import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { transact } from './transactions.ts';

function table() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v INTEGER)');
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  const count = () => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  return { db, insert, count };
}

describe('transact', () => {
  it('commits what fn wrote and returns its value, in either mode', () => {
    const { db, insert, count } = table();
    expect(transact(db, () => insert.run(1).changes)).toBe(1);
    expect(transact(db, () => insert.run(2).changes, 'immediate')).toBe(1);
    expect(count()).toBe(2);
    expect(db.inTransaction).toBe(false);
  });

  it('rolls back everything fn wrote when it throws, and rethrows', () => {
    const { db, insert, count } = table();
    expect(() =>
      transact(db, () => {
        insert.run(1);
        throw new Error('no');
      }),
    ).toThrow('no');
    expect(count()).toBe(0);
    expect(db.inTransaction).toBe(false);
  });

  it('nests as a savepoint: an inner failure undoes only the inner writes', () => {
    const { db, insert, count } = table();
    transact(db, () => {
      insert.run(1);
      expect(() =>
        transact(db, () => {
          insert.run(2);
          throw new Error('inner');
        }),
      ).toThrow('inner');
      insert.run(3);
    });
    expect(db.prepare('SELECT v FROM t ORDER BY v').pluck().all()).toEqual([1, 3]);
    expect(count()).toBe(2);
  });

  it('keeps one runner per database', () => {
    const a = table();
    const b = table();
    transact(a.db, () => a.insert.run(1));
    transact(b.db, () => b.insert.run(1), 'immediate');
    expect([a.count(), b.count()]).toEqual([1, 1]);
  });
});
