import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyPair, signDeviceList } from '../../node/account-keys.ts';
import {
  encodeDeviceList,
  fromBase64,
  toBase64,
  type AccountOf,
  type BundleWire,
} from '../../shared/protocol/account.ts';
import { PREKEY_BATCH } from '../../shared/protocol/constants.ts';
import { closeDatabase, openDatabase, type Db } from '../store/database.ts';
import { parseSealed, SealError } from './content.ts';
import { decodeControl, encodeControl } from './controls.ts';
import { SealPending, SignalEngine, type Directory } from './engine.ts';

/** A relay's directory in memory: accounts' device lists, identities and prekeys. */
class FakeDirectory {
  readonly accounts = new Map<string, { identity: KeyPair; devices: number[] }>();
  readonly uploads = new Map<string, AccountOf<'prekeys'>>();
  bundleRequests = 0;

  directoryFor(user: string, device: number): Directory {
    return {
      bundles: async (u, devices) => this.bundles(u, devices, `${user}.${device}`),
      identityKey: async (u) => this.accounts.get(u)?.identity.publicKey ?? null,
      publish: (upload) => this.uploads.set(`${user}.${device}`, upload),
    };
  }

  private bundles(user: string, asked: number[] | undefined, asker: string): AccountOf<'bundles'> {
    this.bundleRequests++;
    const a = this.accounts.get(user);
    if (!a) return { kind: 'bundles', user };
    const list = encodeDeviceList({
      user,
      version: 1,
      identityKey: toBase64(a.identity.publicKey),
      devices: a.devices.map((id) => ({
        id,
        key: toBase64(KeyPair.generate().publicKey),
        name: `d${id}`,
        added: 0,
      })),
    });
    const bundles: BundleWire[] = [];
    for (const d of asked ?? a.devices) {
      const up = this.uploads.get(`${user}.${d}`);
      if (!up || `${user}.${d}` === asker || !a.devices.includes(d)) continue;
      const preKey = up.preKeys.shift();
      bundles.push({
        device: d,
        registrationId: up.registrationId,
        signedPreKey: up.signedPreKey,
        kyberPreKey: up.kyberPreKey,
        ...(preKey ? { preKey } : {}),
      });
    }
    return {
      kind: 'bundles',
      user,
      deviceList: toBase64(list),
      deviceListSig: toBase64(signDeviceList(a.identity, list)),
      bundles,
    };
  }
}

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(async () => {
  await Promise.all(dbs.splice(0).map(closeDatabase));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function engine(dir: FakeDirectory, user: string, device: number, identity: KeyPair) {
  const path = mkdtempSync(join(tmpdir(), 'strata-engine-'));
  dirs.push(path);
  const db = openDatabase(path);
  dbs.push(db);
  const pair = IdentityKeyPair.deserialize(identity.serialize() as Uint8Array<ArrayBuffer>);
  const e = new SignalEngine(db, { user, device }, pair, dir.directoryFor(user, device));
  return { e, db };
}

/** Seals and commits (the stage applied alone, as the transport's transaction would). */
async function seal(x: { e: SignalEngine; db: Db }, peer: string, id: number, text: string) {
  return x.e.seal(
    { user: userOf(x.e), device: deviceOf(x.e), id },
    peer,
    new TextEncoder().encode(text),
    true,
    (_s, stage) => stage.apply(x.db),
  );
}

async function open(
  x: { e: SignalEngine; db: Db },
  from: { user: string; device: number; id: number },
  wire: Uint8Array,
) {
  const opened = await x.e.open(from, wire, (_o, stage) => stage.apply(x.db));
  return new TextDecoder().decode(opened.body);
}

const meta = new WeakMap<SignalEngine, { user: string; device: number }>();
function userOf(e: SignalEngine) {
  return meta.get(e)!.user;
}
function deviceOf(e: SignalEngine) {
  return meta.get(e)!.device;
}

async function setup() {
  const dir = new FakeDirectory();
  const aliceId = KeyPair.generate();
  const bobId = KeyPair.generate();
  dir.accounts.set('alice', { identity: aliceId, devices: [11, 12] });
  dir.accounts.set('bob', { identity: bobId, devices: [21] });
  const a1 = engine(dir, 'alice', 11, aliceId);
  const a2 = engine(dir, 'alice', 12, aliceId);
  const b1 = engine(dir, 'bob', 21, bobId);
  for (const [x, user, device] of [
    [a1, 'alice', 11],
    [a2, 'alice', 12],
    [b1, 'bob', 21],
  ] as const) {
    meta.set(x.e, { user, device });
    await x.e.prekeyCount(0);
  }
  return { dir, a1, a2, b1 };
}

describe('the Signal engine', () => {
  it('seals a message once for every device of the peer and of our own account', async () => {
    const { a1, a2, b1 } = await setup();
    const sealed = await seal(b1, 'alice', 1, 'hello alice');
    const table = parseSealed(sealed.wire).entries.map((e) => `${e.user}.${e.device}`);
    expect(table.sort()).toEqual(['alice.11', 'alice.12']);
    expect(Buffer.from(sealed.wire).includes('hello alice')).toBe(false);
    expect(await open(a1, { user: 'bob', device: 21, id: 1 }, sealed.wire)).toBe('hello alice');
    expect(await open(a2, { user: 'bob', device: 21, id: 1 }, sealed.wire)).toBe('hello alice');
    // The reply goes to bob and to alice's other device through the Double Ratchet.
    const reply = await seal(a1, 'bob', 2, 'hi bob');
    expect(
      parseSealed(reply.wire)
        .entries.map((e) => `${e.user}.${e.device}`)
        .sort(),
    ).toEqual(['alice.12', 'bob.21']);
    expect(await open(b1, { user: 'alice', device: 11, id: 2 }, reply.wire)).toBe('hi bob');
    expect(await open(a2, { user: 'alice', device: 11, id: 2 }, reply.wire)).toBe('hi bob');
  });

  it('keeps sessions across messages: only the first message to a device fetches its bundle', async () => {
    const { dir, a1, b1 } = await setup();
    const first = await seal(b1, 'alice', 1, 'one');
    await open(a1, { user: 'bob', device: 21, id: 1 }, first.wire);
    const before = dir.bundleRequests;
    for (let id = 2; id < 12; id++) {
      const s = await seal(b1, 'alice', id, `n${id}`);
      expect(await open(a1, { user: 'bob', device: 21, id }, s.wire)).toBe(`n${id}`);
    }
    expect(dir.bundleRequests).toBe(before);
  });

  it('refuses a body moved to another message id, and a key table without this device', async () => {
    const { a1, b1 } = await setup();
    const s = await seal(b1, 'alice', 5, 'secret');
    await expect(open(a1, { user: 'bob', device: 21, id: 6 }, s.wire)).rejects.toThrow(SealError);
    const toBob = await seal(a1, 'bob', 7, 'for bob');
    const { b1: other } = await setup();
    await expect(open(other, { user: 'alice', device: 11, id: 7 }, toBob.wire)).rejects.toThrow();
  });

  it('a device removed from its account gets nothing sealed after', async () => {
    const { dir, a1, a2, b1 } = await setup();
    const s1 = await seal(b1, 'alice', 1, 'before');
    expect(await open(a2, { user: 'bob', device: 21, id: 1 }, s1.wire)).toBe('before');
    dir.accounts.get('alice')!.devices = [11];
    b1.e.devicesChanged('alice');
    const s2 = await seal(b1, 'alice', 2, 'after');
    expect(parseSealed(s2.wire).entries.map((e) => e.device)).toEqual([11]);
    await expect(open(a2, { user: 'bob', device: 21, id: 2 }, s2.wire)).rejects.toThrow(
      /not sealed for this device/,
    );
    expect(await open(a1, { user: 'bob', device: 21, id: 2 }, s2.wire)).toBe('after');
  });

  it('a stage dropped leaves the ratchet where it was: sealing again gives a readable message', async () => {
    const { a1, b1 } = await setup();
    const s1 = await seal(b1, 'alice', 1, 'one');
    await open(a1, { user: 'bob', device: 21, id: 1 }, s1.wire);
    // The transaction that should have written message 2 with its ratchet step failed.
    await expect(
      b1.e.seal({ user: 'bob', device: 21, id: 2 }, 'alice', new Uint8Array([1]), true, () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    const again = await seal(b1, 'alice', 2, 'two');
    expect(await open(a1, { user: 'bob', device: 21, id: 2 }, again.wire)).toBe('two');
  });

  it('waits, offline, for a device list it never fetched; an unknown name fails', async () => {
    const { b1 } = await setup();
    await expect(
      b1.e.seal({ user: 'bob', device: 21, id: 1 }, 'alice', new Uint8Array([1]), false, () => {}),
    ).rejects.toThrow(SealPending);
    await expect(seal(b1, 'nobody', 2, 'x')).rejects.toThrow(/ever connected/);
  });

  it('publishes prekeys signed by the account identity, and more when the relay runs low', async () => {
    const { dir } = await setup();
    const up = dir.uploads.get('alice.11')!;
    expect(up.preKeys.length).toBeGreaterThan(0);
    const ids = new Set(up.preKeys.map((p) => p.id));
    expect(fromBase64(up.signedPreKey.sig)!.length).toBe(64);
    expect(ids.size).toBe(up.preKeys.length);
  });

  it('makes one batch of prekeys for a low count; none for a count sent before its answer', async () => {
    const dir = new FakeDirectory();
    const carolId = KeyPair.generate();
    dir.accounts.set('carol', { identity: carolId, devices: [31] });
    // Each batch published, by the id of its first one-time prekey.
    const firstIds: number[] = [];
    const directory = dir.directoryFor('carol', 31);
    dir.directoryFor = () => ({
      ...directory,
      publish: (upload) => firstIds.push(upload.preKeys[0]!.id),
    });
    const c = engine(dir, 'carol', 31, carolId);
    // A first start: its own batch, and the relay's welcome saying it holds none, at once.
    await Promise.all([c.e.prekeyCount(0), c.e.prekeyCount(0), c.e.prekeyCount(3)]);
    expect(firstIds).toEqual([1]);
    // The welcome's count, read only after the batch went out: sent before the relay had it.
    await c.e.prekeyCount(0);
    expect(firstIds).toEqual([1]);
    // The relay's answer to the upload, then bundles served down to 5: the next batch.
    await c.e.prekeyCount(PREKEY_BATCH);
    await c.e.prekeyCount(5);
    expect(firstIds).toEqual([1, 1 + PREKEY_BATCH]);
    // A new connection: its welcome's count is news, whatever was sent on the last one.
    c.e.reconnected();
    await c.e.prekeyCount(2);
    expect(firstIds).toEqual([1, 1 + PREKEY_BATCH, 1 + 2 * PREKEY_BATCH]);
  });

  it('seals controls apart from messages: neither opens as the other, and a replay does not open', async () => {
    const { a1, b1 } = await setup();
    const control = { user: 'bob', device: 21, id: 0, purpose: 'control' as const };
    const commit = (x: { db: Db }) => (_r: unknown, stage: { apply(db: Db): void }) =>
      stage.apply(x.db);
    const typing = encodeControl({ kind: 'typing', typing: true });
    const sealed = await b1.e.seal(control, 'alice', typing, true, commit(b1), false);
    // Only alice's devices: a control is not shown on bob's own other devices.
    expect(parseSealed(sealed.wire).entries.every((e) => e.user === 'alice')).toBe(true);
    // Taken for a message with id 0, it does not open (its associated data says control).
    await expect(
      a1.e.open({ user: 'bob', device: 21, id: 0 }, sealed.wire, commit(a1)),
    ).rejects.toThrow();
    const again = await b1.e.seal(control, 'alice', typing, true, commit(b1), false);
    const opened = await a1.e.open(control, again.wire, commit(a1));
    expect(decodeControl(opened.body)).toEqual({ kind: 'typing', typing: true });
    await expect(a1.e.open(control, again.wire, commit(a1))).rejects.toThrow();
    // A message does not open as a control either.
    const message = await seal(b1, 'alice', 5, 'a message');
    await expect(a1.e.open({ ...control, id: 5 }, message.wire, commit(a1))).rejects.toThrow();
  });

  it('reads only the controls it knows', () => {
    const read = { kind: 'receipt', receipt: 'read', messageDevice: 3, messageIds: [1, 2 ** 50] };
    expect(decodeControl(encodeControl(read as never))).toEqual(read);
    // The relay's own kinds never travel sealed.
    const delivered = encodeControl({ ...read, receipt: 'delivered' } as never);
    expect(() => decodeControl(delivered)).toThrow(SealError);
    expect(() => decodeControl(new Uint8Array([1, 2]))).toThrow(SealError);
    expect(() => decodeControl(new Uint8Array([9]))).toThrow(SealError);
    expect(() => decodeControl(new Uint8Array([1, 1, 0]))).toThrow(SealError);
  });
});
