// Accounts on the wire (docs/protocol.md, "Accounts"): what a hello's proof holds for each
// auth scheme, the transcript every hello signature covers, the signed device list, and the
// JSON messages of account frames. Pure data, no cryptography: the keys and signatures are
// made and checked in src/node/account-keys.ts, by the app and the relay alike.
import { Reader, ReadFailure, Writer, encodeUtf8 } from './bytes.ts';
import {
  AUTH_SCHEMES,
  KYBER_PUBLIC_KEY_BYTES,
  MAX_DEVICES,
  MAX_DEVICE_ID,
  PREKEY_BATCH,
  type AuthScheme,
} from './constants.ts';
import { isValidUserName } from './names.ts';

/** A serialized libsignal public key: a type byte (0x05, Curve25519) and 32 bytes. */
export const PUBLIC_KEY_BYTES = 33;
/** An XEdDSA signature made by a libsignal private key. */
export const SIGNATURE_BYTES = 64;
/** A link code's id, which the relay knows (the code itself it never sees). */
export const LINK_CODE_ID_BYTES = 16;
/** The link proof: HMAC-SHA-256 of the new device's key and name, keyed by the code. */
export const LINK_MAC_BYTES = 32;
/** A device's name as its owner sees it in the list ("laptop", "Strata on linux"). */
export const MAX_DEVICE_NAME_CHARS = 64;
/** How long a link code is good for, and how long a linking device waits for a yes. */
export const LINK_CODE_TTL_MS = 10 * 60_000;

/**
 * The fields of each scheme's proof, in wire order. The last `signatures` fields are the
 * signatures; everything before them is signed (helloTranscript) by each of them.
 */
export const PROOF_FIELDS = {
  none: { fields: [], signatures: 0 },
  device: { fields: ['deviceSig'], signatures: 1 },
  register: {
    fields: [
      'identityKey',
      'deviceKey',
      'recoveryKey',
      'deviceList',
      'deviceListSig',
      'deviceSig',
      'identitySig',
    ],
    signatures: 2,
  },
  recover: {
    fields: [
      'identityKey',
      'deviceKey',
      'recoveryKey',
      'deviceList',
      'deviceListSig',
      'deviceSig',
      'identitySig',
      'recoverySig',
    ],
    signatures: 3,
  },
  link: { fields: ['codeId', 'deviceKey', 'deviceName', 'mac', 'deviceSig'], signatures: 1 },
} as const satisfies Record<AuthScheme, { fields: readonly string[]; signatures: number }>;

export type ProofField<S extends AuthScheme> = (typeof PROOF_FIELDS)[S]['fields'][number];
export type Proof<S extends AuthScheme> = Record<ProofField<S>, Uint8Array>;

/** Packs a proof's fields, each as a u16 length and its bytes, in PROOF_FIELDS order. */
export function encodeProof<S extends AuthScheme>(scheme: S, proof: Proof<S>): Uint8Array {
  const names = PROOF_FIELDS[scheme].fields as readonly ProofField<S>[];
  const parts = names.map((n) => proof[n]);
  const w = new Writer(parts.reduce((n, p) => n + 2 + p.length, 0));
  for (const p of parts) {
    w.u16(p.length);
    w.bytesFrom(p);
  }
  return w.bytes;
}

/** Unpacks a hello's proof; null when it does not have exactly the scheme's fields. */
export function decodeProof<S extends AuthScheme>(scheme: S, data: Uint8Array): Proof<S> | null {
  const names = PROOF_FIELDS[scheme].fields as readonly ProofField<S>[];
  const r = new Reader(data);
  const proof = {} as Proof<S>;
  try {
    for (const n of names) proof[n] = r.bytesView(r.u16(n), n);
  } catch (e) {
    if (e instanceof ReadFailure) return null;
    throw e;
  }
  return r.remaining === 0 ? proof : null;
}

/**
 * What every signature in a hello signs: a context string, the relay's identity and the
 * connection's challenge (so a signature is good for one connection to one relay, once),
 * the scheme, the user and device the hello claims, and the proof's unsigned fields.
 */
export function helloTranscript<S extends AuthScheme>(
  scheme: S,
  user: string,
  device: number,
  relayId: Uint8Array,
  nonce: Uint8Array,
  proof: Partial<Proof<S>>,
): Uint8Array {
  const spec = PROOF_FIELDS[scheme];
  const signed = (spec.fields as readonly ProofField<S>[]).slice(
    0,
    spec.fields.length - spec.signatures,
  );
  const context = encodeUtf8('strata-hello-1\0');
  const name = encodeUtf8(user);
  const parts = signed.map((n) => proof[n] ?? new Uint8Array(0));
  const w = new Writer(
    context.length +
      relayId.length +
      nonce.length +
      1 +
      1 +
      name.length +
      4 +
      parts.reduce((n, p) => n + 2 + p.length, 0),
  );
  w.bytesFrom(context);
  w.bytesFrom(relayId);
  w.bytesFrom(nonce);
  w.u8(AUTH_SCHEMES[scheme]);
  w.u8(name.length);
  w.bytesFrom(name);
  w.u32(device);
  for (const p of parts) {
    w.u16(p.length);
    w.bytesFrom(p);
  }
  return w.bytes;
}

// ---------------------------------------------------------------------------------------
// The device list: which devices are on an account, signed by the account's identity key.
// It travels as the exact JSON bytes that were signed; whoever checks the signature parses
// those bytes, so no canonical form is needed.

export interface DeviceEntry {
  id: number;
  /** The device's public key, base64. */
  key: string;
  name: string;
  /** When it joined the account (ms since the epoch, the adding device's clock). */
  added: number;
}

export interface DeviceList {
  user: string;
  /** Grows by one with every change: the relay accepts only the next version. */
  version: number;
  /** The account's identity public key, base64. */
  identityKey: string;
  devices: DeviceEntry[];
}

export function encodeDeviceList(list: DeviceList): Uint8Array {
  return encodeUtf8(JSON.stringify(list));
}

/** Parses and checks a device list's shape; throws a plain Error saying what is wrong. */
export function parseDeviceList(bytes: Uint8Array): DeviceList {
  const v = parseJsonObject(bytes, 'device list');
  const list = v as Partial<DeviceList>;
  if (typeof list.user !== 'string' || !isValidUserName(list.user)) bad('device list: user');
  if (!isCount(list.version)) bad('device list: version');
  if (!isKey(list.identityKey)) bad('device list: identityKey');
  if (!Array.isArray(list.devices) || list.devices.length === 0) bad('device list: no devices');
  if (list.devices.length > MAX_DEVICES) bad(`device list: more than ${MAX_DEVICES} devices`);
  const ids = new Set<number>();
  for (const d of list.devices as Partial<DeviceEntry>[]) {
    if (!isDeviceId(d.id) || ids.has(d.id)) bad('device list: device id');
    ids.add(d.id);
    if (!isKey(d.key)) bad('device list: device key');
    if (!isDeviceName(d.name)) bad('device list: device name');
    if (!isCount(d.added)) bad('device list: added');
  }
  return {
    user: list.user,
    version: list.version,
    identityKey: list.identityKey,
    devices: (list.devices as DeviceEntry[]).map(({ id, key, name, added }) => ({
      id,
      key,
      name,
      added,
    })),
  };
}

// ---------------------------------------------------------------------------------------
// Account frames: JSON objects with a `kind`. Binary values (keys, signatures, lists) are
// base64 strings.

/** One device as the relay reports it: from the signed list, plus what the relay saw. */
export interface DeviceSeen {
  id: number;
  online: boolean;
  /** When the relay last heard from it (ms), 0 if never. */
  lastSeen: number;
}

/** A signed prekey (EC or Kyber) as published: its id, public key and the identity's signature. */
export interface SignedPreKeyWire {
  id: number;
  key: string;
  sig: string;
}
/** A one-time EC prekey as published. */
export interface PreKeyWire {
  id: number;
  key: string;
}
/** One device's prekey bundle as the relay serves it (the identity key is the account's). */
export interface BundleWire {
  device: number;
  registrationId: number;
  signedPreKey: SignedPreKeyWire;
  kyberPreKey: SignedPreKeyWire;
  /** Absent when the device's one-time prekeys have run out. */
  preKey?: PreKeyWire;
}

export type AccountMessage =
  // device -> relay: offer a link code (by its id) for ten minutes; the relay answers with
  // the same kind and the expiry.
  | { kind: 'link-offer'; codeId: string; expiresAt?: number }
  | { kind: 'link-cancel'; codeId: string }
  // relay -> the offering device: a new device entered the code.
  | {
      kind: 'link-request';
      codeId: string;
      device: number;
      deviceKey: string;
      name: string;
      mac: string;
    }
  // device -> relay: yes, with the next device list (adding exactly that device) and the
  // account's keys sealed for the new device (src/node/account-keys.ts sealProvision).
  | {
      kind: 'link-accept';
      codeId: string;
      deviceList: string;
      deviceListSig: string;
      provision: string;
    }
  | { kind: 'link-decline'; codeId: string }
  // relay -> the new device's link connection: it is on the account; it closes and
  // reconnects with the `device` scheme.
  | { kind: 'linked'; user: string; device: number; provision: string }
  // device -> relay: the list, now (no other fields); relay -> device: the list and what the
  // relay saw of each device.
  | { kind: 'devices'; deviceList?: string; deviceListSig?: string; seen?: DeviceSeen[] }
  // device -> relay: the next list, with devices removed (never added: that is linking).
  | { kind: 'devices-update'; deviceList: string; deviceListSig: string }
  // device -> relay: whose identity keys; relay -> device: the keys (null: no such account).
  // The relay also pushes one entry unasked when a watched account is recovered.
  | {
      kind: 'identities';
      users?: string[];
      entries?: { user: string; identityKey: string | null }[];
    }
  // device -> relay: this device's prekeys (docs/security.md): the signed prekey and the
  // last-resort Kyber prekey replace the ones held, the one-time prekeys are added.
  | {
      kind: 'prekeys';
      registrationId: number;
      signedPreKey: SignedPreKeyWire;
      kyberPreKey: SignedPreKeyWire;
      preKeys: PreKeyWire[];
    }
  // relay -> device: how many of its one-time prekeys the relay still holds; sent after an
  // upload, at the welcome, and whenever serving a bundle leaves fewer than PREKEY_LOW.
  | { kind: 'prekey-count'; count: number }
  // device -> relay: the bundles of `user`'s devices (only `devices` when given; the asking
  // device itself is never served). relay -> device: the account's signed device list and
  // one bundle per device asked for that has published one, each taking one one-time
  // prekey. No deviceList: the name has no account.
  | {
      kind: 'bundles';
      user: string;
      devices?: number[];
      deviceList?: string;
      deviceListSig?: string;
      bundles?: BundleWire[];
    }
  // relay -> the watchers of `user`: its device list changed (a device linked or removed).
  | { kind: 'devices-changed'; user: string };

export type AccountKind = AccountMessage['kind'];
export type AccountOf<K extends AccountKind> = Extract<AccountMessage, { kind: K }>;

export function encodeAccountMessage(m: AccountMessage): Uint8Array {
  return encodeUtf8(JSON.stringify(m));
}

/**
 * Parses an account frame's body and checks every field its kind has; returns the message
 * or an Error saying what is wrong (never throws on bad input).
 */
export function parseAccountMessage(body: Uint8Array): AccountMessage | Error {
  try {
    return checkAccountMessage(parseJsonObject(body, 'account message'));
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

function checkAccountMessage(v: Record<string, unknown>): AccountMessage {
  const str = (k: string, ok: (x: unknown) => boolean = isBase64) => {
    if (!ok(v[k])) bad(`${String(v.kind)}: ${k}`);
    return v[k] as string;
  };
  const optional = <T>(k: string, ok: (x: unknown) => boolean): T | undefined => {
    if (v[k] === undefined) return undefined;
    if (!ok(v[k])) bad(`${String(v.kind)}: ${k}`);
    return v[k] as T;
  };
  switch (v.kind) {
    case 'link-offer':
      return {
        kind: 'link-offer',
        codeId: str('codeId'),
        expiresAt: optional<number>('expiresAt', isCount),
      };
    case 'link-cancel':
    case 'link-decline':
      return { kind: v.kind, codeId: str('codeId') };
    case 'link-request':
      if (!isDeviceId(v.device)) bad('link-request: device');
      return {
        kind: 'link-request',
        codeId: str('codeId'),
        device: v.device,
        deviceKey: str('deviceKey', isKey),
        name: str('name', isDeviceName),
        mac: str('mac'),
      };
    case 'link-accept':
      return {
        kind: 'link-accept',
        codeId: str('codeId'),
        deviceList: str('deviceList'),
        deviceListSig: str('deviceListSig'),
        provision: str('provision'),
      };
    case 'linked':
      if (!isDeviceId(v.device)) bad('linked: device');
      return {
        kind: 'linked',
        user: str('user', (x) => typeof x === 'string' && isValidUserName(x)),
        device: v.device,
        provision: str('provision'),
      };
    case 'devices': {
      const seen = optional<DeviceSeen[]>('seen', Array.isArray);
      if (seen && (seen.length > MAX_DEVICES || !seen.every(isDeviceSeen))) bad('devices: seen');
      return {
        kind: 'devices',
        deviceList: optional<string>('deviceList', isBase64),
        deviceListSig: optional<string>('deviceListSig', isBase64),
        seen: seen?.map(({ id, online, lastSeen }) => ({ id, online, lastSeen })),
      };
    }
    case 'devices-update':
      return {
        kind: 'devices-update',
        deviceList: str('deviceList'),
        deviceListSig: str('deviceListSig'),
      };
    case 'identities': {
      const users = optional<string[]>('users', Array.isArray);
      if (users && (users.length > 512 || !users.every((u) => isValidUserName(u))))
        bad('identities: users');
      const entries = optional<{ user: string; identityKey: string | null }[]>(
        'entries',
        Array.isArray,
      );
      if (
        entries &&
        (entries.length > 512 ||
          !entries.every(
            (e) =>
              typeof e === 'object' &&
              e !== null &&
              isValidUserName(e.user) &&
              (e.identityKey === null || isKey(e.identityKey)),
          ))
      )
        bad('identities: entries');
      return {
        kind: 'identities',
        users,
        entries: entries?.map(({ user, identityKey }) => ({ user, identityKey })),
      };
    }
    case 'prekeys': {
      if (!isRegistrationId(v.registrationId)) bad('prekeys: registrationId');
      const preKeys = v.preKeys;
      if (!Array.isArray(preKeys) || preKeys.length > PREKEY_BATCH || !preKeys.every(isPreKey))
        bad('prekeys: preKeys');
      if (!isSignedPreKey(v.signedPreKey, isKey)) bad('prekeys: signedPreKey');
      if (!isSignedPreKey(v.kyberPreKey, isKyberKey)) bad('prekeys: kyberPreKey');
      return {
        kind: 'prekeys',
        registrationId: v.registrationId,
        signedPreKey: signedPreKeyOf(v.signedPreKey),
        kyberPreKey: signedPreKeyOf(v.kyberPreKey),
        preKeys: preKeys.map(({ id, key }) => ({ id, key })),
      };
    }
    case 'prekey-count':
      if (!isCount(v.count)) bad('prekey-count: count');
      return { kind: 'prekey-count', count: v.count };
    case 'bundles': {
      const devices = optional<number[]>('devices', Array.isArray);
      if (devices && (devices.length > MAX_DEVICES || !devices.every(isDeviceId)))
        bad('bundles: devices');
      const bundles = optional<unknown[]>('bundles', Array.isArray);
      if (bundles && (bundles.length > MAX_DEVICES || !bundles.every(isBundle)))
        bad('bundles: bundles');
      return {
        kind: 'bundles',
        user: str('user', (x) => typeof x === 'string' && isValidUserName(x)),
        devices,
        deviceList: optional<string>('deviceList', isBase64),
        deviceListSig: optional<string>('deviceListSig', isBase64),
        bundles: (bundles as BundleWire[] | undefined)?.map((b) => ({
          device: b.device,
          registrationId: b.registrationId,
          signedPreKey: signedPreKeyOf(b.signedPreKey),
          kyberPreKey: signedPreKeyOf(b.kyberPreKey),
          ...(b.preKey ? { preKey: { id: b.preKey.id, key: b.preKey.key } } : {}),
        })),
      };
    }
    case 'devices-changed':
      return {
        kind: 'devices-changed',
        user: str('user', (x) => typeof x === 'string' && isValidUserName(x)),
      };
    default:
      return bad(`unknown account message kind ${JSON.stringify(v.kind)}`.slice(0, 80));
  }
}

// ---------------------------------------------------------------------------------------

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function isBase64(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length % 4 === 0 && BASE64.test(x);
}

/** A base64 serialized public key (33 bytes: 44 characters). */
function isKey(x: unknown): x is string {
  return isBase64(x) && x.length === 44;
}

/** A serialized Kyber public key (KYBER_PUBLIC_KEY_BYTES) in base64. */
function isKyberKey(x: unknown): x is string {
  return isBase64(x) && x.length === Math.ceil(KYBER_PUBLIC_KEY_BYTES / 3) * 4;
}

/** A base64 XEdDSA signature (64 bytes: 88 characters). */
function isSignature(x: unknown): x is string {
  return isBase64(x) && x.length === 88;
}

/** Prekey ids are 24 bits, as Signal's clients make them (libsignal takes any u32). */
function isPreKeyId(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 0xff_ffff;
}

/** Registration ids are 14 bits (libsignal's generateRegistrationId range, 0 excluded). */
function isRegistrationId(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= 0x3fff;
}

function isPreKey(x: unknown): x is PreKeyWire {
  const p = x as Partial<PreKeyWire>;
  return typeof x === 'object' && x !== null && isPreKeyId(p.id) && isKey(p.key);
}

function isSignedPreKey(x: unknown, key: (k: unknown) => boolean): x is SignedPreKeyWire {
  const p = x as Partial<SignedPreKeyWire>;
  return (
    typeof x === 'object' && x !== null && isPreKeyId(p.id) && key(p.key) && isSignature(p.sig)
  );
}

function signedPreKeyOf(x: unknown): SignedPreKeyWire {
  const { id, key, sig } = x as SignedPreKeyWire;
  return { id, key, sig };
}

function isBundle(x: unknown): x is BundleWire {
  const b = x as Partial<BundleWire>;
  return (
    typeof x === 'object' &&
    x !== null &&
    isDeviceId(b.device) &&
    isRegistrationId(b.registrationId) &&
    isSignedPreKey(b.signedPreKey, isKey) &&
    isSignedPreKey(b.kyberPreKey, isKyberKey) &&
    (b.preKey === undefined || isPreKey(b.preKey))
  );
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isDeviceId(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= MAX_DEVICE_ID;
}

export function isDeviceName(x: unknown): x is string {
  return (
    typeof x === 'string' &&
    x.trim().length > 0 &&
    [...x].length <= MAX_DEVICE_NAME_CHARS &&
    // No control characters: a name is shown in lists and printed by the CLI.
    !/\p{Cc}/u.test(x)
  );
}

function isDeviceSeen(x: unknown): x is DeviceSeen {
  const d = x as Partial<DeviceSeen>;
  return (
    typeof x === 'object' &&
    x !== null &&
    isDeviceId(d.id) &&
    typeof d.online === 'boolean' &&
    isCount(d.lastSeen)
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(utf8.decode(bytes));
  } catch {
    bad(`${what}: not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what}: not an object`);
  return v as Record<string, unknown>;
}

function bad(why: string): never {
  throw new Error(why);
}

/** Base64 of bytes, and back (null for anything that is not base64). */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function fromBase64(s: string): Uint8Array | null {
  if (!isBase64(s)) return null;
  const binary = atob(s);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
