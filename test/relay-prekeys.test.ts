// Prekey bundles against the real relay process: a device publishes prekeys signed by its
// account's identity key and nobody else's, anyone fetches a user's bundles (each fetch
// taking one one-time prekey), a device hears its count when it runs low, and a device that
// leaves its account takes its prekeys with it while those who watch the account hear of it.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recoveryKeyPair, verifyDeviceList, type KeyPair } from '../src/node/account-keys.ts';
import { makePrekeyUpload, type PrekeyUpload } from '../src/node/prekeys.ts';
import { recoverHello } from '../src/node/hello-proof.ts';
import { newAccount, rawAccounts } from '../src/node/raw-accounts.ts';
import {
  fromBase64,
  parseDeviceList,
  toBase64,
  type AccountMessage,
  type AccountOf,
} from '../src/shared/protocol/account.ts';
import { PREKEY_BATCH, PREKEY_LOW, type Frame } from '../src/shared/protocol/index.ts';
import { TestClient } from './helpers/client.ts';
import { startRelay, type RelayProcess } from './helpers/relay-process.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function relay(): Promise<RelayProcess> {
  const r = await startRelay();
  cleanup.push(() => r.stop());
  return r;
}

async function connect(r: RelayProcess, user: string, device: number): Promise<TestClient> {
  const c = await TestClient.connect(r.url, user, device);
  cleanup.push(() => c.close());
  // What the relay sent right behind the welcome (a prekey-count) has arrived by the pong.
  await c.flushed();
  return c;
}

type Kind = AccountMessage['kind'];
const received = <K extends Kind>(c: TestClient, kind: K) =>
  c.accountMessages().filter((m): m is AccountOf<K> => m.kind === kind);
const errors = (c: TestClient) =>
  c.frames().filter((f): f is Frame & { type: 'error' } => f.type === 'error');

/** Sends `m` and resolves with the first `kind` message that arrives after it. */
async function ask<K extends Kind>(c: TestClient, m: AccountMessage, kind: K) {
  const before = received(c, kind).length;
  c.sendAccount(m);
  await c.until(() => received(c, kind).length > before, kind);
  return received(c, kind)[before]!;
}

/** Sends `m` and resolves with the error it is refused with. */
async function refusedWith(c: TestClient, m: AccountMessage): Promise<Frame & { type: 'error' }> {
  const before = errors(c).length;
  c.sendAccount(m);
  await c.until(() => errors(c).length > before, 'an error');
  return errors(c)[before]!;
}

/** The account identity of `c`'s user (the raw accounts made it in this process). */
async function identityOf(c: TestClient): Promise<KeyPair> {
  return rawAccounts.account((await c.challenge()).relayId, c.user)!.identity;
}

/** `c` publishes `count` one-time prekeys from `firstId` (and a new signed and Kyber prekey). */
async function publish(c: TestClient, count = PREKEY_BATCH, firstId = 1): Promise<PrekeyUpload> {
  const up = makePrekeyUpload(await identityOf(c), {
    registrationId: 100 + c.device,
    firstId,
    count,
    signedId: 1,
    kyberId: 1,
  });
  const answer = await ask(c, up.message, 'prekey-count');
  expect(answer.count).toBe(count);
  return up;
}

describe('prekey bundles', () => {
  it('a published bundle is served with the signed device list, each fetch taking one one-time prekey', async () => {
    const r = await relay();
    const alice = await connect(r, 'alice', 1);
    const up = await publish(alice);
    const bob = await connect(r, 'bob', 1);

    const first = await ask(bob, { kind: 'bundles', user: 'alice' }, 'bundles');
    const identity = await identityOf(alice);
    const list = fromBase64(first.deviceList!)!;
    expect(verifyDeviceList(identity.publicKey, list, fromBase64(first.deviceListSig!)!)).toBe(
      true,
    );
    expect(parseDeviceList(list).devices.map((d) => d.id)).toEqual([1]);
    expect(first.bundles).toEqual([
      {
        device: 1,
        registrationId: 101,
        signedPreKey: up.message.signedPreKey,
        kyberPreKey: up.message.kyberPreKey,
        preKey: up.message.preKeys[0],
      },
    ]);
    const second = await ask(bob, { kind: 'bundles', user: 'alice', devices: [1] }, 'bundles');
    expect(second.bundles![0]!.preKey).toEqual(up.message.preKeys[1]);
    // The owner's count says two are gone.
    const count = await ask(alice, { ...up.message, preKeys: [] }, 'prekey-count');
    expect(count.count).toBe(PREKEY_BATCH - 2);
  });

  it('a name with no account gets no device list; a device not asked for, or the asker itself, no bundle', async () => {
    const r = await relay();
    const bob = await connect(r, 'bob', 1);
    const nobody = await ask(bob, { kind: 'bundles', user: 'nobody' }, 'bundles');
    expect(nobody).toEqual({ kind: 'bundles', user: 'nobody' });

    const phone = await connect(r, 'bob', 2);
    await publish(bob);
    await publish(phone);
    const own = await ask(bob, { kind: 'bundles', user: 'bob' }, 'bundles');
    expect(own.bundles!.map((b) => b.device)).toEqual([2]);
    const alice = await connect(r, 'alice', 1);
    const one = await ask(alice, { kind: 'bundles', user: 'bob', devices: [2, 9] }, 'bundles');
    expect(one.bundles!.map((b) => b.device)).toEqual([2]);
    // A device on the list that never published is listed and has no bundle.
    const tablet = await connect(r, 'bob', 3);
    const all = await ask(alice, { kind: 'bundles', user: 'bob' }, 'bundles');
    expect(parseDeviceList(fromBase64(all.deviceList!)!).devices.map((d) => d.id)).toEqual([
      1, 2, 3,
    ]);
    expect(all.bundles!.map((b) => b.device)).toEqual([1, 2]);
    expect(await tablet.waitForAccount('prekey-count')).toEqual({ kind: 'prekey-count', count: 0 });
  });

  it('when the last one-time prekey is served the bundle comes without one, and the device is told it has none', async () => {
    const r = await relay();
    const alice = await connect(r, 'alice', 1);
    await publish(alice, 1);
    const bob = await connect(r, 'bob', 1);
    const first = await ask(bob, { kind: 'bundles', user: 'alice' }, 'bundles');
    expect(first.bundles![0]!.preKey?.id).toBe(1);
    // At the welcome (none), the upload's answer (one), and once it was served (none).
    await alice.until(() => received(alice, 'prekey-count').length === 3, 'the third count');
    expect(received(alice, 'prekey-count').map((m) => m.count)).toEqual([0, 1, 0]);
    const second = await ask(bob, { kind: 'bundles', user: 'alice' }, 'bundles');
    expect(second.bundles![0]!.preKey).toBeUndefined();
    expect(second.bundles![0]!.kyberPreKey).toEqual(first.bundles![0]!.kyberPreKey);
  });

  it('a device hears its count at the welcome when it holds fewer than PREKEY_LOW, and when serving leaves it fewer', async () => {
    const r = await relay();
    const first = await connect(r, 'alice', 1);
    // Never published: told at once, after the welcome.
    expect(await first.waitForAccount('prekey-count')).toEqual({ kind: 'prekey-count', count: 0 });
    await publish(first, PREKEY_LOW + 1);
    await first.close();

    const alice = await connect(r, 'alice', 1);
    // Enough held: nothing said (the devices answer comes after anything the welcome brought).
    await ask(alice, { kind: 'devices' }, 'devices');
    expect(received(alice, 'prekey-count')).toEqual([]);
    const bob = await connect(r, 'bob', 1);
    await ask(bob, { kind: 'bundles', user: 'alice' }, 'bundles');
    await ask(alice, { kind: 'devices' }, 'devices');
    expect(received(alice, 'prekey-count')).toEqual([]);
    await ask(bob, { kind: 'bundles', user: 'alice' }, 'bundles');
    const low = await alice.waitForAccount('prekey-count');
    expect(low.count).toBe(PREKEY_LOW - 1);
    await alice.close();
    const again = await connect(r, 'alice', 1);
    expect(await again.waitForAccount('prekey-count')).toEqual({
      kind: 'prekey-count',
      count: PREKEY_LOW - 1,
    });
  });

  it('prekeys not signed by the account identity key are refused and nothing of them is stored', async () => {
    const r = await relay();
    const alice = await connect(r, 'alice', 1);
    const relayId = (await alice.challenge()).relayId;
    const deviceKey = rawAccounts.account(relayId, 'alice')!.devices.get(1)!;
    const bob = await connect(r, 'bob', 1);
    const good = makePrekeyUpload(await identityOf(alice), {
      registrationId: 7,
      firstId: 1,
      count: 5,
      signedId: 1,
      kyberId: 1,
    }).message;
    // Signed by the device's own key, not the account's.
    const byDevice = makePrekeyUpload(deviceKey, {
      registrationId: 7,
      firstId: 1,
      count: 5,
      signedId: 1,
      kyberId: 1,
    }).message;
    const forged: [string, AccountOf<'prekeys'>][] = [
      ['both signed by the device key', byDevice],
      ['the signed prekey by the device key', { ...good, signedPreKey: byDevice.signedPreKey }],
      ['the Kyber prekey by the device key', { ...good, kyberPreKey: byDevice.kyberPreKey }],
      [
        'a signature over another key',
        { ...good, signedPreKey: { ...good.signedPreKey, key: byDevice.signedPreKey.key } },
      ],
      [
        'a one-time prekey that is no key',
        { ...good, preKeys: [{ id: 9, key: toBase64(new Uint8Array(33).fill(9)) }] },
      ],
    ];
    for (const [what, m] of forged) {
      const e = await refusedWith(alice, m);
      expect(e.code, what).toBe('accountRefused');
    }
    expect(alice.closed).toBeNull();
    const none = await ask(bob, { kind: 'bundles', user: 'alice' }, 'bundles');
    expect(none.bundles).toEqual([]);
    expect(received(alice, 'prekey-count')).toEqual([{ kind: 'prekey-count', count: 0 }]);
  });

  it('another user cannot publish for you: your signed prekeys replayed on their connection are refused', async () => {
    const r = await relay();
    const alice = await connect(r, 'alice', 1);
    const up = await publish(alice, 3);
    const mallory = await connect(r, 'mallory', 1);
    // Everything alice published (she fetches it from the relay) sent as mallory's own.
    const e = await refusedWith(mallory, { ...up.message, preKeys: [] });
    expect(e.code).toBe('accountRefused');
    expect(e.text).toMatch(/not signed by the account identity key/);
    // An account frame whose envelope claims to come from alice is refused as such.
    mallory.send({
      type: 'account',
      from: 'alice',
      fromDevice: 1,
      to: '',
      toDevice: 0,
      body: new TextEncoder().encode(JSON.stringify(up.message)),
    });
    await mallory.until(() => errors(mallory).some((f) => f.code === 'senderMismatch'));
    const bob = await connect(r, 'bob', 1);
    const got = await ask(bob, { kind: 'bundles', user: 'mallory' }, 'bundles');
    expect(got.bundles).toEqual([]);
    const hers = await ask(bob, { kind: 'bundles', user: 'alice' }, 'bundles');
    expect(hers.bundles![0]!.signedPreKey).toEqual(up.message.signedPreKey);
    expect(hers.bundles![0]!.preKey).toEqual(up.message.preKeys[0]);
  });

  it('a removed device’s prekeys are deleted, and its watchers and the account’s other devices hear devices-changed', async () => {
    const r = await relay();
    const bob = await connect(r, 'bob', 1);
    const phone = await connect(r, 'bob', 2);
    const laptop = await connect(r, 'bob', 3);
    // bob/1 linked the others: it heard of each link, which it made, not at all.
    await ask(bob, { kind: 'devices' }, 'devices');
    expect(received(bob, 'devices-changed')).toEqual([]);
    for (const d of [bob, phone, laptop]) await publish(d);
    const carol = await connect(r, 'carol', 1);
    carol.send({
      type: 'watch',
      from: 'carol',
      fromDevice: 1,
      to: '',
      toDevice: 0,
      kind: 'set',
      users: ['bob'],
    });
    await carol.waitFor((f) => f.type === 'presence');

    const relayId = (await bob.challenge()).relayId;
    const { list, signature } = rawAccounts.removeDevice(relayId, 'bob', 2);
    bob.sendAccount({
      kind: 'devices-update',
      deviceList: toBase64(list),
      deviceListSig: toBase64(signature),
    });
    expect(await carol.waitForAccount('devices-changed')).toEqual({
      kind: 'devices-changed',
      user: 'bob',
    });
    expect(await laptop.waitForAccount('devices-changed')).toEqual({
      kind: 'devices-changed',
      user: 'bob',
    });
    await phone.whenClosed();
    const after = await ask(carol, { kind: 'bundles', user: 'bob' }, 'bundles');
    expect(after.bundles!.map((b) => b.device)).toEqual([1, 3]);
    const db = new Database(join(r.dataDir, 'relay.db'), { readonly: true });
    try {
      const rows = (table: string) =>
        db
          .prepare(`SELECT device, count(*) AS n FROM ${table} WHERE user = 'bob' GROUP BY device`)
          .all();
      expect(rows('prekey_sets')).toEqual([
        { device: 1, n: 1 },
        { device: 3, n: 1 },
      ]);
      expect(rows('one_time_prekeys')).toEqual([
        { device: 1, n: PREKEY_BATCH - 1 },
        { device: 3, n: PREKEY_BATCH - 1 },
      ]);
    } finally {
      db.close();
    }
  });

  it('a device linked later is heard of by watchers; a recovery deletes every old device’s prekeys', async () => {
    const r = await relay();
    const bob = await connect(r, 'bob', 1);
    await publish(bob);
    const carol = await connect(r, 'carol', 1);
    carol.send({
      type: 'watch',
      from: 'carol',
      fromDevice: 1,
      to: '',
      toDevice: 0,
      kind: 'set',
      users: ['bob'],
    });
    await carol.waitFor((f) => f.type === 'presence');
    const phone = await connect(r, 'bob', 2);
    await carol.waitForAccount('devices-changed');
    await publish(phone);

    const relayId = (await bob.challenge()).relayId;
    const code = rawAccounts.account(relayId, 'bob')!.recoveryCode;
    const next = await TestClient.open(r.url, 'bob', 9);
    cleanup.push(() => next.close());
    next.send(
      recoverHello(newAccount('bob', 9), recoveryKeyPair('bob', code), await next.challenge()),
    );
    await next.waitFor((f) => f.type === 'welcome');
    await carol.until(() => received(carol, 'devices-changed').length === 2, 'the second change');
    // The recovered account's only device has published nothing yet.
    expect(await next.waitForAccount('prekey-count')).toEqual({ kind: 'prekey-count', count: 0 });
    const now = await ask(carol, { kind: 'bundles', user: 'bob' }, 'bundles');
    expect(parseDeviceList(fromBase64(now.deviceList!)!).devices.map((d) => d.id)).toEqual([9]);
    expect(now.bundles).toEqual([]);
    const db = new Database(join(r.dataDir, 'relay.db'), { readonly: true });
    try {
      for (const table of ['prekey_sets', 'one_time_prekeys'])
        expect(db.prepare(`SELECT count(*) FROM ${table} WHERE user = 'bob'`).pluck().get()).toBe(
          0,
        );
    } finally {
      db.close();
    }
  });
});
