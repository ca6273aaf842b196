// Prekey bundles on the relay (docs/protocol.md, "Prekey bundles"): a device publishes its
// prekeys over its own connection, signed by its account's identity key; anyone asks for a
// user's bundles and gets the account's signed device list and one bundle per device, each
// taking one one-time prekey; a device hears how many it has left when it comes online, after
// each upload, and when serving leaves it fewer than PREKEY_LOW. Bundle requests are limited
// per connection: each takes a one-time prekey from someone else.
import { checkPrekeyUpload } from '../src/node/prekeys.ts';
import {
  fromBase64,
  parseDeviceList,
  toBase64,
  type AccountMessage,
  type AccountOf,
  type BundleWire,
  type SignedPreKeyWire,
} from '../src/shared/protocol/account.ts';
import { PREKEY_LOW, type ErrorCodeName } from '../src/shared/protocol/index.ts';
import type { AccountStore } from './account-store.ts';
import type { Metrics } from './metrics.ts';
import type { PrekeyStore, SignedPrekey, StoredBundle } from './prekey-store.ts';
import type { Session } from './session.ts';

/** Bundle requests a connection may make per minute, on average... */
export const BUNDLE_REQUESTS_PER_MINUTE = 60;
/** ...and at once, after a quiet spell (a new conversation with a whole group, say). */
export const BUNDLE_REQUEST_BURST = 30;

/** What the prekeys need from the rest of the relay (a part of AccountsHost). */
export interface PrekeysHost {
  sessionsOf(user: string, device?: number): Session[];
  send(s: Session, m: AccountMessage): void;
  refuse(s: Session, code: ErrorCodeName, text: string, strike: boolean): void;
  now(): number;
}

/** A token bucket: BUNDLE_REQUEST_BURST tokens, refilled at BUNDLE_REQUESTS_PER_MINUTE. */
interface Bucket {
  tokens: number;
  at: number;
}

export class Prekeys {
  private readonly store: PrekeyStore;
  private readonly accounts: AccountStore;
  private readonly host: PrekeysHost;
  /** Per connection; a closed connection's bucket goes with it. */
  private readonly buckets = new WeakMap<Session, Bucket>();
  private readonly events: (kind: string) => void;

  constructor(store: PrekeyStore, accounts: AccountStore, host: PrekeysHost, metrics: Metrics) {
    this.store = store;
    this.accounts = accounts;
    this.host = host;
    this.events = metrics.counter(
      'prekey_requests',
      'Prekey uploads, bundle requests served, and bundle requests refused by the rate limit.',
      'kind',
    );
  }

  /** A device's upload: checked against its account's identity key, stored, counted back. */
  upload(s: Session, m: AccountOf<'prekeys'>): string | null {
    const account = this.accounts.account(s.user);
    const device = this.accounts.device(s.user, s.device);
    if (!account || !device || device.removed) return 'this device is not on its account';
    const why = checkPrekeyUpload(account.identityKey, m);
    if (why) return why;
    const count = this.store.put(s.user, s.device, {
      registrationId: m.registrationId,
      signed: signedOf(m.signedPreKey),
      kyber: signedOf(m.kyberPreKey),
      oneTime: m.preKeys.map((p) => ({ id: p.id, key: fromBase64(p.key)! })),
    });
    this.events('upload');
    this.host.send(s, { kind: 'prekey-count', count });
    return null;
  }

  /** A request for `m.user`'s bundles; answered, or refused when over the rate limit. */
  bundles(s: Session, m: AccountOf<'bundles'>): void {
    if (!this.allows(s)) {
      this.events('rate-limited');
      this.host.refuse(
        s,
        'rateLimited',
        `at most ${BUNDLE_REQUESTS_PER_MINUTE} bundle requests a minute per connection; wait`,
        false,
      );
      return;
    }
    const account = this.accounts.account(m.user);
    if (!account) {
      this.host.send(s, { kind: 'bundles', user: m.user });
      return;
    }
    const asked = m.devices ? new Set(m.devices) : null;
    const ids = parseDeviceList(account.deviceList)
      .devices.map((d) => d.id)
      .filter((id) => (!asked || asked.has(id)) && !(m.user === s.user && id === s.device));
    const served = this.store.take(m.user, ids);
    this.events('bundles');
    this.host.send(s, {
      kind: 'bundles',
      user: m.user,
      deviceList: toBase64(account.deviceList),
      deviceListSig: toBase64(account.deviceListSig),
      bundles: served.map(wireOf),
    });
    for (const b of served) {
      if (b.oneTime === null || b.left >= PREKEY_LOW) continue;
      for (const d of this.host.sessionsOf(m.user, b.device))
        this.host.send(d, { kind: 'prekey-count', count: b.left });
    }
  }

  /** A device was welcomed: told to upload when it holds fewer than PREKEY_LOW (or none). */
  welcomed(s: Session): void {
    const count = this.store.count(s.user, s.device);
    if (count < PREKEY_LOW) this.host.send(s, { kind: 'prekey-count', count });
  }

  private allows(s: Session): boolean {
    const now = this.host.now();
    const b = this.buckets.get(s) ?? { tokens: BUNDLE_REQUEST_BURST, at: now };
    b.tokens = Math.min(
      BUNDLE_REQUEST_BURST,
      b.tokens + (Math.max(0, now - b.at) * BUNDLE_REQUESTS_PER_MINUTE) / 60_000,
    );
    b.at = now;
    this.buckets.set(s, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

function signedOf(w: SignedPreKeyWire): SignedPrekey {
  return { id: w.id, key: fromBase64(w.key)!, sig: fromBase64(w.sig)! };
}

function wireOf(b: StoredBundle): BundleWire {
  const signed = (k: SignedPrekey) => ({ id: k.id, key: toBase64(k.key), sig: toBase64(k.sig) });
  return {
    device: b.device,
    registrationId: b.registrationId,
    signedPreKey: signed(b.signed),
    kyberPreKey: signed(b.kyber),
    ...(b.oneTime ? { preKey: { id: b.oneTime.id, key: toBase64(b.oneTime.key) } } : {}),
  };
}
