// Accounts on the relay (docs/protocol.md, "Accounts"): the challenge every connection
// answers, the check of each auth scheme's hello before the relay spends anything on it,
// linking a new device through a one-time code, the device list, recovery, and identity keys;
// prekey bundles are prekeys.ts's, and a change of a device list is pushed as devices-changed.
// A hello is believed only for what it proves: a signature over this connection's challenge
// by a key the account's signed device list holds (or, for a new account, a name nobody has).
import { randomBytes } from 'node:crypto';
import { isPublicKey } from '../src/node/account-keys.ts';
import { checkHelloSignature, type Challenge } from '../src/node/hello-proof.ts';
import {
  LINK_CODE_TTL_MS,
  decodeProof,
  fromBase64,
  isDeviceName,
  parseAccountMessage,
  parseDeviceList,
  toBase64,
  type AccountMessage,
  type AccountOf,
  type DeviceEntry,
} from '../src/shared/protocol/account.ts';
import {
  CHALLENGE_NONCE_BYTES,
  RELAY_CLOSE_CODES,
  isValidUserName,
  type AccountFrame,
  type ErrorCodeName,
  type HelloFrame,
} from '../src/shared/protocol/index.ts';
import type { AccountRow, AccountStore } from './account-store.ts';
import {
  checkFirstList,
  checkLinkList,
  checkRemovalList,
  type CurrentList,
} from './device-lists.ts';
import { AddressFailures, addressOf } from './hello-limits.ts';
import type { Metrics } from './metrics.ts';
import type { PrekeyStore } from './prekey-store.ts';
import { Prekeys } from './prekeys.ts';
import type { Session } from './session.ts';

/** Failed hellos one address may make per minute. */
export const HELLO_FAILURES_PER_MINUTE = 30;
/** Link hellos naming no live code one address may make per LINK_CODE_TTL_MS. */
export const LINK_FAILURES_PER_TTL = 5;
/** Link codes one account may offer at once. */
export const MAX_LIVE_OFFERS = 3;

export type HelloOutcome =
  | { ok: true }
  /** A link hello: the connection waits for the offering device's answer. */
  | { ok: 'linking' }
  | Refusal;

export interface Refusal {
  ok: false;
  code: ErrorCodeName;
  /** The metrics label. */
  reason: string;
  text: string;
}

/** What the accounts need from the rest of the relay. */
export interface AccountsHost {
  /** The open connections of `user` (every device, or one). */
  sessionsOf(user: string, device?: number): Session[];
  /** Sends an account frame to `s`. */
  send(s: Session, m: AccountMessage): void;
  /** Answers `s` with an error; `strike` when the frame was malformed. */
  refuse(s: Session, code: ErrorCodeName, text: string, strike: boolean): void;
  /** Ends `s` at once with a close code, after an error frame unless `code` is null. */
  evict(s: Session, code: ErrorCodeName | null, text: string, closeCode: number): void;
  /** Connections that watch `user` or have exchanged messages with them (they hear of its account changing). */
  watchersOf(user: string): Iterable<Session>;
  now(): number;
}

/** The tables the accounts keep (the RelayStore's). */
type Stores = { accounts: AccountStore; prekeys: PrekeyStore };

/** A live link code (by its id: the relay never sees the code). */
interface Offer {
  codeId: string;
  user: string;
  device: number;
  offeredBy: Session;
  expiresAt: number;
  used: boolean;
  /** The new device's connection, waiting for the answer. */
  link: { session: Session; device: number; key: Uint8Array; timer: NodeJS.Timeout } | null;
}

export class Accounts {
  private readonly store: AccountStore;
  private readonly host: AccountsHost;
  /** The prekey bundles (the relay tells a welcomed device its count through it). */
  readonly prekeys: Prekeys;
  private readonly relayId: Uint8Array;
  private readonly offers = new Map<string, Offer>();
  private readonly helloFailures = new AddressFailures(HELLO_FAILURES_PER_MINUTE, 60_000);
  private readonly linkFailures = new AddressFailures(LINK_FAILURES_PER_TTL, LINK_CODE_TTL_MS);
  private readonly refused: (reason: string) => void;
  private readonly events: (kind: string) => void;

  constructor(stores: Stores, host: AccountsHost, relayId: Uint8Array, metrics: Metrics) {
    this.store = stores.accounts;
    this.host = host;
    this.prekeys = new Prekeys(stores.prekeys, stores.accounts, host, metrics);
    this.relayId = relayId;
    this.refused = metrics.counter('hellos_refused', 'Hellos refused, by reason.', 'reason');
    this.events = metrics.counter(
      'account_events',
      'Accounts created, recovered, linked, changed.',
      'kind',
    );
  }

  /** A fresh challenge for a new connection: good for its one hello. */
  challenge(): Challenge {
    return { nonce: new Uint8Array(randomBytes(CHALLENGE_NONCE_BYTES)), relayId: this.relayId };
  }

  /** Checks a hello on `s` before anything is spent on it; on success it is `s.user/s.device`. */
  hello(s: Session, hello: HelloFrame): HelloOutcome {
    const address = addressOf(s.remote);
    const now = this.host.now();
    let outcome: HelloOutcome;
    if (!this.helloFailures.allows(address, now)) {
      outcome = refuse(
        'rateLimited',
        'rate-limited',
        'too many failed hellos from this address; wait a minute',
      );
    } else {
      // One hello per challenge: a second hello on the same connection answers nothing.
      const challenge = s.challenge;
      s.challenge = null;
      outcome = challenge
        ? this.check(s, hello, challenge, address, now)
        : refuse('authFailed', 'no-challenge', 'this connection has already said hello');
      if (outcome.ok === false) this.helloFailures.failed(address, now);
    }
    if (outcome.ok === false) this.refused(outcome.reason);
    return outcome;
  }

  private check(
    s: Session,
    hello: HelloFrame,
    challenge: Challenge,
    address: string,
    now: number,
  ): HelloOutcome {
    const { scheme } = hello.auth;
    if (scheme === 'none')
      return refuse('authFailed', 'no-auth', 'this relay requires an account: update Strata');
    if (scheme === 'link') return this.link(s, hello, challenge, address, now);
    if (!isValidUserName(hello.from)) return refuse('authFailed', 'bad-proof', 'no user name');
    if (scheme === 'device') return this.device(hello, challenge);
    if (scheme === 'register') return this.register(hello, challenge, now);
    return this.recover(hello, challenge);
  }

  private device(hello: HelloFrame, challenge: Challenge): HelloOutcome {
    const proof = decodeProof('device', hello.auth.data);
    if (!proof) return badProof();
    const row = this.store.device(hello.from, hello.fromDevice);
    if (!row) return unknownDevice();
    if (row.removed)
      return refuse('deviceRemoved', 'device-removed', 'this device was removed from its account');
    if (!checkHelloSignature('device', hello, proof, challenge, row.key, proof.deviceSig))
      return unknownDevice();
    return { ok: true };
  }

  private register(hello: HelloFrame, challenge: Challenge, now: number): HelloOutcome {
    const proof = decodeProof('register', hello.auth.data);
    if (!proof) return badProof();
    if (this.store.account(hello.from)) return nameTaken(hello.from);
    // New names per address were counted by the admission before this hello was read.
    const bad = this.newAccountProof('register', hello, proof, challenge);
    if (bad) return bad;
    const entry = parseDeviceList(proof.deviceList).devices[0]!;
    const created = this.store.create(
      {
        user: hello.from,
        identityKey: proof.identityKey,
        recoveryKey: proof.recoveryKey,
        deviceList: proof.deviceList,
        deviceListSig: proof.deviceListSig,
        version: 1,
        created: now,
      },
      { device: hello.fromDevice, key: proof.deviceKey, name: entry.name, added: entry.added },
    );
    if (!created) return nameTaken(hello.from);
    this.events('registered');
    return { ok: true };
  }

  private recover(hello: HelloFrame, challenge: Challenge): HelloOutcome {
    const proof = decodeProof('recover', hello.auth.data);
    if (!proof) return badProof();
    const account = this.store.account(hello.from);
    if (
      !account ||
      !checkHelloSignature(
        'recover',
        hello,
        proof,
        challenge,
        account.recoveryKey,
        proof.recoverySig,
      )
    )
      return refuse('authFailed', 'recovery-failed', 'wrong recovery code for this account');
    const bad = this.newAccountProof('recover', hello, proof, challenge);
    if (bad) return bad;
    const entry = parseDeviceList(proof.deviceList).devices[0]!;
    this.store.replace(
      {
        user: hello.from,
        identityKey: proof.identityKey,
        recoveryKey: proof.recoveryKey,
        deviceList: proof.deviceList,
        deviceListSig: proof.deviceListSig,
        version: 1,
      },
      { device: hello.fromDevice, key: proof.deviceKey, name: entry.name, added: entry.added },
    );
    for (const old of this.host.sessionsOf(hello.from))
      this.host.evict(
        old,
        'deviceRemoved',
        'the account was recovered on another device',
        RELAY_CLOSE_CODES.removed,
      );
    const change: AccountMessage = {
      kind: 'identities',
      entries: [{ user: hello.from, identityKey: toBase64(proof.identityKey) }],
    };
    for (const w of this.host.watchersOf(hello.from)) this.host.send(w, change);
    this.devicesChanged(hello.from, null);
    this.events('recovered');
    return { ok: true };
  }

  /** The keys, signatures and first device list of a register or recover hello. */
  private newAccountProof<S extends 'register' | 'recover'>(
    scheme: S,
    hello: HelloFrame,
    proof: NonNullable<ReturnType<typeof decodeProof<S>>>,
    challenge: Challenge,
  ): Refusal | null {
    const p = proof as NonNullable<ReturnType<typeof decodeProof<'register'>>>;
    if (!isPublicKey(p.identityKey) || !isPublicKey(p.deviceKey) || !isPublicKey(p.recoveryKey))
      return badProof();
    if (
      !checkHelloSignature(scheme, hello, proof, challenge, p.deviceKey, p.deviceSig) ||
      !checkHelloSignature(scheme, hello, proof, challenge, p.identityKey, p.identitySig)
    )
      return refuse('authFailed', 'bad-signature', 'the hello is not signed by its keys');
    const list = checkFirstList(
      hello.from,
      p.identityKey,
      p.deviceList,
      p.deviceListSig,
      hello.fromDevice,
      p.deviceKey,
    );
    return list.ok ? null : refuse('authFailed', 'bad-device-list', list.why);
  }

  private link(
    s: Session,
    hello: HelloFrame,
    challenge: Challenge,
    address: string,
    now: number,
  ): HelloOutcome {
    if (!this.linkFailures.allows(address, now))
      return refuse(
        'rateLimited',
        'link-rate-limited',
        'too many wrong link codes from this address; wait ten minutes',
      );
    const proof = decodeProof('link', hello.auth.data);
    if (hello.from !== '' || !proof) return badProof();
    const offer = this.offers.get(toBase64(proof.codeId));
    if (!offer || offer.used || offer.expiresAt <= now || offer.offeredBy.state !== 'open') {
      this.linkFailures.failed(address, now);
      return refuse('linkFailed', 'link-unknown', 'this link code is unknown, used or expired');
    }
    let name: string;
    try {
      name = new TextDecoder('utf-8', { fatal: true }).decode(proof.deviceName);
    } catch {
      return badProof();
    }
    if (!isDeviceName(name) || !isPublicKey(proof.deviceKey)) return badProof();
    if (!checkHelloSignature('link', hello, proof, challenge, proof.deviceKey, proof.deviceSig))
      return refuse('authFailed', 'bad-signature', 'the hello is not signed by its key');
    if (this.store.device(offer.user, hello.fromDevice))
      return refuse(
        'linkFailed',
        'link-device-taken',
        'that device id is on the account already; try again',
      );
    offer.used = true;
    const timer = setTimeout(
      () => this.endLink(offer, 'the link code expired before the device answered'),
      offer.expiresAt - now,
    );
    timer.unref();
    offer.link = { session: s, device: hello.fromDevice, key: proof.deviceKey, timer };
    this.host.send(offer.offeredBy, {
      kind: 'link-request',
      codeId: offer.codeId,
      device: hello.fromDevice,
      deviceKey: toBase64(proof.deviceKey),
      name,
      mac: toBase64(proof.mac),
    });
    return { ok: 'linking' };
  }

  /** The link connection of `offer` gets linkFailed and is closed. */
  private endLink(offer: Offer, why: string): void {
    this.offers.delete(offer.codeId);
    const link = offer.link;
    if (!link) return;
    clearTimeout(link.timer);
    offer.link = null;
    this.host.evict(link.session, 'linkFailed', why, RELAY_CLOSE_CODES.policy);
  }

  /** A connection closed: its offers end, and a link it waited for is forgotten. */
  closed(s: Session): void {
    for (const offer of [...this.offers.values()]) {
      if (offer.offeredBy === s) this.endLink(offer, 'the device that offered the code went away');
      else if (offer.link?.session === s) {
        clearTimeout(offer.link.timer);
        offer.link = null;
        this.offers.delete(offer.codeId);
      }
    }
  }

  /** An account frame from an open connection. */
  frame(s: Session, frame: AccountFrame): void {
    const m = parseAccountMessage(frame.body);
    if (m instanceof Error) {
      this.host.refuse(s, 'accountRefused', m.message, true);
      return;
    }
    // Over the rate limit a bundle request is refused with its own code (prekeys.ts).
    if (m.kind === 'bundles') {
      this.prekeys.bundles(s, m);
      return;
    }
    const why = this.act(s, m);
    if (why) this.host.refuse(s, 'accountRefused', why, false);
  }

  /** Does what `m` asks; returns why not, if it cannot. */
  private act(s: Session, m: AccountMessage): string | null {
    switch (m.kind) {
      case 'link-offer':
        return this.offer(s, m);
      case 'link-cancel': {
        const offer = this.offers.get(m.codeId);
        if (offer?.offeredBy === s) this.endLink(offer, 'the link code was cancelled');
        return null;
      }
      case 'link-accept':
        return this.accept(s, m);
      case 'link-decline': {
        const offer = this.offers.get(m.codeId);
        if (offer?.offeredBy !== s) return 'no such link request on this device';
        this.endLink(offer, 'the account device declined the link');
        return null;
      }
      case 'devices':
        this.sendDevices(s);
        return null;
      case 'devices-update':
        return this.removeDevices(s, m);
      case 'identities': {
        if (!m.users) return 'identities: which users?';
        const entries = m.users.map((user) => {
          const a = this.store.account(user);
          return { user, identityKey: a ? toBase64(a.identityKey) : null };
        });
        this.host.send(s, { kind: 'identities', entries });
        return null;
      }
      case 'prekeys':
        return this.prekeys.upload(s, m);
      default:
        return `clients do not send ${m.kind}`;
    }
  }

  private offer(s: Session, m: AccountOf<'link-offer'>): string | null {
    const id = fromBase64(m.codeId);
    if (!id || id.length !== 16) return 'link-offer: codeId must be 16 bytes';
    const now = this.host.now();
    let live = 0;
    for (const o of this.offers.values()) {
      if (o.expiresAt <= now && !o.link) this.offers.delete(o.codeId);
      else if (o.user === s.user && !o.used) live++;
    }
    if (live >= MAX_LIVE_OFFERS) return `at most ${MAX_LIVE_OFFERS} link codes at once`;
    if (this.offers.has(m.codeId)) return 'that link code is already offered';
    const expiresAt = now + LINK_CODE_TTL_MS;
    this.offers.set(m.codeId, {
      codeId: m.codeId,
      user: s.user,
      device: s.device,
      offeredBy: s,
      expiresAt,
      used: false,
      link: null,
    });
    this.host.send(s, { kind: 'link-offer', codeId: m.codeId, expiresAt });
    return null;
  }

  private accept(s: Session, m: AccountOf<'link-accept'>): string | null {
    const offer = this.offers.get(m.codeId);
    if (offer?.offeredBy !== s || !offer.link) return 'no device is waiting on that link code';
    const link = offer.link;
    const current = this.current(s.user);
    const bytes = fromBase64(m.deviceList);
    const sig = fromBase64(m.deviceListSig);
    const provision = fromBase64(m.provision);
    if (!current || !bytes || !sig || !provision) return 'link-accept: bad fields';
    const c = checkLinkList(current, bytes, sig, link.device, link.key);
    if (!c.ok) return c.why;
    const entry = c.list.devices.find((d) => d.id === link.device)!;
    if (
      !this.store.changeList(
        s.user,
        current.version,
        bytes,
        sig,
        { device: entry.id, key: link.key, name: entry.name, added: entry.added },
        [],
      )
    )
      return 'the device list changed meanwhile; try again';
    clearTimeout(link.timer);
    offer.link = null;
    this.offers.delete(offer.codeId);
    this.host.send(link.session, {
      kind: 'linked',
      user: s.user,
      device: link.device,
      provision: m.provision,
    });
    this.host.evict(link.session, null, 'linked', RELAY_CLOSE_CODES.linkDone);
    this.devicesChanged(s.user, s);
    this.events('linked');
    return null;
  }

  private removeDevices(s: Session, m: AccountOf<'devices-update'>): string | null {
    const current = this.current(s.user);
    const bytes = fromBase64(m.deviceList);
    const sig = fromBase64(m.deviceListSig);
    if (!current || !bytes || !sig) return 'devices-update: bad fields';
    const c = checkRemovalList(current, bytes, sig);
    if (!c.ok) return c.why;
    const removed = current.devices.filter((d) => !c.list.devices.some((n) => n.id === d.id));
    const ids = removed.map((d) => d.id);
    if (!this.store.changeList(s.user, current.version, bytes, sig, null, ids))
      return 'the device list changed meanwhile; try again';
    this.sendDevices(s);
    for (const id of ids) {
      for (const gone of this.host.sessionsOf(s.user, id))
        this.host.evict(
          gone,
          'deviceRemoved',
          'this device was removed from its account',
          RELAY_CLOSE_CODES.removed,
        );
    }
    this.devicesChanged(s.user, s);
    this.events('devices-removed');
    return null;
  }

  private sendDevices(s: Session): void {
    const account = this.store.account(s.user);
    if (!account) return;
    const online = new Set(this.host.sessionsOf(s.user).map((o) => o.device));
    const seen = this.store.devices(s.user).map((d) => ({
      id: d.device,
      online: online.has(d.device),
      lastSeen: online.has(d.device) ? this.host.now() : d.lastSeen,
    }));
    this.host.send(s, {
      kind: 'devices',
      deviceList: toBase64(account.deviceList),
      deviceListSig: toBase64(account.deviceListSig),
      seen,
    });
  }

  private current(user: string): CurrentList | null {
    const a: AccountRow | null = this.store.account(user);
    if (!a) return null;
    const devices: DeviceEntry[] = parseDeviceList(a.deviceList).devices;
    return { user, identityKey: a.identityKey, version: a.version, devices };
  }

  /** `user`'s device list changed: its watchers and open connections (but `by`) hear of it. */
  private devicesChanged(user: string, by: Session | null): void {
    const to = new Set([...this.host.watchersOf(user), ...this.host.sessionsOf(user)]);
    if (by) to.delete(by);
    for (const t of to)
      if (t.state === 'open') this.host.send(t, { kind: 'devices-changed', user });
  }

  /** A device came or went: the relay remembers when it last saw it. */
  seen(s: Session, now: number): void {
    this.store.touchDevice(s.user, s.device, now);
  }
}

function refuse(code: ErrorCodeName, reason: string, text: string): Refusal {
  return { ok: false, code, reason, text };
}

function badProof(): Refusal {
  return refuse(
    'authFailed',
    'bad-proof',
    'the hello proof does not have the fields its scheme needs',
  );
}

/** No account, no such device, or a wrong signature: one answer for all three. */
function unknownDevice(): Refusal {
  return refuse(
    'authFailed',
    'unknown-device',
    'this relay does not know this device (or its key is wrong)',
  );
}

function nameTaken(user: string): Refusal {
  return refuse('nameTaken', 'name-taken', `the name ${user} is taken on this relay`);
}
