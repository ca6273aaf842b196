// This device's prekeys (docs/security.md, "Sessions"): made by src/node/prekeys.ts (the
// relay's tests use the same maker), kept here through the Signal stores' current stage so
// that they are committed with the meta that counts them, and published as a `prekeys`
// account message, which the relay serves as bundles.
import type { KyberPreKeyRecord, SignedPreKeyRecord } from '@signalapp/libsignal-client';
import type { AccountOf } from '../../shared/protocol/account.ts';
import { makePrekeyUpload } from '../../node/prekeys.ts';
import type { SignalStores } from './stores.ts';

/** The signed and the Kyber prekey's ids: one of each, made once. */
const SIGNED_PREKEY_ID = 1;

/**
 * Makes a batch of one-time prekeys from `firstId` (and the signed and Kyber prekeys when
 * this device has none yet), staging their private records. Returns the upload for the relay
 * and where the next batch starts.
 */
export async function makePrekeys(
  stores: SignalStores,
  firstId: number,
  existing: { signed: SignedPreKeyRecord | null; kyber: KyberPreKeyRecord | null },
): Promise<{ upload: AccountOf<'prekeys'>; nextId: number }> {
  const made = makePrekeyUpload(stores.identity, {
    registrationId: stores.registrationId,
    firstId,
    ...(existing.signed ? { signedPreKey: existing.signed } : { signedId: SIGNED_PREKEY_ID }),
    ...(existing.kyber ? { kyberPreKey: existing.kyber } : { kyberId: SIGNED_PREKEY_ID }),
  });
  if (!existing.signed)
    await stores.signedPrekeys.saveSignedPreKey(SIGNED_PREKEY_ID, made.signedPreKey);
  if (!existing.kyber)
    await stores.kyberPrekeys.saveKyberPreKey(SIGNED_PREKEY_ID, made.kyberPreKey);
  for (const p of made.preKeys) await stores.prekeys.savePreKey(p.id(), p);
  return { upload: made.message, nextId: made.nextId };
}
