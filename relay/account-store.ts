// The accounts in the relay's database: each name's identity key, recovery key and signed
// device list, the devices' keys (removed devices included, marked), and the pairs of users
// who have exchanged frames. Every change that touches an account and its devices is one
// transaction: a crash leaves the old account or the new one, never half of each; a device
// that leaves its account loses its prekeys (prekey-store.ts) in that same transaction.
import type Database from 'better-sqlite3';
import type { PrekeyStore } from './prekey-store.ts';
import { transact } from '../src/node/transactions.ts';

export interface AccountRow {
  user: string;
  identityKey: Uint8Array;
  recoveryKey: Uint8Array;
  deviceList: Uint8Array;
  deviceListSig: Uint8Array;
  version: number;
  created: number;
}

export interface DeviceRow {
  device: number;
  key: Uint8Array;
  name: string;
  added: number;
  lastSeen: number;
  removed: boolean;
}

/** A device to add: its id, public key, name and when it joined. */
export type NewDevice = Pick<DeviceRow, 'device' | 'key' | 'name' | 'added'>;

export class AccountStore {
  private readonly db: Database.Database;
  private readonly prekeys: PrekeyStore;
  private readonly stmt;

  constructor(db: Database.Database, prekeys: PrekeyStore) {
    this.db = db;
    this.prekeys = prekeys;
    this.stmt = {
      account: db.prepare(
        `SELECT user, identity_key AS identityKey, recovery_key AS recoveryKey,
           device_list AS deviceList, device_list_sig AS deviceListSig, version, created
         FROM accounts WHERE user = ?`,
      ),
      insertAccount: db.prepare(
        `INSERT INTO accounts (user, identity_key, recovery_key, device_list, device_list_sig,
           version, created) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      replaceAccount: db.prepare(
        `UPDATE accounts SET identity_key = ?, recovery_key = ?, device_list = ?,
           device_list_sig = ?, version = ? WHERE user = ?`,
      ),
      setList: db.prepare(
        'UPDATE accounts SET device_list = ?, device_list_sig = ?, version = ? WHERE user = ? AND version = ?',
      ),
      device: db.prepare(
        `SELECT device, key, name, added, last_seen AS lastSeen, removed FROM devices
         WHERE user = ? AND device = ?`,
      ),
      devices: db.prepare(
        `SELECT device, key, name, added, last_seen AS lastSeen, removed FROM devices
         WHERE user = ? AND removed = 0 ORDER BY device`,
      ),
      putDevice: db.prepare(
        `INSERT OR REPLACE INTO devices (user, device, key, name, added, last_seen, removed)
         VALUES (?, ?, ?, ?, ?, 0, 0)`,
      ),
      removeDevice: db.prepare('UPDATE devices SET removed = 1 WHERE user = ? AND device = ?'),
      removeAll: db.prepare('UPDATE devices SET removed = 1 WHERE user = ?'),
      seen: db.prepare('UPDATE devices SET last_seen = ? WHERE user = ? AND device = ?'),
      addPeer: db.prepare('INSERT OR IGNORE INTO peers (a, b) VALUES (?, ?)'),
      peers: db.prepare('SELECT a, b FROM peers'),
    };
  }

  account(user: string): AccountRow | null {
    const row = this.stmt.account.get(user) as AccountRow | undefined;
    return row ? { ...row, ...bytesOf(row) } : null;
  }

  /** The device's row, removed or not; null if it was never on the account. */
  device(user: string, device: number): DeviceRow | null {
    const row = this.stmt.device.get(user, device) as RawDevice | undefined;
    return row ? deviceOf(row) : null;
  }

  /** The account's devices now on it. */
  devices(user: string): DeviceRow[] {
    return (this.stmt.devices.all(user) as RawDevice[]).map(deviceOf);
  }

  /** A new account and its first device; false if the name was taken meanwhile. */
  create(a: AccountRow, first: NewDevice): boolean {
    return transact(
      this.db,
      () => {
        if (this.stmt.account.get(a.user)) return false;
        this.stmt.insertAccount.run(
          a.user,
          a.identityKey,
          a.recoveryKey,
          a.deviceList,
          a.deviceListSig,
          a.version,
          a.created,
        );
        this.putDevice(a.user, first);
        return true;
      },
      'immediate',
    );
  }

  /** Recovery: new keys and list, every old device removed (and its prekeys), the new one added. */
  replace(a: Omit<AccountRow, 'created'>, first: NewDevice): void {
    transact(
      this.db,
      () => {
        this.stmt.replaceAccount.run(
          a.identityKey,
          a.recoveryKey,
          a.deviceList,
          a.deviceListSig,
          a.version,
          a.user,
        );
        this.stmt.removeAll.run(a.user);
        this.prekeys.forget(a.user);
        this.putDevice(a.user, first);
      },
      'immediate',
    );
  }

  /**
   * The next device list (version `from` + 1), adding `added` and removing `removed`; false
   * if the stored version is no longer `from` (another change came first).
   */
  changeList(
    user: string,
    from: number,
    list: Uint8Array,
    sig: Uint8Array,
    added: NewDevice | null,
    removed: readonly number[],
  ): boolean {
    return transact(
      this.db,
      () => {
        if (this.stmt.setList.run(list, sig, from + 1, user, from).changes !== 1) return false;
        if (added) this.putDevice(user, added);
        for (const d of removed) {
          this.stmt.removeDevice.run(user, d);
          this.prekeys.forget(user, d);
        }
        return true;
      },
      'immediate',
    );
  }

  touchDevice(user: string, device: number, now: number): void {
    this.stmt.seen.run(now, user, device);
  }

  /** Records that `a` and `b` exchanged a frame (stored once, in name order). */
  addPeers(a: string, b: string): void {
    const [x, y] = a < b ? [a, b] : [b, a];
    this.stmt.addPeer.run(x, y);
  }

  peers(): { a: string; b: string }[] {
    return this.stmt.peers.all() as { a: string; b: string }[];
  }

  private putDevice(user: string, d: NewDevice): void {
    this.stmt.putDevice.run(user, d.device, d.key, d.name, d.added);
  }
}

type RawDevice = Omit<DeviceRow, 'removed'> & { removed: number };

function deviceOf(r: RawDevice): DeviceRow {
  return { ...r, key: new Uint8Array(r.key), removed: r.removed !== 0 };
}

function bytesOf(r: AccountRow): Partial<AccountRow> {
  return {
    identityKey: new Uint8Array(r.identityKey),
    recoveryKey: new Uint8Array(r.recoveryKey),
    deviceList: new Uint8Array(r.deviceList),
    deviceListSig: new Uint8Array(r.deviceListSig),
  };
}
