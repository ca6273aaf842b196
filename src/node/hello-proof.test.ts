import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeProof,
  encodeAccountMessage,
  parseAccountMessage,
  parseDeviceList,
  type Proof,
} from '../shared/protocol/account.ts';
import { decodeFrame, encodeFrame, type HelloFrame } from '../shared/protocol/index.ts';
import {
  KeyPair,
  checkLinkMac,
  linkCodeId,
  newLinkCode,
  newRecoveryCode,
  normalizeLinkCode,
  openProvision,
  recoveryKeyPair,
  sealProvision,
  verifyDeviceList,
} from './account-keys.ts';
import {
  checkHelloSignature,
  deviceHello,
  linkHello,
  recoverHello,
  registerHello,
  type Challenge,
  type NewAccount,
} from './hello-proof.ts';

const challenge = (): Challenge => ({ nonce: randomBytes(32), relayId: randomBytes(32) });

function account(user = 'alice'): NewAccount {
  return {
    user,
    device: 7,
    deviceName: 'laptop',
    deviceKey: KeyPair.generate(),
    identity: KeyPair.generate(),
    recoveryKey: recoveryKeyPair(user, newRecoveryCode()).publicKey,
    now: 1_700_000_000_000,
  };
}

/** Encodes and decodes the hello as the relay would receive it. */
function wire(h: HelloFrame): HelloFrame {
  const d = decodeFrame(encodeFrame(h));
  if (!d.ok || d.frame.type !== 'hello') throw new Error('did not decode');
  return d.frame;
}

describe('hello proofs', () => {
  it('a device hello checks against the device key, the challenge and the relay, and nothing else', () => {
    const key = KeyPair.generate();
    const c = challenge();
    const h = wire(deviceHello('alice', 7, key, c));
    const proof = decodeProof('device', h.auth.data)!;
    expect(checkHelloSignature('device', h, proof, c, key.publicKey, proof.deviceSig)).toBe(true);
    // Replayed on another connection (another nonce), or to another relay.
    expect(
      checkHelloSignature(
        'device',
        h,
        proof,
        { ...c, nonce: randomBytes(32) },
        key.publicKey,
        proof.deviceSig,
      ),
    ).toBe(false);
    expect(
      checkHelloSignature(
        'device',
        h,
        proof,
        { ...c, relayId: randomBytes(32) },
        key.publicKey,
        proof.deviceSig,
      ),
    ).toBe(false);
    // Claiming another device id or name with the same signature.
    expect(
      checkHelloSignature(
        'device',
        { ...h, fromDevice: 8 },
        proof,
        c,
        key.publicKey,
        proof.deviceSig,
      ),
    ).toBe(false);
    expect(
      checkHelloSignature(
        'device',
        { ...h, from: 'bob' },
        proof,
        c,
        key.publicKey,
        proof.deviceSig,
      ),
    ).toBe(false);
    // Another key.
    expect(
      checkHelloSignature('device', h, proof, c, KeyPair.generate().publicKey, proof.deviceSig),
    ).toBe(false);
  });

  it('a register hello carries a device list signed by the identity, and both keys sign', () => {
    const a = account();
    const c = challenge();
    const h = wire(registerHello(a, c));
    const proof = decodeProof('register', h.auth.data)! as Proof<'register'>;
    expect(verifyDeviceList(proof.identityKey, proof.deviceList, proof.deviceListSig)).toBe(true);
    const list = parseDeviceList(proof.deviceList);
    expect(list).toMatchObject({ user: 'alice', version: 1, devices: [{ id: 7, name: 'laptop' }] });
    for (const [key, sig] of [
      [proof.deviceKey, proof.deviceSig],
      [proof.identityKey, proof.identitySig],
    ] as const) {
      expect(checkHelloSignature('register', h, proof, c, key, sig)).toBe(true);
    }
    // A list swapped for another is no longer the one the signatures cover.
    const other = decodeProof('register', registerHello(account(), c).auth.data)!;
    const swapped = { ...proof, deviceList: other.deviceList };
    expect(checkHelloSignature('register', h, swapped, c, proof.deviceKey, proof.deviceSig)).toBe(
      false,
    );
    expect(verifyDeviceList(proof.identityKey, other.deviceList, proof.deviceListSig)).toBe(false);
  });

  it('a recover hello is signed by the key of the recovery code typed', () => {
    const code = newRecoveryCode();
    const old = recoveryKeyPair('alice', code);
    const c = challenge();
    const h = wire(recoverHello(account(), recoveryKeyPair('alice', code.toLowerCase()), c));
    const proof = decodeProof('recover', h.auth.data)!;
    expect(checkHelloSignature('recover', h, proof, c, old.publicKey, proof.recoverySig)).toBe(
      true,
    );
    const wrong = recoveryKeyPair('alice', newRecoveryCode());
    expect(checkHelloSignature('recover', h, proof, c, wrong.publicKey, proof.recoverySig)).toBe(
      false,
    );
    // The same code is another key for another user.
    expect(recoveryKeyPair('bob', code).publicKey).not.toEqual(old.publicKey);
  });

  it('a link hello has no name, the code id, and a MAC only the code can make', () => {
    const code = newLinkCode();
    expect(code).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    expect(normalizeLinkCode(code.toLowerCase().replace('-', ' '))).toBe(code.replace('-', ''));
    const key = KeyPair.generate();
    const c = challenge();
    const h = wire(linkHello(code, 9, key, 'phone', c));
    expect(h.from).toBe('');
    const proof = decodeProof('link', h.auth.data)!;
    expect(proof.codeId).toEqual(linkCodeId(code));
    expect(checkLinkMac(code, proof.deviceKey, 'phone', proof.mac)).toBe(true);
    expect(checkLinkMac(newLinkCode(), proof.deviceKey, 'phone', proof.mac)).toBe(false);
    expect(checkLinkMac(code, KeyPair.generate().publicKey, 'phone', proof.mac)).toBe(false);
    expect(checkHelloSignature('link', h, proof, c, key.publicKey, proof.deviceSig)).toBe(true);
  });

  it('rejects a proof with missing or extra fields', () => {
    const h = deviceHello('alice', 7, KeyPair.generate(), challenge());
    expect(decodeProof('register', h.auth.data)).toBeNull();
    expect(decodeProof('device', new Uint8Array([...h.auth.data, 0]))).toBeNull();
    expect(decodeProof('device', h.auth.data.subarray(0, 10))).toBeNull();
  });
});

describe('provisions', () => {
  it('open only for the device and code they were sealed for', () => {
    const code = newLinkCode();
    const device = KeyPair.generate();
    const identity = KeyPair.generate();
    const sealed = sealProvision(code, device.publicKey, {
      user: 'alice',
      identity: identity.serialize(),
    });
    const opened = openProvision(code, device, sealed)!;
    expect(opened.user).toBe('alice');
    expect(KeyPair.deserialize(opened.identity).publicKey).toEqual(identity.publicKey);
    expect(openProvision(newLinkCode(), device, sealed)).toBeNull();
    expect(openProvision(code, KeyPair.generate(), sealed)).toBeNull();
    const flipped = new Uint8Array(sealed);
    flipped[flipped.length - 20]! ^= 1;
    expect(openProvision(code, device, flipped)).toBeNull();
    expect(openProvision(code, device, sealed.subarray(0, 20))).toBeNull();
  });
});

describe('account messages', () => {
  it('round-trip, and anything malformed is an Error, never a throw', () => {
    const m = { kind: 'link-offer' as const, codeId: 'AAAAAAAAAAAAAAAAAAAAAA==' };
    expect(parseAccountMessage(encodeAccountMessage(m))).toEqual({ ...m, expiresAt: undefined });
    for (const body of [
      'not json',
      '[]',
      '{"kind":"nope"}',
      '{"kind":"link-offer"}',
      '{"kind":"link-offer","codeId":"%%%"}',
      '{"kind":"link-request","codeId":"AAAA","device":0,"deviceKey":"x","name":"a","mac":"AAAA"}',
      '{"kind":"identities","users":["not a name!"]}',
      '{"kind":"devices","seen":[{"id":1}]}',
    ]) {
      expect(parseAccountMessage(new TextEncoder().encode(body))).toBeInstanceOf(Error);
    }
    expect(parseAccountMessage(new Uint8Array([0xff, 0xfe]))).toBeInstanceOf(Error);
  });

  it('device names may not hide control characters', () => {
    const key = Buffer.from(KeyPair.generate().publicKey).toString('base64');
    const req = (name: string) =>
      parseAccountMessage(
        encodeAccountMessage({
          kind: 'link-request',
          codeId: 'AAAA',
          device: 3,
          deviceKey: key,
          name,
          mac: 'AAAA',
        }),
      );
    expect(req('phone')).not.toBeInstanceOf(Error);
    expect(req('pho\u001bne')).toBeInstanceOf(Error);
    expect(req(' ')).toBeInstanceOf(Error);
    expect(req('x'.repeat(65))).toBeInstanceOf(Error);
  });
});
