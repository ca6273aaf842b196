// Devices' prekeys in the relay's database (docs/protocol.md, "Prekey bundles"): per device
// one set (registration id, signed prekey, last-resort Kyber prekey), replaced by each
// upload, and its one-time prekeys, at most MAX_ONE_TIME_PREKEYS, each served once and
// deleted in the same transaction that reads it (two askers never get the same one).
import type Database from 'better-sqlite3';
import { PREKEY_BATCH } from '../src/shared/protocol/index.ts';
import { transact } from '../src/node/transactions.ts';

/** One-time prekeys the relay keeps per device; an upload past it stores only what fits. */
export const MAX_ONE_TIME_PREKEYS = 2 * PREKEY_BATCH;

export interface SignedPrekey {
  id: number;
  key: Uint8Array;
  sig: Uint8Array;
}

export interface OneTimePrekey {
  id: number;
  key: Uint8Array;
}

export interface PrekeyUpload {
  registrationId: number;
  signed: SignedPrekey;
  kyber: SignedPrekey;
  oneTime: readonly OneTimePrekey[];
}

/** What one device's bundle holds; `oneTime` is null when none was left. */
export interface StoredBundle {
  device: number;
  registrationId: number;
  signed: SignedPrekey;
  kyber: SignedPrekey;
  oneTime: OneTimePrekey | null;
  /** One-time prekeys still held after this one was taken. */
  left: number;
}

interface SetRow {
  registrationId: number;
  signedId: number;
  signedKey: Uint8Array;
  signedSig: Uint8Array;
  kyberId: number;
  kyberKey: Uint8Array;
  kyberSig: Uint8Array;
}

export class PrekeyStore {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(db: Database.Database) {
    this.db = db;
    this.stmt = {
      putSet: db.prepare(
        `INSERT OR REPLACE INTO prekey_sets (user, device, registration_id, signed_id, signed_key,
           signed_sig, kyber_id, kyber_key, kyber_sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      set: db.prepare(
        `SELECT registration_id AS registrationId, signed_id AS signedId, signed_key AS signedKey,
           signed_sig AS signedSig, kyber_id AS kyberId, kyber_key AS kyberKey,
           kyber_sig AS kyberSig
         FROM prekey_sets WHERE user = ? AND device = ?`,
      ),
      addOneTime: db.prepare(
        'INSERT OR IGNORE INTO one_time_prekeys (user, device, id, key) VALUES (?, ?, ?, ?)',
      ),
      count: db
        .prepare('SELECT count(*) FROM one_time_prekeys WHERE user = ? AND device = ?')
        .pluck(),
      firstOneTime: db.prepare(
        'SELECT id, key FROM one_time_prekeys WHERE user = ? AND device = ? ORDER BY id LIMIT 1',
      ),
      deleteOneTime: db.prepare(
        'DELETE FROM one_time_prekeys WHERE user = ? AND device = ? AND id = ?',
      ),
      forgetSet: db.prepare('DELETE FROM prekey_sets WHERE user = ? AND device = ?'),
      forgetOneTime: db.prepare('DELETE FROM one_time_prekeys WHERE user = ? AND device = ?'),
      forgetUserSets: db.prepare('DELETE FROM prekey_sets WHERE user = ?'),
      forgetUserOneTime: db.prepare('DELETE FROM one_time_prekeys WHERE user = ?'),
    };
  }

  /**
   * Replaces the device's set and adds the one-time prekeys whose ids it does not hold yet,
   * as many as fit under MAX_ONE_TIME_PREKEYS; returns how many it holds now.
   */
  put(user: string, device: number, u: PrekeyUpload): number {
    return transact(
      this.db,
      () => {
        this.stmt.putSet.run(
          user,
          device,
          u.registrationId,
          u.signed.id,
          u.signed.key,
          u.signed.sig,
          u.kyber.id,
          u.kyber.key,
          u.kyber.sig,
        );
        let held = this.count(user, device);
        for (const p of u.oneTime) {
          if (held >= MAX_ONE_TIME_PREKEYS) break;
          held += this.stmt.addOneTime.run(user, device, p.id, p.key).changes;
        }
        return held;
      },
      'immediate',
    );
  }

  /** One-time prekeys held for the device (0 when it never published any). */
  count(user: string, device: number): number {
    return this.stmt.count.get(user, device) as number;
  }

  /**
   * The bundles of `user`'s `devices` that have published a set, in that order, each taking
   * (and deleting) one one-time prekey if one is left. One transaction for all of them.
   */
  take(user: string, devices: readonly number[]): StoredBundle[] {
    return transact(
      this.db,
      () => {
        const out: StoredBundle[] = [];
        for (const device of devices) {
          const set = this.stmt.set.get(user, device) as SetRow | undefined;
          if (!set) continue;
          const row = this.stmt.firstOneTime.get(user, device) as OneTimePrekey | undefined;
          if (row) this.stmt.deleteOneTime.run(user, device, row.id);
          out.push({
            device,
            registrationId: set.registrationId,
            signed: { id: set.signedId, key: bytes(set.signedKey), sig: bytes(set.signedSig) },
            kyber: { id: set.kyberId, key: bytes(set.kyberKey), sig: bytes(set.kyberSig) },
            oneTime: row ? { id: row.id, key: bytes(row.key) } : null,
            left: this.count(user, device),
          });
        }
        return out;
      },
      'immediate',
    );
  }

  /**
   * Deletes the prekeys of one device of `user`, or of all its devices. Runs inside the
   * caller's transaction when there is one (account-store.ts: a device leaving its account).
   */
  forget(user: string, device?: number): void {
    if (device === undefined) {
      this.stmt.forgetUserSets.run(user);
      this.stmt.forgetUserOneTime.run(user);
    } else {
      this.stmt.forgetSet.run(user, device);
      this.stmt.forgetOneTime.run(user, device);
    }
  }
}

function bytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}
