import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReceiptKind } from '../../shared/protocol/index.ts';
import { closeDatabase, openDatabase, type Db } from '../store/database.ts';
import { FileReceipts } from './receipts.ts';

let db: Db;
afterEach(() => closeDatabase(db));

function outbox() {
  db = openDatabase(mkdtempSync(join(tmpdir(), 'strata-receipts-')));
  const sent: [string, number, number[], ReceiptKind][] = [];
  let online = false;
  const receipts = new FileReceipts(
    db,
    (...r) => sent.push(r),
    () => online,
  );
  return { receipts, sent, connect: () => (online = true) };
}

describe('receipts about files', () => {
  it('wait for the connection, in order, and go once', () => {
    const { receipts, sent, connect } = outbox();
    receipts.post('bob', 3, 10, 'withdrawn');
    receipts.post('carol', 3, 11, 'paused');
    expect(sent).toEqual([]);
    connect();
    receipts.flush();
    expect(sent).toEqual([
      ['bob', 3, [10], 'withdrawn'],
      ['carol', 3, [11], 'paused'],
    ]);
    receipts.flush();
    expect(sent).toHaveLength(2);
  });

  it('a later receipt about the same file replaces one not sent yet', () => {
    const { receipts, sent, connect } = outbox();
    receipts.post('bob', 3, 10, 'paused');
    receipts.post('bob', 3, 10, 'resumed');
    connect();
    receipts.flush();
    expect(sent).toEqual([['bob', 3, [10], 'resumed']]);
  });

  it('outlive a restart', () => {
    const first = outbox();
    first.receipts.post('alice', 1, 7, 'delivered');
    const dir = db.name.replace(/\/strata\.db$/, '');
    closeDatabase(db);
    db = openDatabase(dir);
    const sent: unknown[] = [];
    new FileReceipts(
      db,
      (...r) => sent.push(r),
      () => true,
    ).flush();
    expect(sent).toEqual([['alice', 1, [7], 'delivered']]);
  });
});
