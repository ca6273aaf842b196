// This device's prekeys (docs/security.md, "Sessions"): a signed prekey and a last-resort
// Kyber prekey, signed by the account's identity key, and batches of one-time prekeys. The
// private halves stay in the profile (staged like every Signal store write); the public
// halves go to the relay in a `prekeys` account message, which serves them as bundles.
import {
  KEMKeyPair,
  KyberPreKeyRecord,
  PreKeyRecord,
  PrivateKey,
  SignedPreKeyRecord,
} from '@signalapp/libsignal-client';
import type { AccountOf, SignedPreKeyWire } from '../../shared/protocol/account.ts';
import { toBase64 } from '../../shared/protocol/account.ts';
import { PREKEY_BATCH } from '../../shared/protocol/index.ts';
import type { SignalStores } from './stores.ts';

/** Prekey ids are 24 bits; a batch's ids follow the last one, wrapping past the top. */
const MAX_PREKEY_ID = 0xff_ffff;
/** The signed and the Kyber prekey's ids (one of each, replaced together when rotated). */
const SIGNED_PREKEY_ID = 1;

/** Where the next batch's ids start, kept in meta by the caller. */
export function nextPrekeyId(last: number): number {
  return (last % MAX_PREKEY_ID) + 1;
}

/**
 * Makes a batch of one-time prekeys (and the signed and Kyber prekeys when this device has
 * none yet), writing their private records through the stores' current stage. Returns the
 * upload for the relay and the last id used.
 */
export async function makePrekeys(
  stores: SignalStores,
  firstId: number,
  existing: { signed: SignedPreKeyRecord | null; kyber: KyberPreKeyRecord | null },
): Promise<{ upload: AccountOf<'prekeys'>; lastId: number }> {
  const identity = stores.identity.privateKey;
  let signed = existing.signed;
  if (signed === null) {
    const key = PrivateKey.generate();
    const pub = key.getPublicKey();
    signed = SignedPreKeyRecord.new(
      SIGNED_PREKEY_ID,
      Date.now(),
      pub,
      key,
      identity.sign(pub.serialize()),
    );
    await stores.signedPrekeys.saveSignedPreKey(SIGNED_PREKEY_ID, signed);
  }
  let kyber = existing.kyber;
  if (kyber === null) {
    const pair = KEMKeyPair.generate();
    kyber = KyberPreKeyRecord.new(
      SIGNED_PREKEY_ID,
      Date.now(),
      pair,
      identity.sign(pair.getPublicKey().serialize()),
    );
    await stores.kyberPrekeys.saveKyberPreKey(SIGNED_PREKEY_ID, kyber);
  }
  const preKeys: { id: number; key: string }[] = [];
  let id = firstId;
  for (let i = 0; i < PREKEY_BATCH; i++) {
    const key = PrivateKey.generate();
    await stores.prekeys.savePreKey(id, PreKeyRecord.new(id, key.getPublicKey(), key));
    preKeys.push({ id, key: toBase64(key.getPublicKey().serialize()) });
    if (i < PREKEY_BATCH - 1) id = nextPrekeyId(id);
  }
  const wire = (r: SignedPreKeyRecord | KyberPreKeyRecord): SignedPreKeyWire => ({
    id: r.id(),
    key: toBase64(r.publicKey().serialize()),
    sig: toBase64(r.signature()),
  });
  return {
    upload: {
      kind: 'prekeys',
      registrationId: stores.registrationId,
      signedPreKey: wire(signed),
      kyberPreKey: wire(kyber),
      preKeys,
    },
    lastId: id,
  };
}
