// A device's prekeys (docs/protocol.md, "Prekey bundles"): the records it keeps private and
// the `prekeys` account message that publishes their public halves on the relay. The
// signed prekey and the last-resort Kyber prekey are signed by the ACCOUNT identity key
// (the Signal identity of every device of the account), each signature over the public
// key's serialized bytes, which is what libsignal's processPreKeyBundle checks and what the
// relay checks before it stores them. Pure: makes keys, touches no store.
import {
  IdentityKeyPair,
  KEMKeyPair,
  KEMPublicKey,
  KyberPreKeyRecord,
  PreKeyBundle,
  PreKeyRecord,
  PrivateKey,
  PublicKey,
  SignedPreKeyRecord,
} from '@signalapp/libsignal-client';
import {
  fromBase64,
  toBase64,
  type AccountOf,
  type BundleWire,
} from '../shared/protocol/account.ts';
import { PREKEY_BATCH } from '../shared/protocol/constants.ts';
import { isPublicKey, verifySignature, type KeyPair } from './account-keys.ts';

/** Prekey ids are 24 bits on the wire (the parser's rule, as Signal's clients make them). */
export const MAX_PREKEY_ID = 0xff_ffff;

/** The account identity: issue 11's KeyPair, or the same pair as libsignal's IdentityKeyPair. */
export type PrekeySigner = KeyPair | IdentityKeyPair;

export interface PrekeyUploadOptions {
  /** The device's registration id (1..0x3fff, libsignal's generateRegistrationId). */
  registrationId: number;
  /** Id of the first one-time prekey; the batch takes `count` ids from it (wrapping past MAX_PREKEY_ID to 1). */
  firstId: number;
  /** One-time prekeys to make (0..PREKEY_BATCH); default PREKEY_BATCH. */
  count?: number;
  /**
   * Ids of a new signed prekey and a new last-resort Kyber prekey; without them only
   * one-time prekeys are made and `signedPreKey`/`kyberPreKey` must be given (the ones held).
   */
  signedId?: number;
  kyberId?: number;
  /** The signed and Kyber prekeys the device already has, republished unchanged. */
  signedPreKey?: SignedPreKeyRecord;
  kyberPreKey?: KyberPreKeyRecord;
  /** Timestamp stored in the new signed records (ms); default Date.now(). */
  now?: number;
}

export interface PrekeyUpload {
  /** The account message to send to the relay. */
  message: AccountOf<'prekeys'>;
  /** The private records to keep in the device's stores (the new ones, or those given). */
  signedPreKey: SignedPreKeyRecord;
  kyberPreKey: KyberPreKeyRecord;
  preKeys: PreKeyRecord[];
  /** The id the next batch starts at. */
  nextId: number;
}

/**
 * Makes a batch of one-time prekeys (and, when asked, a new signed prekey and Kyber prekey,
 * both signed by `identity`) and the `prekeys` message publishing them. Throws a plain Error
 * for ids or counts the wire would refuse.
 */
export function makePrekeyUpload(identity: PrekeySigner, o: PrekeyUploadOptions): PrekeyUpload {
  const count = o.count ?? PREKEY_BATCH;
  if (!Number.isInteger(count) || count < 0 || count > PREKEY_BATCH)
    throw new Error(`a prekey upload holds 0 to ${PREKEY_BATCH} one-time prekeys`);
  if (!Number.isInteger(o.registrationId) || o.registrationId < 1 || o.registrationId > 0x3fff)
    throw new Error('a registration id is 1 to 16383');
  checkId(o.firstId, 'firstId');
  const now = o.now ?? Date.now();

  let signedPreKey = o.signedPreKey;
  if (o.signedId !== undefined) {
    checkId(o.signedId, 'signedId');
    const key = PrivateKey.generate();
    const pub = key.getPublicKey();
    signedPreKey = SignedPreKeyRecord.new(
      o.signedId,
      now,
      pub,
      key,
      sign(identity, pub.serialize()),
    );
  }
  let kyberPreKey = o.kyberPreKey;
  if (o.kyberId !== undefined) {
    checkId(o.kyberId, 'kyberId');
    const pair = KEMKeyPair.generate();
    const sig = sign(identity, pair.getPublicKey().serialize());
    kyberPreKey = KyberPreKeyRecord.new(o.kyberId, now, pair, sig);
  }
  if (!signedPreKey || !kyberPreKey)
    throw new Error('a prekey upload needs a signed prekey and a Kyber prekey, new or held');

  const preKeys: PreKeyRecord[] = [];
  let id = o.firstId;
  for (let i = 0; i < count; i++) {
    const key = PrivateKey.generate();
    preKeys.push(PreKeyRecord.new(id, key.getPublicKey(), key));
    id = id >= MAX_PREKEY_ID ? 1 : id + 1;
  }

  return {
    message: {
      kind: 'prekeys',
      registrationId: o.registrationId,
      signedPreKey: {
        id: signedPreKey.id(),
        key: toBase64(signedPreKey.publicKey().serialize()),
        sig: toBase64(signedPreKey.signature()),
      },
      kyberPreKey: {
        id: kyberPreKey.id(),
        key: toBase64(kyberPreKey.publicKey().serialize()),
        sig: toBase64(kyberPreKey.signature()),
      },
      preKeys: preKeys.map((p) => ({ id: p.id(), key: toBase64(p.publicKey().serialize()) })),
    },
    signedPreKey,
    kyberPreKey,
    preKeys,
    nextId: id,
  };
}

/**
 * The libsignal PreKeyBundle of one device's bundle as the relay serves it, with the account
 * identity key (base64-decoded bytes) the asker trusts for that user. The libsignal device id
 * is 1: a Strata device is addressed as `ProtocolAddress.new(`${user}.${device}`, 1)`.
 * Throws when a key is not one libsignal takes; processPreKeyBundle then checks the
 * signatures against `identityKey`.
 */
export function preKeyBundleOf(b: BundleWire, identityKey: Uint8Array): PreKeyBundle {
  const raw = (s: string) => {
    const bytes = fromBase64(s);
    if (!bytes) throw new Error('a bundle field is not base64');
    return bytes as Uint8Array<ArrayBuffer>;
  };
  return PreKeyBundle.new(
    b.registrationId,
    1,
    b.preKey ? b.preKey.id : null,
    b.preKey ? PublicKey.deserialize(raw(b.preKey.key)) : null,
    b.signedPreKey.id,
    PublicKey.deserialize(raw(b.signedPreKey.key)),
    raw(b.signedPreKey.sig),
    PublicKey.deserialize(identityKey as Uint8Array<ArrayBuffer>),
    b.kyberPreKey.id,
    KEMPublicKey.deserialize(raw(b.kyberPreKey.key)),
    raw(b.kyberPreKey.sig),
  );
}

/**
 * What the relay checks of a parsed `prekeys` message before it stores anything: the signed
 * prekey and the Kyber prekey are public keys libsignal takes, signed by `identityKey` (the
 * account's) over their serialized bytes, and every one-time prekey is a public key.
 * Returns why not, or null.
 */
export function checkPrekeyUpload(identityKey: Uint8Array, m: AccountOf<'prekeys'>): string | null {
  const signed = fromBase64(m.signedPreKey.key);
  const kyber = fromBase64(m.kyberPreKey.key);
  if (!signed || !isPublicKey(signed)) return 'prekeys: the signed prekey is not a public key';
  if (!kyber || !isKyberPublicKey(kyber)) return 'prekeys: the Kyber prekey is not a public key';
  for (const [key, sig, what] of [
    [signed, m.signedPreKey.sig, 'signed prekey'],
    [kyber, m.kyberPreKey.sig, 'Kyber prekey'],
  ] as const) {
    const signature = fromBase64(sig);
    if (!signature || !verifySignature(identityKey, key, signature))
      return `prekeys: the ${what} is not signed by the account identity key`;
  }
  for (const p of m.preKeys) {
    const key = fromBase64(p.key);
    if (!key || !isPublicKey(key)) return `prekeys: one-time prekey ${p.id} is not a public key`;
  }
  return null;
}

function isKyberPublicKey(key: Uint8Array): boolean {
  try {
    KEMPublicKey.deserialize(key as Uint8Array<ArrayBuffer>);
    return true;
  } catch {
    return false;
  }
}

function sign(identity: PrekeySigner, message: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  return identity instanceof IdentityKeyPair
    ? identity.privateKey.sign(message)
    : (identity.sign(message) as Uint8Array<ArrayBuffer>);
}

function checkId(id: number, what: string): void {
  if (!Number.isInteger(id) || id < 1 || id > MAX_PREKEY_ID)
    throw new Error(`${what}: prekey ids are 1 to ${MAX_PREKEY_ID}`);
}
