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
    (...r) => void sent.push(r),
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

  it('sealed ones stay until they are on their way, and go again if sealing failed', async () => {
    db = openDatabase(mkdtempSync(join(tmpdir(), 'strata-receipts-')));
    const tries: string[] = [];
    let seal = (): Promise<void> => Promise.reject(new Error('the relay is not reachable'));
    const receipts = new FileReceipts(
      db,
      (to, _device, _ids, kind) => {
        tries.push(`${to}:${kind}`);
        return seal();
      },
      () => true,
    );
    receipts.post('bob', 3, 10, 'proceed');
    await Promise.resolve();
    seal = () => Promise.resolve();
    receipts.flush();
    await new Promise((resolve) => setImmediate(resolve));
    receipts.flush();
    expect(tries).toEqual(['bob:proceed', 'bob:proceed']);
    expect(db.prepare('SELECT COUNT(*) AS n FROM file_receipts').get()).toEqual({ n: 0 });
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
      (...r) => void sent.push(r),
      () => true,
    ).flush();
    expect(sent).toEqual([['alice', 1, [7], 'delivered']]);
  });
});
