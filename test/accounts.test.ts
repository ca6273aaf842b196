// Accounts against the real relay process: nobody can say hello as a name without proving it
// (whatever the scheme), a forged hello costs the real device nothing, linking adds a device
// through the relay, a removed device is refused, and recovery takes an account back.
import { afterEach, describe, expect, it } from 'vitest';
import {
  KeyPair,
  newLinkCode,
  recoveryKeyPair,
  newRecoveryCode,
} from '../src/node/account-keys.ts';
import {
  deviceHello,
  linkHello,
  recoverHello,
  registerHello,
  type Challenge,
} from '../src/node/hello-proof.ts';
import { newAccount, rawAccounts } from '../src/node/raw-accounts.ts';
import { fromBase64, toBase64 } from '../src/shared/protocol/account.ts';
import { linkCodeId } from '../src/node/account-keys.ts';
import type { ErrorCodeName, Frame, HelloFrame } from '../src/shared/protocol/index.ts';
import { TestClient, bytesOf } from './helpers/client.ts';
import { TestEngine } from './helpers/engine.ts';
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
  return c;
}

/** A connection that has its challenge and has said nothing yet. */
async function fresh(r: RelayProcess, user = 'bob', device = 1) {
  const c = await TestClient.open(r.url, user, device);
  cleanup.push(() => c.close());
  return { c, challenge: await c.challenge() };
}

/** `hello` is refused with `code`, the connection closed, and nothing else came. */
async function refused(c: TestClient, hello: HelloFrame, code: ErrorCodeName): Promise<void> {
  c.send(hello);
  // A welcome fails the test at once rather than by a timeout.
  await c.until(() => c.closed !== null || c.frames().some((f) => f.type === 'welcome'));
  expect(c.frames().map((f) => f.type)).not.toContain('welcome');
  const closed = await c.whenClosed();
  expect(closed.code).toBe(1008);
  expect(c.frames().map((f) => f.type)).toEqual(['challenge', 'error']);
  const error = c.frames()[1] as Frame & { type: 'error' };
  expect(error.code).toBe(code);
}

const none = (user: string, device: number): HelloFrame => ({
  type: 'hello',
  from: user,
  fromDevice: device,
  to: '',
  toDevice: 0,
  auth: { scheme: 'none', data: new Uint8Array(0) },
  agent: 'old-strata',
});

describe('a name is its owner’s', () => {
  it('a hello as bob with any scheme gets no welcome and none of his queued frames, which he then gets intact', async () => {
    const r = await relay();
    // bob has two devices, both away; alice leaves him a message.
    await (await connect(r, 'bob', 1)).close();
    await (await connect(r, 'bob', 2)).close();
    const alice = await connect(r, 'alice', 1);
    const payload = bytesOf('for bob only');
    alice.send(alice.data('bob', 41, payload));
    await alice.flushed();

    const relayId = (await fresh(r)).challenge.relayId;
    const bob = rawAccounts.account(relayId, 'bob')!;
    const elsewhere = (await fresh(r)).challenge;
    const attempts: [string, (c: Challenge) => HelloFrame, ErrorCodeName][] = [
      ['no proof (an old client)', () => none('bob', 1), 'authFailed'],
      [
        'a device key of its own',
        (c) => deviceHello('bob', 1, KeyPair.generate(), c),
        'authFailed',
      ],
      [
        'a signature of bob’s made for another connection',
        () => deviceHello('bob', 1, bob.devices.get(1)!, elsewhere),
        'authFailed',
      ],
      [
        'device 2’s id signed with device 1’s key',
        (c) => deviceHello('bob', 2, bob.devices.get(1)!, c),
        'authFailed',
      ],
      [
        'a device bob never had',
        (c) => deviceHello('bob', 77, KeyPair.generate(), c),
        'authFailed',
      ],
      ['registering bob again', (c) => registerHello(newAccount('bob', 5), c), 'nameTaken'],
      [
        'recovering bob with a wrong code',
        (c) => recoverHello(newAccount('bob', 6), recoveryKeyPair('bob', newRecoveryCode()), c),
        'authFailed',
      ],
      [
        'linking with a made-up code',
        (c) => linkHello(newLinkCode(), 8, KeyPair.generate(), 'evil', c),
        'linkFailed',
      ],
    ];
    for (const [, make, code] of attempts) {
      const { c, challenge } = await fresh(r);
      await refused(c, make(challenge), code);
    }
    // A connection has one try: a second hello right behind a refused one is not even read.
    const { c: twice, challenge } = await fresh(r);
    const stale = deviceHello('bob', 1, KeyPair.generate(), challenge);
    twice.send(stale);
    twice.send(stale);
    await twice.whenClosed();
    expect(twice.frames().filter((f) => f.type === 'welcome')).toEqual([]);

    const real = await connect(r, 'bob', 1);
    const got = await real.waitFor((f) => f.type === 'data');
    expect(got.type === 'data' && got.messageId).toBe(41);
    expect(got.type === 'data' && [...got.payload]).toEqual([...payload]);
    // Each refusal is counted by its reason.
    const refusals = (await r.stats()).hellos_refused as Record<string, number>;
    expect(refusals).toMatchObject({
      'no-auth': 1,
      'unknown-device': 5,
      'name-taken': 1,
      'recovery-failed': 1,
      'link-unknown': 1,
    });
  });

  it('a connected device is not kicked by a forged hello as it', async () => {
    const r = await relay();
    const bob = await connect(r, 'bob', 1);
    const alice = await connect(r, 'alice', 1);
    const { c, challenge } = await fresh(r);
    await refused(c, deviceHello('bob', 1, KeyPair.generate(), challenge), 'authFailed');
    alice.send(alice.data('bob', 9, bytesOf('still you?')));
    await bob.waitFor((f) => f.type === 'data');
    expect(bob.closed).toBeNull();
    expect(bob.frames().some((f) => f.type === 'error')).toBe(false);
  });

  it('a fresh profile cannot log in as a name that has an account', async () => {
    const r = await relay();
    await (await connect(r, 'bob', 1)).close();
    const e = TestEngine.start(r.url, 'bob');
    cleanup.push(() => e.close());
    await e.until(() =>
      e.events.some(
        (v) => v.type === 'connection' && v.state === 'offline' && /taken/.test(v.detail ?? ''),
      ),
    );
    expect(e.m.online).toBe(false);
  });
});

describe('linking and removing devices', () => {
  it('links a device through the relay: it then connects with its own key and gets what is sent to the user', async () => {
    const r = await relay();
    const bob = await connect(r, 'bob', 1);
    const alice = await connect(r, 'alice', 1);
    const code = newLinkCode();
    const codeId = toBase64(linkCodeId(code));
    bob.sendAccount({ kind: 'link-offer', codeId });
    const offer = await bob.waitForAccount('link-offer');
    expect(offer.expiresAt).toBeGreaterThan(Date.now() + 9 * 60_000);

    const { c: newcomer, challenge } = await fresh(r, '', 3);
    const key = KeyPair.generate();
    newcomer.send(linkHello(code, 3, key, 'bob’s tablet', challenge));
    const request = await bob.waitForAccount('link-request');
    expect(request).toMatchObject({ codeId, device: 3, name: 'bob’s tablet' });
    expect(fromBase64(request.deviceKey)).toEqual(key.publicKey);
    // Until bob's device says yes, the new device is nobody: it may not send anything.
    newcomer.send(alice.typing('bob'));
    await newcomer.waitFor((f) => f.type === 'error' && f.code === 'notAuthenticated');

    const { list, signature } = rawAccounts.addDevice(
      challenge.relayId,
      'bob',
      3,
      key,
      'bob’s tablet',
    );
    bob.sendAccount({
      kind: 'link-accept',
      codeId,
      deviceList: toBase64(list),
      deviceListSig: toBase64(signature),
      provision: toBase64(bytesOf('sealed for the tablet')),
    });
    const linked = await newcomer.waitForAccount('linked');
    expect(linked).toEqual({
      kind: 'linked',
      user: 'bob',
      device: 3,
      provision: toBase64(bytesOf('sealed for the tablet')),
    });
    expect((await newcomer.whenClosed()).code).toBe(4002);
    // The code is spent: it links nobody else.
    const again = await fresh(r, '', 4);
    await refused(
      again.c,
      linkHello(code, 4, KeyPair.generate(), 'x', again.challenge),
      'linkFailed',
    );

    const tablet = await connect(r, 'bob', 3);
    alice.send(alice.data('bob', 5, bytesOf('to all of bob')));
    for (const d of [bob, tablet]) {
      const f = await d.waitFor((x) => x.type === 'data');
      expect(f.type === 'data' && f.messageId).toBe(5);
    }
    bob.sendAccount({ kind: 'devices' });
    const devices = await bob.waitForAccount('devices');
    expect(devices.seen?.map((d) => [d.id, d.online])).toEqual([
      [1, true],
      [3, true],
    ]);
  });

  it('a removed device is closed with 4001 and refused from then on', async () => {
    const r = await relay();
    const bob = await connect(r, 'bob', 1);
    const phone = await connect(r, 'bob', 2);
    const relayId = (await bob.challenge()).relayId;
    const phoneKey = rawAccounts.account(relayId, 'bob')!.devices.get(2)!;
    const { list, signature } = rawAccounts.removeDevice(relayId, 'bob', 2);
    bob.sendAccount({
      kind: 'devices-update',
      deviceList: toBase64(list),
      deviceListSig: toBase64(signature),
    });
    expect((await phone.whenClosed()).code).toBe(4001);
    expect(phone.frames().some((f) => f.type === 'error' && f.code === 'deviceRemoved')).toBe(true);
    const now = await bob.waitForAccount('devices');
    expect(now.seen?.map((d) => d.id)).toEqual([1]);
    // Its own key, signing a fresh challenge, no longer lets it in.
    const { c, challenge } = await fresh(r, 'bob', 2);
    await refused(c, deviceHello('bob', 2, phoneKey, challenge), 'deviceRemoved');
  });

  it('recovery: the new device connects, the old ones are closed and refused, watchers hear the new identity', async () => {
    const r = await relay();
    const old = await connect(r, 'bob', 1);
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
    const relayId = (await old.challenge()).relayId;
    const code = rawAccounts.account(relayId, 'bob')!.recoveryCode;

    const { c: next, challenge } = await fresh(r, 'bob', 9);
    const account = newAccount('bob', 9);
    next.send(recoverHello(account, recoveryKeyPair('bob', code), challenge));
    await next.waitFor((f) => f.type === 'welcome');
    expect((await old.whenClosed()).code).toBe(4001);
    const change = await carol.waitForAccount('identities');
    expect(change.entries).toEqual([
      { user: 'bob', identityKey: toBase64(account.identity.publicKey) },
    ]);
    const oldKey = rawAccounts.account(relayId, 'bob')!.devices.get(1)!;
    const { c, challenge: c2 } = await fresh(r, 'bob', 1);
    await refused(c, deviceHello('bob', 1, oldKey, c2), 'deviceRemoved');
    // And the old recovery code is spent with the old identity.
    const { c: replay, challenge: c3 } = await fresh(r, 'bob', 10);
    await refused(
      replay,
      recoverHello(newAccount('bob', 10), recoveryKeyPair('bob', code), c3),
      'authFailed',
    );
  });
});

describe('presence', () => {
  it('a stranger sees bob online as a name that does not exist; alice, who wrote to him, sees the truth', async () => {
    const r = await relay();
    const bob = await connect(r, 'bob', 1);
    const alice = await connect(r, 'alice', 1);
    const mallory = await connect(r, 'mallory', 1);
    alice.send(alice.data('bob', 1, bytesOf('hi')));
    await bob.waitFor((f) => f.type === 'data');
    const snapshot = async (c: TestClient) => {
      c.send({
        type: 'watch',
        from: c.user,
        fromDevice: 1,
        to: '',
        toDevice: 0,
        kind: 'set',
        users: ['bob'],
      });
      const p = await c.waitFor((f) => f.type === 'presence' && f.kind === 'snapshot');
      return p.type === 'presence' ? p.entries : [];
    };
    expect(await snapshot(mallory)).toEqual([
      { user: 'bob', online: false, devices: 0, lastSeen: 0 },
    ]);
    expect(await snapshot(alice)).toEqual([
      expect.objectContaining({ user: 'bob', online: true, devices: 1 }),
    ]);
  });
});

describe('frames', () => {
  it('a frame whose envelope names another sender is refused (senderMismatch)', async () => {
    const r = await relay();
    const mallory = await connect(r, 'mallory', 1);
    const bob = await connect(r, 'bob', 1);
    mallory.send({ ...mallory.data('bob', 3, bytesOf('from alice, honest')), from: 'alice' });
    const err = await mallory.waitFor((f) => f.type === 'error');
    expect(err.type === 'error' && err.code).toBe('senderMismatch');
    await bob.flushed();
    expect(bob.dataFrames()).toEqual([]);
  });
});
