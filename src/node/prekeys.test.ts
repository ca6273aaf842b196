import {
  CiphertextMessageType,
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  PreKeyBundle,
  PreKeySignalMessage,
  PreKeyStore,
  ProtocolAddress,
  PublicKey,
  SessionStore,
  processPreKeyBundle,
  signalDecryptPreKey,
  signalEncrypt,
  type KyberPreKeyRecord,
  type KyberPreKeyStore,
  type PreKeyRecord,
  type PrivateKey,
  type SessionRecord,
  type SignedPreKeyRecord,
  type SignedPreKeyStore,
} from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import {
  encodeAccountMessage,
  fromBase64,
  parseAccountMessage,
  type AccountMessage,
} from '../shared/protocol/account.ts';
import { KYBER_PUBLIC_KEY_BYTES, PREKEY_BATCH } from '../shared/protocol/constants.ts';
import { KeyPair, verifySignature } from './account-keys.ts';
import { MAX_PREKEY_ID, checkPrekeyUpload, makePrekeyUpload, preKeyBundleOf } from './prekeys.ts';

const parse = (m: unknown) => parseAccountMessage(new TextEncoder().encode(JSON.stringify(m)));
const bytes = (s: string) => fromBase64(s)! as Uint8Array<ArrayBuffer>;

describe('makePrekeyUpload', () => {
  it('signs the signed and Kyber prekeys with the account identity, and the message parses back unchanged', () => {
    const identity = KeyPair.generate();
    const up = makePrekeyUpload(identity, {
      registrationId: 77,
      firstId: 1,
      signedId: 5,
      kyberId: 6,
    });
    const m = up.message;
    expect(parse(m)).toEqual(m);
    expect(m.preKeys.map((p) => p.id)).toEqual(
      Array.from({ length: PREKEY_BATCH }, (_, i) => i + 1),
    );
    expect(up.nextId).toBe(PREKEY_BATCH + 1);
    expect(fromBase64(m.kyberPreKey.key)!.length).toBe(KYBER_PUBLIC_KEY_BYTES);
    for (const k of [m.signedPreKey, m.kyberPreKey])
      expect(verifySignature(identity.publicKey, bytes(k.key), bytes(k.sig))).toBe(true);
    // The private records are the public keys' other halves.
    expect(up.preKeys[3]!.privateKey().getPublicKey().serialize()).toEqual(
      bytes(m.preKeys[3]!.key),
    );
    expect(up.signedPreKey.privateKey().getPublicKey().serialize()).toEqual(
      bytes(m.signedPreKey.key),
    );
    expect(up.kyberPreKey.publicKey().serialize()).toEqual(bytes(m.kyberPreKey.key));
    // What the relay serves from it is a bundle libsignal takes.
    const bundle = PreKeyBundle.new(
      m.registrationId,
      1,
      m.preKeys[0]!.id,
      PublicKey.deserialize(bytes(m.preKeys[0]!.key)),
      m.signedPreKey.id,
      up.signedPreKey.publicKey(),
      bytes(m.signedPreKey.sig),
      PublicKey.deserialize(identity.publicKey as Uint8Array<ArrayBuffer>),
      m.kyberPreKey.id,
      up.kyberPreKey.publicKey(),
      bytes(m.kyberPreKey.sig),
    );
    expect(bundle.registrationId()).toBe(77);
  });

  it('takes a libsignal IdentityKeyPair as well, and republishes held signed keys with a new batch', () => {
    const identity = IdentityKeyPair.generate();
    const first = makePrekeyUpload(identity, {
      registrationId: 1,
      firstId: MAX_PREKEY_ID - 1,
      count: 3,
      signedId: 1,
      kyberId: 1,
    });
    // Ids wrap past the 24-bit limit to 1.
    expect(first.message.preKeys.map((p) => p.id)).toEqual([MAX_PREKEY_ID - 1, MAX_PREKEY_ID, 1]);
    const pub = identity.publicKey.serialize();
    const k = first.message.kyberPreKey;
    expect(verifySignature(pub, bytes(k.key), bytes(k.sig))).toBe(true);
    const next = makePrekeyUpload(identity, {
      registrationId: 1,
      firstId: first.nextId,
      count: 2,
      signedPreKey: first.signedPreKey,
      kyberPreKey: first.kyberPreKey,
    });
    expect(next.message.signedPreKey).toEqual(first.message.signedPreKey);
    expect(next.message.kyberPreKey).toEqual(first.message.kyberPreKey);
    expect(next.message.preKeys.map((p) => p.id)).toEqual([2, 3]);
  });

  it('refuses what the wire would refuse', () => {
    const identity = KeyPair.generate();
    const base = { registrationId: 1, firstId: 1, signedId: 1, kyberId: 1 };
    expect(() => makePrekeyUpload(identity, { ...base, count: PREKEY_BATCH + 1 })).toThrow();
    expect(() => makePrekeyUpload(identity, { ...base, firstId: 0 })).toThrow();
    expect(() => makePrekeyUpload(identity, { ...base, registrationId: 0x4000 })).toThrow();
    expect(() => makePrekeyUpload(identity, { registrationId: 1, firstId: 1 })).toThrow();
  });
});

describe('a session from a published bundle', () => {
  it('alice starts a PQXDH session from bob’s published prekeys, and bob decrypts with the records he kept', async () => {
    const aliceId = IdentityKeyPair.generate();
    const bobId = IdentityKeyPair.generate();
    const bob = makePrekeyUpload(bobId, {
      registrationId: 42,
      firstId: 7,
      count: 3,
      signedId: 2,
      kyberId: 3,
    });
    const m = bob.message;
    // The bundle exactly as the relay serves it: the wire fields and the account identity.
    const bundle = preKeyBundleOf(
      {
        device: 1,
        registrationId: m.registrationId,
        signedPreKey: m.signedPreKey,
        kyberPreKey: m.kyberPreKey,
        preKey: m.preKeys[1]!,
      },
      bobId.publicKey.serialize(),
    );
    const aliceAt = ProtocolAddress.new('alice.1', 1);
    const bobAt = ProtocolAddress.new('bob.1', 1);
    const alice = { sessions: new Sessions(), identities: new Identities(aliceId, 1) };
    await processPreKeyBundle(bundle, bobAt, aliceAt, alice.sessions, alice.identities);
    const sealed = await signalEncrypt(
      new TextEncoder().encode('hello bob') as Uint8Array<ArrayBuffer>,
      bobAt,
      aliceAt,
      alice.sessions,
      alice.identities,
    );
    expect(sealed.type()).toBe(CiphertextMessageType.PreKey);

    const kept = new Kept(bob.preKeys, bob.signedPreKey, bob.kyberPreKey);
    const plain = await signalDecryptPreKey(
      PreKeySignalMessage.deserialize(sealed.serialize()),
      aliceAt,
      bobAt,
      new Sessions(),
      new Identities(bobId, 42),
      kept,
      kept,
      kept,
    );
    expect(new TextDecoder().decode(plain)).toBe('hello bob');
    // The one-time prekey served was used and removed from bob's store.
    expect([...kept.preKeys.keys()]).toEqual([7, 9]);

    // A bundle whose signed prekey another identity signed is refused by libsignal too.
    const forged = makePrekeyUpload(IdentityKeyPair.generate(), {
      registrationId: 1,
      firstId: 1,
      count: 0,
      signedId: 2,
      kyberId: 3,
    });
    const bad = preKeyBundleOf(
      {
        device: 2,
        registrationId: 42,
        signedPreKey: forged.message.signedPreKey,
        kyberPreKey: m.kyberPreKey,
      },
      bobId.publicKey.serialize(),
    );
    await expect(
      processPreKeyBundle(
        bad,
        ProtocolAddress.new('bob.2', 1),
        aliceAt,
        new Sessions(),
        alice.identities,
      ),
    ).rejects.toThrow(/signature/i);
  });
});

describe('checkPrekeyUpload (what the relay checks before storing)', () => {
  it('passes an upload signed by the identity, and says what is wrong with any other', () => {
    const identity = KeyPair.generate();
    const other = KeyPair.generate();
    const o = { registrationId: 1, firstId: 1, count: 2, signedId: 1, kyberId: 1 };
    const good = makePrekeyUpload(identity, o).message;
    const theirs = makePrekeyUpload(other, o).message;
    expect(checkPrekeyUpload(identity.publicKey, good)).toBeNull();
    expect(checkPrekeyUpload(other.publicKey, good)).toMatch(/signed prekey is not signed/);
    expect(
      checkPrekeyUpload(identity.publicKey, { ...good, kyberPreKey: theirs.kyberPreKey }),
    ).toMatch(/Kyber prekey is not signed/);
    // The right length, but not a key libsignal takes (a wrong type byte).
    const kyber = fromBase64(good.kyberPreKey.key)!;
    kyber[0] = 0x7f;
    expect(
      checkPrekeyUpload(identity.publicKey, {
        ...good,
        kyberPreKey: { ...good.kyberPreKey, key: Buffer.from(kyber).toString('base64') },
      }),
    ).toMatch(/Kyber prekey is not a public key/);
    const ec = fromBase64(good.signedPreKey.key)!;
    ec[0] = 0x7f;
    const badEc = Buffer.from(ec).toString('base64');
    expect(
      checkPrekeyUpload(identity.publicKey, {
        ...good,
        signedPreKey: { ...good.signedPreKey, key: badEc },
      }),
    ).toMatch(/signed prekey is not a public key/);
    expect(
      checkPrekeyUpload(identity.publicKey, { ...good, preKeys: [{ id: 4, key: badEc }] }),
    ).toMatch(/one-time prekey 4 is not a public key/);
  });
});

describe('prekey account messages', () => {
  const identity = KeyPair.generate();
  const up = makePrekeyUpload(identity, {
    registrationId: 9,
    firstId: 1,
    count: 2,
    signedId: 1,
    kyberId: 2,
  }).message;
  const bundle = {
    device: 3,
    registrationId: 9,
    signedPreKey: up.signedPreKey,
    kyberPreKey: up.kyberPreKey,
    preKey: up.preKeys[0]!,
  };

  it('round-trip: prekeys, prekey-count, bundles (asked and answered), devices-changed', () => {
    const good: AccountMessage[] = [
      up,
      { ...up, preKeys: [] },
      { kind: 'prekey-count', count: 0 },
      { kind: 'bundles', user: 'bob' },
      { kind: 'bundles', user: 'bob', devices: [1, 2] },
      {
        kind: 'bundles',
        user: 'bob',
        deviceList: 'AAAA',
        deviceListSig: 'AAAA',
        bundles: [bundle, { ...bundle, device: 4, preKey: undefined }],
      },
      { kind: 'devices-changed', user: 'bob' },
    ];
    for (const m of good) {
      const back = parseAccountMessage(encodeAccountMessage(m));
      expect(back).not.toBeInstanceOf(Error);
      expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(m)));
    }
  });

  it('anything malformed is an Error naming the field, never a throw', () => {
    const longKyber = { ...up.kyberPreKey, key: up.signedPreKey.key };
    const cases: [unknown, RegExp][] = [
      [{ ...up, registrationId: 0 }, /registrationId/],
      [{ ...up, registrationId: 0x4000 }, /registrationId/],
      [{ ...up, preKeys: 'x' }, /preKeys/],
      [{ ...up, preKeys: [{ id: 0, key: up.preKeys[0]!.key }] }, /preKeys/],
      [{ ...up, preKeys: [{ id: MAX_PREKEY_ID + 1, key: up.preKeys[0]!.key }] }, /preKeys/],
      [{ ...up, preKeys: Array(PREKEY_BATCH + 1).fill(up.preKeys[0]) }, /preKeys/],
      [{ ...up, signedPreKey: { ...up.signedPreKey, sig: 'AAAA' } }, /signedPreKey/],
      [{ ...up, signedPreKey: up.kyberPreKey }, /signedPreKey/],
      [{ ...up, kyberPreKey: longKyber }, /kyberPreKey/],
      [{ ...up, signedPreKey: null }, /signedPreKey/],
      [{ kind: 'prekey-count', count: -1 }, /count/],
      [{ kind: 'prekey-count' }, /count/],
      [{ kind: 'bundles' }, /user/],
      [{ kind: 'bundles', user: 'not a name!' }, /user/],
      [{ kind: 'bundles', user: 'bob', devices: [0] }, /devices/],
      [{ kind: 'bundles', user: 'bob', devices: Array(17).fill(1) }, /devices/],
      [{ kind: 'bundles', user: 'bob', bundles: [{ ...bundle, device: 0 }] }, /bundles/],
      [{ kind: 'bundles', user: 'bob', bundles: [{ ...bundle, preKey: { id: 1 } }] }, /bundles/],
      [{ kind: 'bundles', user: 'bob', bundles: [null] }, /bundles/],
      [{ kind: 'devices-changed' }, /user/],
    ];
    for (const [body, why] of cases) {
      const m = parse(body);
      expect(m, JSON.stringify(body).slice(0, 120)).toBeInstanceOf(Error);
      expect((m as Error).message).toMatch(why);
    }
  });
});

// In-memory libsignal stores, just enough for one session.
class Sessions extends SessionStore {
  private readonly map = new Map<string, SessionRecord>();
  async saveSession(a: ProtocolAddress, r: SessionRecord) {
    this.map.set(a.toString(), r);
  }
  async getSession(a: ProtocolAddress) {
    return this.map.get(a.toString()) ?? null;
  }
  async getExistingSessions(as: ProtocolAddress[]) {
    return as.map((a) => this.map.get(a.toString())!);
  }
}

class Identities extends IdentityKeyStore {
  private readonly known = new Map<string, PublicKey>();
  constructor(
    private readonly pair: IdentityKeyPair,
    private readonly registrationId: number,
  ) {
    super();
  }
  async getIdentityKey(): Promise<PrivateKey> {
    return this.pair.privateKey;
  }
  async getLocalRegistrationId() {
    return this.registrationId;
  }
  async saveIdentity(a: ProtocolAddress, key: PublicKey) {
    this.known.set(a.toString(), key);
    return IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity() {
    return true;
  }
  async getIdentity(a: ProtocolAddress) {
    return this.known.get(a.toString()) ?? null;
  }
}

class Kept extends PreKeyStore implements SignedPreKeyStore, KyberPreKeyStore {
  readonly preKeys: Map<number, PreKeyRecord>;
  constructor(
    preKeys: PreKeyRecord[],
    private readonly signed: SignedPreKeyRecord,
    private readonly kyber: KyberPreKeyRecord,
  ) {
    super();
    this.preKeys = new Map(preKeys.map((p) => [p.id(), p]));
  }
  async savePreKey(id: number, r: PreKeyRecord) {
    this.preKeys.set(id, r);
  }
  async getPreKey(id: number) {
    const r = this.preKeys.get(id);
    if (!r) throw new Error(`no prekey ${id}`);
    return r;
  }
  async removePreKey(id: number) {
    this.preKeys.delete(id);
  }
  async saveSignedPreKey() {}
  async getSignedPreKey(id: number) {
    if (id !== this.signed.id()) throw new Error(`no signed prekey ${id}`);
    return this.signed;
  }
  async saveKyberPreKey() {}
  async getKyberPreKey(id: number) {
    if (id !== this.kyber.id()) throw new Error(`no Kyber prekey ${id}`);
    return this.kyber;
  }
  async markKyberPreKeyUsed() {}
}
