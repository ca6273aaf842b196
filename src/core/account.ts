// This device's account as the engine runs it: which hello answers the relay's challenge
// (register while the name is new, then the device's own proof), where the account stands
// after the relay's answer, link codes and the link requests they bring, the signed device
// list (listing and removing devices), and contacts' identity keys with the notice a change
// of one leaves. docs/accounts.md describes the flows; the Messenger delegates here.
import {
  checkLinkMac,
  keyFingerprint,
  linkCodeId,
  newLinkCode,
  sealProvision,
  signDeviceList,
  verifyDeviceList,
} from '../node/account-keys.ts';
import { deviceHello, registerHello } from '../node/hello-proof.ts';
import type {
  AccountState,
  AccountView,
  DeviceView,
  LinkCodeView,
  MessengerEvent,
  NoticeView,
} from '../shared/api.ts';
import {
  LINK_CODE_TTL_MS,
  encodeAccountMessage,
  encodeDeviceList,
  fromBase64,
  parseAccountMessage,
  parseDeviceList,
  toBase64,
  type AccountMessage,
  type AccountOf,
  type DeviceList,
} from '../shared/protocol/account.ts';
import {
  MAX_DEVICES,
  type AccountFrame,
  type ChallengeFrame,
  type ErrorCodeName,
  type HelloFrame,
} from '../shared/protocol/index.ts';
import type { RelayConnection } from './connection.ts';
import { MessengerError, RefusedError } from './errors.ts';
import {
  forgetRecoveryCode,
  pendingRecoveryCode,
  setAccountState,
  type Profile,
} from './profile.ts';
import { statementCache, type Db } from './store/database.ts';
import { transact } from '../node/transactions.ts';

/** How long a request to the relay (a link offer, the device list) waits for its answer. */
export const ACCOUNT_REQUEST_TIMEOUT_MS = 10_000;
/** How many contacts' identity keys one `identities` request asks for (the relay's limit). */
const IDENTITIES_PER_REQUEST = 512;

type Answer = 'link-offer' | 'devices' | 'identities' | 'bundles';

interface Pending {
  kind: Answer;
  codeId?: string;
  resolve: (m: AccountMessage) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface LinkRequest {
  codeId: string;
  code: string;
  deviceKey: Uint8Array;
  name: string;
}

export class AccountBook {
  private readonly db: Db;
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly profile: Profile;
  private readonly conn: RelayConnection;
  private readonly emit: (e: MessengerEvent) => void;
  /** Requests waiting for the relay's answer, oldest first (the relay answers in order). */
  private pending: Pending[] = [];
  /** Link codes this device offered and that have not expired: code by code id. */
  private readonly codes = new Map<string, { code: string; expiresAt: number }>();
  /** Link requests waiting for answerLink, by the new device's id. */
  private readonly requests = new Map<number, LinkRequest>();

  constructor(db: Db, profile: Profile, conn: RelayConnection, emit: (e: MessengerEvent) => void) {
    this.db = db;
    this.sql = statementCache(db);
    this.profile = profile;
    this.conn = conn;
    this.emit = emit;
  }

  get state(): AccountState {
    return this.profile.account;
  }

  view(): AccountView {
    const p = this.profile;
    return {
      user: p.user,
      device: p.device,
      deviceName: p.deviceName,
      state: p.account,
      identityFingerprint: keyFingerprint(p.keys.identity.publicKey),
      recoveryCodePending: pendingRecoveryCode(this.db) !== null,
      keysPublished: this.sql("SELECT 1 FROM meta WHERE key = 'prekey_next'").get() !== undefined,
    };
  }

  /** The hello that answers `challenge`: registering while the name is not yet ours. */
  hello(challenge: ChallengeFrame): HelloFrame {
    const p = this.profile;
    if ((p.account === 'new' || p.account === 'name-taken') && p.keys.recoveryKey !== null) {
      return registerHello(
        {
          user: p.user,
          device: p.device,
          deviceName: p.deviceName,
          deviceKey: p.keys.device,
          identity: p.keys.identity,
          recoveryKey: p.keys.recoveryKey,
          now: Date.now(),
        },
        challenge,
      );
    }
    return deviceHello(p.user, p.device, p.keys.device, challenge);
  }

  /** Welcomed: a registering profile now has its account; contacts' keys are checked. */
  onWelcome(): void {
    if (this.profile.account !== 'registered') this.setState('registered');
    this.askIdentities();
  }

  /** The relay refused this device for good; returns what to tell the user. */
  onRefused(code: ErrorCodeName, text: string): string {
    const { user } = this.profile;
    if (code === 'nameTaken') {
      this.setState('name-taken');
      return `the name ${user} is taken on this relay: log in under another name`;
    }
    if (code === 'deviceRemoved') {
      this.setState('removed');
      return `this device was removed from ${user}'s account (unlinked, or the account was recovered on another device)`;
    }
    if (this.profile.account === 'registered' || this.profile.account === 'unknown') {
      this.setState('unknown');
      return `the relay does not know this device of ${user}; it may have lost its accounts (${text})`;
    }
    return `the relay refused ${user}: ${text}`;
  }

  /** The link is down: nothing waiting for an answer will get one. */
  onOffline(): void {
    this.failPending(new MessengerError('the connection to the relay was lost'));
  }

  /**
   * The relay is limiting our rate: bundle requests waiting fail now rather than at their
   * timeout (the relay answers none over its limit); their seals are tried again later.
   */
  onRateLimited(text: string): void {
    const waiting = this.pending.filter((p) => p.kind === 'bundles');
    this.pending = this.pending.filter((p) => p.kind !== 'bundles');
    for (const p of waiting) {
      clearTimeout(p.timer);
      p.reject(new MessengerError(`the relay limits requests for now: ${text}`));
    }
  }

  /** The relay refused an account frame of ours: the oldest request waiting gets the reason. */
  onAccountRefused(text: string): void {
    const first = this.pending.shift();
    if (!first) return;
    clearTimeout(first.timer);
    first.reject(new RefusedError(`the relay refused: ${text}`));
  }

  onFrame(frame: AccountFrame): void {
    const m = parseAccountMessage(frame.body);
    if (m instanceof Error) return;
    switch (m.kind) {
      case 'link-offer':
        this.answered('link-offer', m, m.codeId);
        return;
      case 'devices':
        this.answered('devices', m);
        return;
      case 'link-request':
        this.onLinkRequest(m);
        return;
      case 'identities':
        this.onIdentities(m.entries ?? []);
        for (const e of m.entries ?? []) this.answered('identities', m, e.user);
        return;
      case 'bundles':
        this.answered('bundles', m, m.user);
        return;
      case 'prekey-count':
        this.crypto?.prekeyCount(m.count);
        return;
      case 'devices-changed':
        this.crypto?.devicesChanged(m.user);
        return;
    }
  }

  // ---------------------------------------------------------------------------------------
  // The Signal engine's directory (src/core/crypto/engine.ts): bundles, identity keys, prekeys

  /** Where prekey counts and device-list changes go (the Signal engine). */
  crypto: { prekeyCount(count: number): void; devicesChanged(user: string): void } | null = null;

  /** `user`'s signed device list and the bundles of `devices` (all when undefined). */
  async bundles(user: string, devices?: number[]): Promise<AccountOf<'bundles'>> {
    const m: AccountOf<'bundles'> = { kind: 'bundles', user, ...(devices ? { devices } : {}) };
    return (await this.request(m, 'bundles', user)) as AccountOf<'bundles'>;
  }

  /** The account identity key this device trusts for `user`, asked for when unknown. */
  async identityKey(user: string): Promise<Uint8Array | null> {
    if (user === this.profile.user) return this.profile.keys.identity.publicKey;
    const known = () =>
      this.sql('SELECT identity_key FROM identities WHERE user = ?').get(user) as
        { identity_key: string } | undefined;
    let row = known();
    if (!row) {
      await this.hasAccount(user);
      row = known();
    }
    return row ? fromBase64(row.identity_key) : null;
  }

  /** Sends this device's prekeys to the relay. */
  publishPrekeys(upload: AccountOf<'prekeys'>): void {
    this.sendAccount(upload);
  }

  pendingRecoveryCode(): string | null {
    return pendingRecoveryCode(this.db);
  }

  acknowledgeRecoveryCode(): AccountView {
    forgetRecoveryCode(this.db);
    const view = this.view();
    this.emit({ type: 'account', account: view });
    return view;
  }

  // ---------------------------------------------------------------------------------------
  // Linking: this device offers a code; a new device that typed it asks to join.

  async createLinkCode(): Promise<LinkCodeView> {
    this.requireRegistered();
    const code = newLinkCode();
    const codeId = toBase64(linkCodeId(code));
    const answer = (await this.request(
      { kind: 'link-offer', codeId },
      'link-offer',
      codeId,
    )) as AccountOf<'link-offer'>;
    const expiresAt = answer.expiresAt ?? Date.now() + LINK_CODE_TTL_MS;
    this.codes.set(codeId, { code, expiresAt });
    setTimeout(() => this.codes.delete(codeId), Math.max(0, expiresAt - Date.now())).unref();
    return { code, expiresAt };
  }

  private onLinkRequest(m: AccountOf<'link-request'>): void {
    const offered = this.codes.get(m.codeId);
    const deviceKey = fromBase64(m.deviceKey)!;
    const mac = fromBase64(m.mac);
    // The relay cannot make the MAC: only a device given the code can. Anything else (the
    // relay guessing, a code that expired here) is declined without asking anyone.
    if (!offered || mac === null || !checkLinkMac(offered.code, deviceKey, m.name, mac)) {
      this.sendAccount({ kind: 'link-decline', codeId: m.codeId });
      return;
    }
    this.codes.delete(m.codeId);
    this.requests.set(m.device, { codeId: m.codeId, code: offered.code, deviceKey, name: m.name });
    this.emit({
      type: 'link-request',
      request: { device: m.device, name: m.name, fingerprint: keyFingerprint(deviceKey) },
    });
  }

  /**
   * Lets the requesting device in (the next device list, signed, and the account's keys
   * sealed for it and the code) or turns it away. Resolves with the new device once the
   * relay's list has it (accept), or null (decline).
   */
  async answerLink(device: number, accept: boolean): Promise<DeviceView | null> {
    const req = this.requests.get(device);
    if (!req) throw new MessengerError(`no device ${device} is asking to join`);
    this.requests.delete(device);
    if (!accept) {
      this.sendAccount({ kind: 'link-decline', codeId: req.codeId });
      return null;
    }
    const { list } = await this.currentList();
    if (list.devices.length >= MAX_DEVICES) {
      this.sendAccount({ kind: 'link-decline', codeId: req.codeId });
      throw new MessengerError(`an account has at most ${MAX_DEVICES} devices`);
    }
    const next = encodeDeviceList({
      ...list,
      version: list.version + 1,
      devices: [
        ...list.devices,
        { id: device, key: toBase64(req.deviceKey), name: req.name, added: Date.now() },
      ],
    });
    const { identity } = this.profile.keys;
    const provision = sealProvision(req.code, req.deviceKey, {
      user: this.profile.user,
      identity: identity.serialize(),
    });
    this.sendAccount({
      kind: 'link-accept',
      codeId: req.codeId,
      deviceList: toBase64(next),
      deviceListSig: toBase64(signDeviceList(identity, next)),
      provision: toBase64(provision),
    });
    // The relay takes frames in order: the list asked for now shows whether it took the new one.
    const joined = (await this.devices()).find((d) => d.device === device) ?? null;
    if (joined === null) throw new MessengerError(`the relay did not add device ${device}`);
    this.emit({ type: 'device-linked', device: joined });
    return joined;
  }

  // ---------------------------------------------------------------------------------------
  // The device list

  async devices(): Promise<DeviceView[]> {
    const { list, seen } = await this.currentList();
    return this.deviceViews(list, seen);
  }

  /** Removes `device` from the account: the relay refuses it from then on. */
  async unlinkDevice(device: number): Promise<DeviceView[]> {
    const { list } = await this.currentList();
    const rest = list.devices.filter((d) => d.id !== device);
    if (rest.length === list.devices.length) {
      throw new MessengerError(`device ${device} is not on ${this.profile.user}'s account`);
    }
    if (rest.length === 0) throw new MessengerError('the last device of an account stays');
    const next = encodeDeviceList({ ...list, version: list.version + 1, devices: rest });
    const answer = (await this.request(
      {
        kind: 'devices-update',
        deviceList: toBase64(next),
        deviceListSig: toBase64(signDeviceList(this.profile.keys.identity, next)),
      },
      'devices',
    )) as AccountOf<'devices'>;
    const views = this.deviceViews(this.checkedList(answer), answer.seen ?? []);
    this.emit({ type: 'device-removed', device });
    return views;
  }

  /** The relay's device list, checked against the account's identity key. */
  private async currentList(): Promise<{ list: DeviceList; seen: AccountOf<'devices'>['seen'] }> {
    this.requireRegistered();
    const answer = (await this.request({ kind: 'devices' }, 'devices')) as AccountOf<'devices'>;
    return { list: this.checkedList(answer), seen: answer.seen ?? [] };
  }

  private checkedList(answer: AccountOf<'devices'>): DeviceList {
    const bytes = fromBase64(answer.deviceList ?? '');
    const sig = fromBase64(answer.deviceListSig ?? '');
    const identity = this.profile.keys.identity.publicKey;
    if (bytes === null || sig === null || !verifyDeviceList(identity, bytes, sig)) {
      throw new MessengerError("the relay's device list is not signed by this account");
    }
    const list = parseDeviceList(bytes);
    if (list.user !== this.profile.user || list.identityKey !== toBase64(identity)) {
      throw new MessengerError("the relay's device list is another account's");
    }
    return list;
  }

  private deviceViews(list: DeviceList, seen: AccountOf<'devices'>['seen'] = []): DeviceView[] {
    const seenById = new Map(seen.map((s) => [s.id, s]));
    return list.devices.map((d) => ({
      device: d.id,
      name: d.name,
      current: d.id === this.profile.device,
      online: d.id === this.profile.device || (seenById.get(d.id)?.online ?? false),
      lastSeen: seenById.get(d.id)?.lastSeen ?? 0,
      added: d.added,
    }));
  }

  // ---------------------------------------------------------------------------------------
  // Contacts' identity keys: the first one seen is trusted; a different one later is a change
  // the conversation shows (the account was recovered, or the name is someone else's now).

  private askIdentities(): void {
    const users = (
      this.sql('SELECT DISTINCT peer FROM messages WHERE peer != ?').all(this.profile.user) as {
        peer: string;
      }[]
    ).map((r) => r.peer);
    for (let i = 0; i < users.length; i += IDENTITIES_PER_REQUEST) {
      this.sendAccount({ kind: 'identities', users: users.slice(i, i + IDENTITIES_PER_REQUEST) });
    }
  }

  /**
   * Whether `user` has an account on the relay. Presence does not say (the relay shows it only
   * to those who share a conversation); an account's identity key is public, as a directory's.
   */
  async hasAccount(user: string): Promise<boolean> {
    return (await this.fetchIdentity(user)) !== null;
  }

  /**
   * `user`'s account identity key (base64) as the relay has it now, or null when the name has
   * no account. The key is kept as any seen (a change leaves its notice) before this resolves.
   */
  async fetchIdentity(user: string): Promise<string | null> {
    const answer = (await this.request(
      { kind: 'identities', users: [user] },
      'identities',
      user,
    )) as AccountOf<'identities'>;
    return (answer.entries ?? []).find((e) => e.user === user)?.identityKey ?? null;
  }

  /** A new conversation's peer: their identity key is asked for now (kept from then on). */
  learn(user: string): void {
    if (this.conn.isOnline) this.sendAccount({ kind: 'identities', users: [user] });
  }

  private onIdentities(entries: { user: string; identityKey: string | null }[]): void {
    const now = Date.now();
    for (const { user, identityKey } of entries) {
      if (identityKey === null || user === this.profile.user) continue;
      const known = this.sql('SELECT identity_key FROM identities WHERE user = ?').get(user) as
        { identity_key: string } | undefined;
      if (known?.identity_key === identityKey) continue;
      const fingerprint = keyFingerprint(fromBase64(identityKey)!);
      transact(this.db, () => {
        this.sql(
          'INSERT OR REPLACE INTO identities (user, identity_key, seen_at) VALUES (?, ?, ?)',
        ).run(user, identityKey, now);
        if (known) {
          this.sql(
            "INSERT INTO notices (peer, at, kind, detail) VALUES (?, ?, 'identity-changed', ?)",
          ).run(user, now, fingerprint);
        }
      });
      if (known) this.emit({ type: 'identity-changed', user, fingerprint, at: now });
    }
  }

  /** The identity changes seen in the conversation with `peer`, oldest first. */
  notices(peer: string): NoticeView[] {
    return (
      this.sql('SELECT at, detail FROM notices WHERE peer = ? ORDER BY at').all(peer) as {
        at: number;
        detail: string;
      }[]
    ).map((r) => ({ peer, at: r.at, kind: 'identity-changed', fingerprint: r.detail }));
  }

  /** Forgets a contact's identity key (the conversation was deleted). */
  forget(peer: string): void {
    this.sql('DELETE FROM identities WHERE user = ?').run(peer);
    this.sql('DELETE FROM notices WHERE peer = ?').run(peer);
  }

  close(): void {
    this.failPending(new MessengerError('the messenger is closed'));
  }

  // ---------------------------------------------------------------------------------------

  private setState(state: AccountState): void {
    this.profile.account = state;
    setAccountState(this.db, state);
    this.emit({ type: 'account', account: this.view() });
  }

  private requireRegistered(): void {
    if (this.profile.account !== 'registered') {
      throw new MessengerError(
        `this device is not on ${this.profile.user}'s account here (${this.profile.account})`,
      );
    }
  }

  private sendAccount(m: AccountMessage): boolean {
    return this.conn.send({
      type: 'account',
      from: this.profile.user,
      fromDevice: this.profile.device,
      to: '',
      toDevice: 0,
      body: encodeAccountMessage(m),
    });
  }

  private request(m: AccountMessage, kind: Answer, codeId?: string): Promise<AccountMessage> {
    return new Promise((resolve, reject) => {
      if (!this.sendAccount(m)) {
        reject(new MessengerError('not connected to the relay'));
        return;
      }
      const entry: Pending = {
        kind,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.pending = this.pending.filter((p) => p !== entry);
          // A link that died silently is found out (and comes back) rather than waited on.
          void this.conn.confirmAlive();
          reject(new MessengerError('the relay did not answer in time'));
        }, ACCOUNT_REQUEST_TIMEOUT_MS),
        ...(codeId !== undefined ? { codeId } : {}),
      };
      this.pending.push(entry);
    });
  }

  private answered(kind: Answer, m: AccountMessage, codeId?: string): void {
    const i = this.pending.findIndex(
      (p) => p.kind === kind && (codeId === undefined || p.codeId === codeId),
    );
    if (i < 0) return;
    const [entry] = this.pending.splice(i, 1);
    clearTimeout(entry!.timer);
    try {
      entry!.resolve(m);
    } catch (e) {
      entry!.reject(e as Error);
    }
  }

  private failPending(e: Error): void {
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(e);
    }
  }
}
