// libsignal's stores over the profile's SQLite, staged: a Signal operation (a session set
// up, a message encrypted or decrypted) reads through the stage to the database and writes
// only to the stage. The caller then commits the stage inside the transaction that writes the
// message the operation concerns, or drops it. libsignal's calls are asynchronous, and other
// work runs on the event loop meanwhile, so no SQLite transaction can stay open across one:
// staging is what makes "the ratchet moved" and "the message was written" one commit, and a
// kill -9 at any moment leaves both, or neither.
import type { Direction, IdentityKeyPair, PrivateKey } from '@signalapp/libsignal-client';
import {
  IdentityChange,
  IdentityKeyStore,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyRecord,
  PreKeyStore,
  ProtocolAddress,
  PublicKey,
  SessionRecord,
  SessionStore,
  SignedPreKeyRecord,
  SignedPreKeyStore,
} from '@signalapp/libsignal-client';
import { fromBase64, toBase64 } from '../../shared/protocol/account.ts';
import { statementCache, type Db } from '../store/database.ts';

/** The tables a stage writes, and the value each holds. */
type Table = 'session' | 'prekey' | 'signed' | 'kyber' | 'identity';

const SQL: Record<Table, { get: string; put: string; del: string }> = {
  session: {
    get: 'SELECT record AS v FROM signal_sessions WHERE address = ?',
    put: 'INSERT OR REPLACE INTO signal_sessions (address, record) VALUES (?, ?)',
    del: 'DELETE FROM signal_sessions WHERE address = ?',
  },
  prekey: {
    get: 'SELECT record AS v FROM signal_prekeys WHERE id = ?',
    put: 'INSERT OR REPLACE INTO signal_prekeys (id, record) VALUES (?, ?)',
    del: 'DELETE FROM signal_prekeys WHERE id = ?',
  },
  signed: {
    get: 'SELECT record AS v FROM signal_signed_prekeys WHERE id = ?',
    put: 'INSERT OR REPLACE INTO signal_signed_prekeys (id, record) VALUES (?, ?)',
    del: 'DELETE FROM signal_signed_prekeys WHERE id = ?',
  },
  kyber: {
    get: 'SELECT record AS v FROM signal_kyber_prekeys WHERE id = ?',
    put: 'INSERT OR REPLACE INTO signal_kyber_prekeys (id, record) VALUES (?, ?)',
    del: 'DELETE FROM signal_kyber_prekeys WHERE id = ?',
  },
  // Contacts' account identity keys, the table AccountBook keeps (first seen is trusted).
  identity: {
    get: 'SELECT identity_key AS v FROM identities WHERE user = ?',
    put: 'INSERT OR IGNORE INTO identities (user, identity_key, seen_at) VALUES (?, ?, unixepoch() * 1000)',
    del: 'DELETE FROM identities WHERE user = ?',
  },
};

/** A Strata device as libsignal addresses it (its device ids stop at 127; ours are u32). */
export function addressOf(user: string, device: number): ProtocolAddress {
  return ProtocolAddress.new(`${user}.${device}`, 1);
}

/** The user and device an address names. */
export function deviceOf(address: ProtocolAddress): { user: string; device: number } {
  const name = address.name();
  const dot = name.lastIndexOf('.');
  return { user: name.slice(0, dot), device: Number(name.slice(dot + 1)) };
}

/** Writes waiting for the transaction of the message they concern. */
export class Stage {
  private readonly writes = new Map<Table, Map<string | number, Uint8Array | string | null>>();

  has(table: Table, key: string | number): boolean {
    return this.writes.get(table)?.has(key) ?? false;
  }

  get(table: Table, key: string | number): Uint8Array | string | null | undefined {
    return this.writes.get(table)?.get(key);
  }

  put(table: Table, key: string | number, value: Uint8Array | string | null): void {
    let t = this.writes.get(table);
    if (!t) this.writes.set(table, (t = new Map()));
    t.set(key, value);
  }

  /** Writes everything staged: call inside the message's transaction. */
  apply(db: Db): void {
    const sql = statementCache(db);
    for (const [table, rows] of this.writes) {
      for (const [key, value] of rows) {
        if (value === null) sql(SQL[table].del).run(key);
        else sql(SQL[table].put).run(key, value);
      }
    }
  }
}

/** This device's side of the Signal protocol: its identity, registration id and stores. */
export class SignalStores {
  private readonly sql: ReturnType<typeof statementCache>;
  readonly identity: IdentityKeyPair;
  readonly registrationId: number;
  readonly user: string;
  /** Where the current operation's writes go; null outside one (reads see the database). */
  stage: Stage | null = null;
  /** Identity keys decoded, by user, with the stored text they were decoded from. */
  private readonly decoded = new Map<string, { text: string; key: PublicKey }>();

  readonly sessions: SessionStore;
  readonly identities: IdentityKeyStore;
  readonly prekeys: PreKeyStore;
  readonly signedPrekeys: SignedPreKeyStore;
  readonly kyberPrekeys: KyberPreKeyStore;

  constructor(db: Db, user: string, identity: IdentityKeyPair, registrationId: number) {
    this.sql = statementCache(db);
    this.user = user;
    this.identity = identity;
    this.registrationId = registrationId;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const s = this;
    this.sessions = new (class extends SessionStore {
      async saveSession(a: ProtocolAddress, r: SessionRecord): Promise<void> {
        s.write('session', a.toString(), r.serialize());
      }
      async getSession(a: ProtocolAddress): Promise<SessionRecord | null> {
        const v = s.read('session', a.toString());
        return v ? SessionRecord.deserialize(v as Uint8Array<ArrayBuffer>) : null;
      }
      async getExistingSessions(as: ProtocolAddress[]): Promise<SessionRecord[]> {
        return as.map((a) => {
          const v = s.read('session', a.toString());
          if (!v) throw new Error(`no session with ${a.toString()}`);
          return SessionRecord.deserialize(v as Uint8Array<ArrayBuffer>);
        });
      }
    })();
    this.identities = new (class extends IdentityKeyStore {
      async getIdentityKey(): Promise<PrivateKey> {
        return s.identity.privateKey;
      }
      async getLocalRegistrationId(): Promise<number> {
        return s.registrationId;
      }
      async saveIdentity(a: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
        const known = s.identityOf(deviceOf(a).user);
        if (known === null) s.write('identity', deviceOf(a).user, toBase64(key.serialize()));
        // A changed key is AccountBook's to record (with its notice); it is never trusted here.
        return known === null || known.equals(key)
          ? IdentityChange.NewOrUnchanged
          : IdentityChange.ReplacedExisting;
      }
      async isTrustedIdentity(a: ProtocolAddress, key: PublicKey, _d: Direction): Promise<boolean> {
        const known = s.identityOf(deviceOf(a).user);
        return known === null || known.equals(key);
      }
      async getIdentity(a: ProtocolAddress): Promise<PublicKey | null> {
        return s.identityOf(deviceOf(a).user);
      }
    })();
    this.prekeys = new (class extends PreKeyStore {
      async savePreKey(id: number, r: PreKeyRecord): Promise<void> {
        s.write('prekey', id, r.serialize());
      }
      async getPreKey(id: number): Promise<PreKeyRecord> {
        return PreKeyRecord.deserialize(s.need('prekey', id));
      }
      async removePreKey(id: number): Promise<void> {
        s.write('prekey', id, null);
      }
    })();
    this.signedPrekeys = new (class extends SignedPreKeyStore {
      async saveSignedPreKey(id: number, r: SignedPreKeyRecord): Promise<void> {
        s.write('signed', id, r.serialize());
      }
      async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
        return SignedPreKeyRecord.deserialize(s.need('signed', id));
      }
    })();
    this.kyberPrekeys = new (class extends KyberPreKeyStore {
      async saveKyberPreKey(id: number, r: KyberPreKeyRecord): Promise<void> {
        s.write('kyber', id, r.serialize());
      }
      async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
        return KyberPreKeyRecord.deserialize(s.need('kyber', id));
      }
      // The Kyber prekey is a last-resort key, kept after use (as Signal keeps its own).
      async markKyberPreKeyUsed(): Promise<void> {}
    })();
  }

  /** A user's account identity key as this device knows it (its own account's too). */
  identityOf(user: string): PublicKey | null {
    if (user === this.user) return this.identity.publicKey;
    const v = this.read('identity', user);
    if (typeof v !== 'string') return null;
    // Each Signal operation asks two or three times: the key is decoded once per value.
    const known = this.decoded.get(user);
    if (known?.text === v) return known.key;
    const bytes = fromBase64(v);
    if (!bytes) return null;
    const key = PublicKey.deserialize(bytes as Uint8Array<ArrayBuffer>);
    this.decoded.set(user, { text: v, key });
    return key;
  }

  hasSession(user: string, device: number): boolean {
    const address = `${user}.${device}.1`;
    if (this.stage?.has('session', address)) {
      return (this.stage.get('session', address) ?? null) !== null;
    }
    // Whether there is one, without reading the record.
    return this.sql('SELECT 1 FROM signal_sessions WHERE address = ?').get(address) !== undefined;
  }

  /** Forgets the session with a device (it left its account). Staged like any write. */
  dropSession(user: string, device: number): void {
    this.write('session', addressOf(user, device).toString(), null);
  }

  private read(table: Table, key: string | number): Uint8Array | string | null {
    if (this.stage?.has(table, key)) return this.stage.get(table, key) ?? null;
    const row = this.sql(SQL[table].get).get(key) as { v: Uint8Array | string } | undefined;
    return row?.v ?? null;
  }

  private need(table: Table, id: number): Uint8Array<ArrayBuffer> {
    const v = this.read(table, id);
    if (!(v instanceof Uint8Array)) throw new Error(`no ${table} prekey ${id}`);
    return v as Uint8Array<ArrayBuffer>;
  }

  private write(table: Table, key: string | number, value: Uint8Array | string | null): void {
    if (this.stage === null) throw new Error('a Signal store was written outside an operation');
    this.stage.put(table, key, value);
  }
}
