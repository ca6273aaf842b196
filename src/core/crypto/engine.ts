// The Signal protocol for one device (docs/security.md): sessions set up from the relay's
// prekey bundles (PQXDH), every later message through the Double Ratchet, and the content
// key of each message sent to every device that should read it: the peer's devices and our
// own other devices, as their accounts' signed device lists name them. Operations run one at
// a time; each one's store writes are staged and committed by the caller's transaction
// (stores.ts), together with the message they concern.
import {
  CiphertextMessageType,
  PreKeySignalMessage,
  SignalMessage,
  processPreKeyBundle,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import type { IdentityKeyPair } from '@signalapp/libsignal-client';
import { randomInt } from 'node:crypto';
import {
  fromBase64,
  parseDeviceList,
  type AccountOf,
  type BundleWire,
} from '../../shared/protocol/account.ts';
import { PREKEY_LOW } from '../../shared/protocol/index.ts';
import { verifyDeviceList } from '../../node/account-keys.ts';
import { preKeyBundleOf } from '../../node/prekeys.ts';
import { statementCache, type Db } from '../store/database.ts';
import {
  keyMessage,
  newContentKey,
  openBody,
  parseSealed,
  readKeyMessage,
  sealBody,
  SealError,
  type ContentCipher,
  type KeyEntry,
  type SealAuthor,
} from './content.ts';
import { makePrekeys } from './prekeys.ts';
import { addressOf, SignalStores, Stage } from './stores.ts';
import { transact } from '../../node/transactions.ts';

/** What the engine asks of the relay, through the account connection (AccountBook). */
export interface Directory {
  /** The account's device list and the bundles of `devices` (all when undefined). */
  bundles(user: string, devices?: number[]): Promise<AccountOf<'bundles'>>;
  /** The account identity key of `user` as this device trusts it, asked for when unknown. */
  identityKey(user: string): Promise<Uint8Array | null>;
  /** Sends this device's prekeys to the relay. */
  /** Sends this device's prekeys to the relay (then, the first time, it may be written to). */
  publish(upload: AccountOf<'prekeys'>): void;
}

/** Sealing cannot go on now (the relay is away, an answer did not come): it is tried again. */
export class SealPending extends Error {
  override name = 'SealPending';
}

/** A message's author and id (content.ts: SealAuthor, with what is sealed). */
export type Author = SealAuthor;

export interface Sealed {
  wire: Uint8Array;
  contentKey: Uint8Array;
}

export interface Opened {
  body: Uint8Array;
  contentKey: Uint8Array;
  /** Its key came in a session's first (PQXDH) message: the author has heard nothing back. */
  preKey: boolean;
}

export class SignalEngine {
  readonly stores: SignalStores;
  readonly cipher: ContentCipher;
  private readonly db: Db;
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly me: { user: string; device: number };
  private readonly directory: Directory;
  /** The operation running, and those waiting behind it. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Accounts whose device list was fetched on this connection (a change resets one). */
  private readonly fresh = new Set<string>();
  /** Devices (`user.device`) whose bundle was asked for on this connection. */
  private readonly asked = new Set<string>();
  /** A batch of prekeys being made and published. */
  private replenishing: Promise<void> | null = null;
  /** A batch went to the relay on this connection, and its answer has not come. */
  private unanswered = false;

  constructor(
    db: Db,
    me: { user: string; device: number },
    identity: IdentityKeyPair,
    directory: Directory,
    cipher: ContentCipher = 'aes-256-gcm',
  ) {
    this.db = db;
    this.sql = statementCache(db);
    this.me = me;
    this.directory = directory;
    this.cipher = cipher;
    this.stores = new SignalStores(db, me.user, identity, this.registrationId());
  }

  /**
   * Runs one Signal operation after the ones before it: its store writes are staged, and
   * `commit` (synchronous) must apply them in the transaction that writes what they concern.
   */
  run<T>(op: () => Promise<T>, commit: (result: T, stage: Stage) => void): Promise<T> {
    const next = this.chain.then(async () => {
      const stage = new Stage();
      this.stores.stage = stage;
      try {
        const result = await op();
        commit(result, stage);
        return result;
      } finally {
        this.stores.stage = null;
      }
    });
    this.chain = next.catch(() => {});
    return next;
  }

  // ---------------------------------------------------------------------------------------
  // Prekeys

  /**
   * The relay holds `count` of our one-time prekeys: below PREKEY_LOW, a batch is added. A
   * count the relay sent before it had our last batch asks for nothing more: frames come in
   * order, and it answers each upload with what it then holds (a batch at least, so at least
   * PREKEY_LOW). A first start otherwise made two batches, as the welcome's count of 0 comes
   * while its first batch is being made; the second took its Signal operations for some 20 ms
   * just as its first message came.
   */
  prekeyCount(count: number): Promise<void> {
    if (count >= PREKEY_LOW) {
      this.unanswered = false;
      return Promise.resolve();
    }
    if (this.unanswered) return Promise.resolve();
    this.replenishing ??= this.addPrekeys().finally(() => (this.replenishing = null));
    return this.replenishing;
  }

  private async addPrekeys(): Promise<void> {
    const { upload } = await this.run(
      async () => {
        // Read inside the operation: one queued behind another continues after its batch.
        const first = Number(this.meta('prekey_next') ?? 1);
        const existing = {
          signed: await this.stores.signedPrekeys.getSignedPreKey(1).catch(() => null),
          kyber: await this.stores.kyberPrekeys.getKyberPreKey(1).catch(() => null),
        };
        return makePrekeys(this.stores, first, existing);
      },
      ({ nextId }, stage) =>
        transact(this.db, () => {
          stage.apply(this.db);
          this.setMeta('prekey_next', String(nextId));
        }),
    );
    this.unanswered = true;
    this.directory.publish(upload);
  }

  /** A device that never published its prekeys does so now (its first welcome). */
  publishIfNever(): void {
    if (this.meta('prekey_next') === null) void this.prekeyCount(0).catch(() => {});
  }

  /** Settles when the operations queued so far are over (or `timeoutMs` has passed). */
  async idle(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.chain,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  // ---------------------------------------------------------------------------------------
  // Device lists

  /** The connection to the relay came back: device lists are fetched again when needed. */
  reconnected(): void {
    this.fresh.clear();
    this.asked.clear();
    this.unanswered = false;
  }

  /** An account's device list changed (a device linked or removed). */
  devicesChanged(user: string): void {
    this.fresh.delete(user);
    for (const a of this.asked) if (a.startsWith(`${user}.`)) this.asked.delete(a);
  }

  /**
   * The devices of `user` to seal for (this device left out), each with a session where it
   * has published keys. The account's signed list is fetched once per connection (and after a
   * change), with the bundles of the devices that have no session in the same request: all of
   * them on a first contact. A device asked for once on this connection is not asked again
   * (it may never have published keys).
   */
  private async readyDevices(user: string, online: boolean): Promise<number[]> {
    const kept = this.sql('SELECT devices FROM signal_devices WHERE user = ?').get(user) as
      { devices: string } | undefined;
    let devices = kept ? (JSON.parse(kept.devices) as number[]) : null;
    const served: BundleWire[] = [];
    if (devices === null || (!this.fresh.has(user) && online)) {
      if (!online) throw new SealPending('the relay is not reachable');
      const without = devices?.filter((d) => !this.hasSession(user, d));
      const answer = await this.directory.bundles(user, without);
      devices = await this.checkedList(user, answer);
      served.push(...(answer.bundles ?? []));
      for (const b of served) this.asked.add(`${user}.${b.device}`);
      this.sql('INSERT OR REPLACE INTO signal_devices (user, devices) VALUES (?, ?)').run(
        user,
        JSON.stringify(devices),
      );
      this.fresh.add(user);
      this.dropSessionsOutside(user, devices);
    }
    const mine = devices.filter((d) => !(user === this.me.user && d === this.me.device));
    await this.startSessions(user, served);
    const notAsked = mine.filter(
      (d) => !this.hasSession(user, d) && !this.asked.has(`${user}.${d}`),
    );
    if (notAsked.length > 0 && online) {
      for (const d of notAsked) this.asked.add(`${user}.${d}`);
      await this.startSessions(user, (await this.directory.bundles(user, notAsked)).bundles ?? []);
    }
    return mine;
  }

  private hasSession(user: string, device: number): boolean {
    return (
      !(user === this.me.user && device === this.me.device) && this.stores.hasSession(user, device)
    );
  }

  /** Sessions with devices that left `user`'s list are dropped: they read nothing more. */
  private dropSessionsOutside(user: string, devices: number[]): void {
    const kept = this.sql(
      "SELECT address FROM signal_sessions WHERE address LIKE ? ESCAPE '\\'",
    ).all(`${user.replace(/[\\%_]/g, '\\$&')}.%`) as { address: string }[];
    for (const { address } of kept) {
      const device = Number(address.slice(user.length + 1, address.lastIndexOf('.')));
      if (!devices.includes(device)) this.stores.dropSession(user, device);
    }
  }

  /** Sets up a session from each bundle of a device that has none (PQXDH). */
  private async startSessions(user: string, bundles: BundleWire[]): Promise<void> {
    if (bundles.length === 0) return;
    const identity = await this.directory.identityKey(user);
    if (identity === null) return;
    for (const b of bundles) {
      if (this.hasSession(user, b.device)) continue;
      try {
        await processPreKeyBundle(
          preKeyBundleOf(b, identity),
          addressOf(user, b.device),
          addressOf(this.me.user, this.me.device),
          this.stores.sessions,
          this.stores.identities,
        );
      } catch {
        // A bundle its identity did not sign: that device is left out (it cannot read).
      }
    }
  }

  /** The device ids of a `bundles` answer's list, once its signature checks. */
  private async checkedList(user: string, answer: AccountOf<'bundles'>): Promise<number[]> {
    if (!answer.deviceList || !answer.deviceListSig) {
      // In the relay's own words for a recipient it does not know (unknownRecipient).
      throw new SealError(`no user "${user}" has ever connected to this relay`);
    }
    const identity = await this.directory.identityKey(user);
    const list = fromBase64(answer.deviceList)!;
    if (identity === null || !verifyDeviceList(identity, list, fromBase64(answer.deviceListSig)!)) {
      throw new SealPending(
        `${user}'s device list is not signed by the identity this device knows`,
      );
    }
    const parsed = parseDeviceList(list);
    if (parsed.user !== user) throw new SealError(`the relay sent another account's devices`);
    return parsed.devices.map((d) => d.id);
  }

  // ---------------------------------------------------------------------------------------
  // Sealing and opening

  /**
   * Seals `body` for `peer`'s devices and our own other devices (unless `own` is false).
   * Sessions are set up from bundles where there are none; sessions with devices no longer on
   * a list are dropped.
   */
  seal(
    author: Author,
    peer: string,
    body: Uint8Array,
    online: boolean,
    commit: (sealed: Sealed, stage: Stage) => void,
    own = true,
  ): Promise<Sealed> {
    return this.run(async () => {
      const users = peer === this.me.user || !own ? [peer] : [peer, this.me.user];
      const entries: KeyEntry[] = [];
      const contentKey = newContentKey();
      const plain = keyMessage(contentKey, author.id);
      for (const user of users) {
        const devices = await this.readyDevices(user, online);
        for (const device of devices) {
          if (!this.stores.hasSession(user, device)) continue;
          const c = await signalEncrypt(
            plain as Uint8Array<ArrayBuffer>,
            addressOf(user, device),
            addressOf(this.me.user, this.me.device),
            this.stores.sessions,
            this.stores.identities,
          );
          entries.push({ user, device, type: c.type(), ciphertext: c.serialize() });
        }
        if (user === peer && peer !== this.me.user && !entries.some((e) => e.user === peer)) {
          throw new SealPending(`${peer}'s devices have published no keys yet`);
        }
      }
      if (entries.length === 0)
        throw new SealPending('no other device of this account has keys yet');
      return { wire: sealBody(body, contentKey, entries, author, this.cipher), contentKey };
    }, commit);
  }

  /** Opens a sealed body sent by `author` to this device. */
  open(author: Author, wire: Uint8Array, commit: (opened: Opened, stage: Stage) => void) {
    return this.run(async () => {
      const sealed = parseSealed(wire);
      const mine = sealed.entries.find(
        (e) => e.user === this.me.user && e.device === this.me.device,
      );
      if (!mine) throw new SealError('it was not sealed for this device');
      const from = addressOf(author.user, author.device);
      const to = addressOf(this.me.user, this.me.device);
      const s = this.stores;
      const key =
        mine.type === CiphertextMessageType.PreKey
          ? await signalDecryptPreKey(
              PreKeySignalMessage.deserialize(mine.ciphertext as Uint8Array<ArrayBuffer>),
              from,
              to,
              s.sessions,
              s.identities,
              s.prekeys,
              s.signedPrekeys,
              s.kyberPrekeys,
            )
          : await signalDecrypt(
              SignalMessage.deserialize(mine.ciphertext as Uint8Array<ArrayBuffer>),
              from,
              to,
              s.sessions,
              s.identities,
            );
      const contentKey = readKeyMessage(key, author.id);
      return {
        body: openBody(sealed, contentKey, author, this.cipher),
        contentKey,
        preKey: mine.type === CiphertextMessageType.PreKey,
      };
    }, commit);
  }

  // ---------------------------------------------------------------------------------------

  private registrationId(): number {
    const kept = this.meta('registration_id');
    if (kept !== null) return Number(kept);
    const id = randomInt(1, 0x3fff + 1);
    this.setMeta('registration_id', String(id));
    return id;
  }

  private meta(key: string): string | null {
    const row = this.sql('SELECT value FROM meta WHERE key = ?').get(key) as
      { value: string } | undefined;
    return row?.value ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.sql('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
  }
}
