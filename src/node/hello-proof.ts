// Hellos that prove who they are: one builder per auth scheme, used by the app's connection
// and by the tests' raw clients, and the check the relay applies to each signature. The
// layout of each proof is PROOF_FIELDS (src/shared/protocol/account.ts).
import {
  encodeDeviceList,
  encodeProof,
  helloTranscript,
  type DeviceList,
  type Proof,
} from '../shared/protocol/account.ts';
import type { AuthScheme, ChallengeFrame, HelloFrame } from '../shared/protocol/index.ts';
import type { KeyPair } from './account-keys.ts';
import { linkCodeId, linkMac, signDeviceList, verifySignature } from './account-keys.ts';

export const AGENT = 'strata/0.1.0';

/** What a hello answers: the relay's challenge on this connection. */
export type Challenge = Pick<ChallengeFrame, 'nonce' | 'relayId'>;

function hello<S extends AuthScheme>(
  scheme: S,
  user: string,
  device: number,
  challenge: Challenge,
  unsigned: Omit<Proof<S>, SignatureField>,
  signers: { [K in SignatureField & keyof Proof<S>]: KeyPair },
): HelloFrame {
  const transcript = helloTranscript(
    scheme,
    user,
    device,
    challenge.relayId,
    challenge.nonce,
    unsigned as Partial<Proof<S>>,
  );
  const proof = { ...unsigned } as Record<string, Uint8Array>;
  for (const [field, key] of Object.entries(signers) as [string, KeyPair][]) {
    proof[field] = key.sign(transcript);
  }
  return {
    type: 'hello',
    from: user,
    fromDevice: device,
    to: '',
    toDevice: 0,
    auth: { scheme, data: encodeProof(scheme, proof as Proof<S>) },
    agent: AGENT,
  };
}

type SignatureField = 'deviceSig' | 'identitySig' | 'recoverySig';

/** A device already on its account. */
export function deviceHello(
  user: string,
  device: number,
  deviceKey: KeyPair,
  challenge: Challenge,
): HelloFrame {
  return hello('device', user, device, challenge, {}, { deviceSig: deviceKey });
}

/** The first device of a new account, or (recover) a fresh device taking an account back. */
export interface NewAccount {
  user: string;
  device: number;
  deviceName: string;
  deviceKey: KeyPair;
  identity: KeyPair;
  /** The public half of the (new) recovery code's key. */
  recoveryKey: Uint8Array;
  /** When the device joined (ms); the device list records it. */
  now: number;
}

/** The account's first device list: this device alone, version 1, signed by the identity. */
export function firstDeviceList(a: NewAccount): { list: Uint8Array; signature: Uint8Array } {
  const list: DeviceList = {
    user: a.user,
    version: 1,
    identityKey: Buffer.from(a.identity.publicKey).toString('base64'),
    devices: [
      {
        id: a.device,
        key: Buffer.from(a.deviceKey.publicKey).toString('base64'),
        name: a.deviceName,
        added: a.now,
      },
    ],
  };
  const bytes = encodeDeviceList(list);
  return { list: bytes, signature: signDeviceList(a.identity, bytes) };
}

/** The unsigned fields of a register or recover proof: the account's keys and first list. */
function newAccountFields(a: NewAccount): Omit<Proof<'register'>, SignatureField> {
  const { list, signature } = firstDeviceList(a);
  return {
    identityKey: a.identity.publicKey,
    deviceKey: a.deviceKey.publicKey,
    recoveryKey: a.recoveryKey,
    deviceList: list,
    deviceListSig: signature,
  };
}

export function registerHello(a: NewAccount, challenge: Challenge): HelloFrame {
  return hello('register', a.user, a.device, challenge, newAccountFields(a), {
    deviceSig: a.deviceKey,
    identitySig: a.identity,
  });
}

/** `oldRecovery`: the key of the recovery code the user typed (recoveryKeyPair). */
export function recoverHello(
  a: NewAccount,
  oldRecovery: KeyPair,
  challenge: Challenge,
): HelloFrame {
  return hello<'recover'>('recover', a.user, a.device, challenge, newAccountFields(a), {
    deviceSig: a.deviceKey,
    identitySig: a.identity,
    recoverySig: oldRecovery,
  });
}

/** A fresh device asking to join the account that offered `code`. The envelope has no name. */
export function linkHello(
  code: string,
  device: number,
  deviceKey: KeyPair,
  deviceName: string,
  challenge: Challenge,
): HelloFrame {
  return hello(
    'link',
    '',
    device,
    challenge,
    {
      codeId: linkCodeId(code),
      deviceKey: deviceKey.publicKey,
      deviceName: new Uint8Array(Buffer.from(deviceName, 'utf8')),
      mac: linkMac(code, deviceKey.publicKey, deviceName),
    },
    { deviceSig: deviceKey },
  );
}

/** The relay's check of one signature in a hello's proof. */
export function checkHelloSignature<S extends AuthScheme>(
  scheme: S,
  hello: HelloFrame,
  proof: Proof<S>,
  challenge: Challenge,
  publicKey: Uint8Array,
  signature: Uint8Array,
): boolean {
  const transcript = helloTranscript(
    scheme,
    hello.from,
    hello.fromDevice,
    challenge.relayId,
    challenge.nonce,
    proof,
  );
  return verifySignature(publicKey, transcript, signature);
}
