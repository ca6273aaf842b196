// The engine's side of accounts against a stand-in relay that checks every hello's signatures:
// keys made with the profile and kept, the register hello first and the device's own after,
// the profile's files private, and what a refusal leaves (a taken name, a removed device, a
// relay that no longer knows the device). The relay's own rules are tested against the relay.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import {
  KeyPair,
  keyFingerprint,
  newLinkCode,
  newRecoveryCode,
  recoveryKeyPair,
  sealProvision,
} from '../node/account-keys.ts';
import { checkHelloSignature } from '../node/hello-proof.ts';
import { decodeProof, encodeAccountMessage, toBase64 } from '../shared/protocol/account.ts';
import type { AccountState, MessengerEvent } from '../shared/api.ts';
import { Messenger } from './messenger.ts';
import { standInRelay, type StandInRelay } from './stand-in-relay.ts';

const HEARTBEAT = { intervalMs: 0, timeoutMs: 5000 };
let relay: StandInRelay;
const open: Messenger[] = [];
/** The device keys the stand-in checks `device` hellos with, from each register hello. */
const registered = new Map<string, Uint8Array>();

afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
  await relay?.close();
  registered.clear();
});

async function startRelay(): Promise<void> {
  relay = await standInRelay((user, device) => registered.get(`${user}/${device}`) ?? null);
  relay.answer = (taken) => {
    const { hello } = taken;
    if (hello.auth.scheme === 'register' && taken.signed) {
      const proof = decodeProof('register', hello.auth.data)!;
      registered.set(`${hello.from}/${hello.fromDevice}`, proof.deviceKey);
    }
    return 'welcome';
  };
}

function profileDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'strata-account-')), 'profile');
}

/** Opens and starts an engine; resolves with it and its events once `until` holds. */
async function start(
  dir: string,
  user: string,
  until: (events: MessengerEvent[], m: Messenger) => boolean,
): Promise<{ m: Messenger; events: MessengerEvent[] }> {
  const m = Messenger.open({ profileDir: dir, relayUrl: relay.url, user, heartbeat: HEARTBEAT });
  open.push(m);
  const events: MessengerEvent[] = [];
  await new Promise<void>((resolve) => {
    m.on('event', (e) => {
      events.push(e);
      if (until(events, m)) resolve();
    });
    m.start();
  });
  return { m, events };
}

const online = (_: MessengerEvent[], m: Messenger) => m.online;
const offline = (events: MessengerEvent[]) =>
  events.some((e) => e.type === 'connection' && e.state === 'offline');
const states = (events: MessengerEvent[]): AccountState[] =>
  events.flatMap((e) => (e.type === 'account' ? [e.account.state] : []));

async function stop(m: Messenger): Promise<void> {
  open.splice(open.indexOf(m), 1);
  await m.close();
}

it('a fresh profile registers its name with new keys; after a restart it proves the same device key', async () => {
  await startRelay();
  const dir = profileDir();
  const first = await start(dir, 'alice', online);
  const account = first.m.account();
  expect(account).toMatchObject({ user: 'alice', state: 'registered', recoveryCodePending: true });
  expect(states(first.events)).toEqual(['registered']);
  expect(relay.hellos[0]!.hello.auth.scheme).toBe('register');
  expect(relay.hellos[0]!.signed).toBe(true);
  await stop(first.m);

  const second = await start(dir, 'alice', online);
  expect(relay.hellos[1]!.hello.auth.scheme).toBe('device');
  // Signed with the device key the register hello gave: the keys were kept, not made again.
  expect(relay.hellos[1]!.signed).toBe(true);
  expect(second.m.account()).toMatchObject({
    device: account.device,
    identityFingerprint: account.identityFingerprint,
    state: 'registered',
  });
  expect(states(second.events)).toEqual([]);
});

it('the recovery code waits until acknowledged, and then is gone', async () => {
  await startRelay();
  const dir = profileDir();
  const { m } = await start(dir, 'alice', online);
  const code = m.pendingRecoveryCode();
  expect(code).toMatch(/^([0-9A-Z]{4}-){5}[0-9A-Z]{4}$/);
  expect(m.acknowledgeRecoveryCode().recoveryCodePending).toBe(false);
  expect(m.pendingRecoveryCode()).toBeNull();
  await stop(m);
  const again = await start(dir, 'alice', online);
  expect(again.m.pendingRecoveryCode()).toBeNull();
});

it('the profile folder is 0700 and its database files 0600', async () => {
  await startRelay();
  const dir = profileDir();
  const { m } = await start(dir, 'alice', online);
  // A message written makes the WAL and shared-memory files exist for sure.
  m.send('bob', 'hi');
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  for (const f of ['strata.db', 'strata.db-wal', 'strata.db-shm']) {
    expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
  }
});

it('a taken name is final: no reconnecting, a clear reason; the profile may take another name', async () => {
  await startRelay();
  relay.answer = () => ({ code: 'nameTaken', text: 'alice is taken' });
  const dir = profileDir();
  const first = await start(dir, 'alice', offline);
  const down = first.events.find((e) => e.type === 'connection' && e.state === 'offline');
  expect(down).toMatchObject({ detail: expect.stringMatching(/alice is taken on this relay/) });
  expect(first.m.account().state).toBe('name-taken');
  await stop(first.m);
  expect(relay.connections).toBe(1);

  relay.answer = () => 'welcome';
  const second = await start(dir, 'alice2', online);
  expect(second.m.account()).toMatchObject({ user: 'alice2', state: 'registered' });
  expect(relay.hellos[1]!.hello).toMatchObject({ from: 'alice2' });
  expect(relay.hellos[1]!.hello.auth.scheme).toBe('register');
});

it('a registered profile keeps its name', async () => {
  await startRelay();
  const dir = profileDir();
  await stop((await start(dir, 'alice', online)).m);
  expect(() => Messenger.open({ profileDir: dir, relayUrl: relay.url, user: 'mallory' })).toThrow(
    /belongs to alice/,
  );
});

it('a removed device and a relay that lost the account are told apart', async () => {
  await startRelay();
  const dir = profileDir();
  await stop((await start(dir, 'alice', online)).m);

  relay.answer = () => ({ code: 'authFailed', text: 'no such device' });
  const lost = await start(dir, 'alice', offline);
  expect(lost.m.account().state).toBe('unknown');
  expect(lost.events.find((e) => e.type === 'connection' && e.state === 'offline')).toMatchObject({
    detail: expect.stringMatching(/does not know this device .*lost its accounts/),
  });
  await stop(lost.m);
  // Still refused on the next start, with the same words, and as an error event too.
  const again = await start(dir, 'alice', offline);
  expect(again.events).toContainEqual({
    type: 'error',
    code: 'authFailed',
    text: expect.stringMatching(/does not know this device .*lost its accounts/),
  });
  await stop(again.m);

  relay.answer = () => ({ code: 'deviceRemoved', text: 'removed' });
  const removed = await start(dir, 'alice', offline);
  expect(removed.m.account().state).toBe('removed');
  expect(
    removed.events.find((e) => e.type === 'connection' && e.state === 'offline'),
  ).toMatchObject({ detail: expect.stringMatching(/removed from alice's account/) });
});

it('link: a fresh profile opens the sealed keys with its code and is then a device of the account', async () => {
  await startRelay();
  const identity = KeyPair.generate();
  const code = newLinkCode();
  relay.answer = ({ hello, signed }) => {
    const proof = decodeProof('link', hello.auth.data)!;
    expect(signed).toBe(true);
    registered.set(`alice/${hello.fromDevice}`, proof.deviceKey);
    const provision = sealProvision(code, proof.deviceKey, {
      user: 'alice',
      identity: identity.serialize(),
    });
    const linked = encodeAccountMessage({
      kind: 'linked',
      user: 'alice',
      device: hello.fromDevice,
      provision: toBase64(provision),
    });
    const env = { from: '', fromDevice: 0, to: '', toDevice: hello.fromDevice };
    return { frames: [{ type: 'account', ...env, body: linked }], close: 4002 };
  };
  const dir = profileDir();
  const { user, device } = await Messenger.link({
    profileDir: dir,
    relayUrl: relay.url,
    code: code.toLowerCase(),
    deviceName: 'phone',
  });
  expect(user).toBe('alice');
  relay.answer = () => 'welcome';
  const { m } = await start(dir, 'alice', online);
  expect(m.account()).toMatchObject({
    user: 'alice',
    device,
    deviceName: 'phone',
    state: 'registered',
    identityFingerprint: keyFingerprint(identity.publicKey),
  });
  expect(relay.hellos.at(-1)!.hello.auth.scheme).toBe('device');
  expect(relay.hellos.at(-1)!.signed).toBe(true);
});

it('link and recover refused: a clear error, and the profile stays fresh', async () => {
  await startRelay();
  relay.answer = () => ({ code: 'linkFailed', text: 'that link code is unknown or used' });
  const dir = profileDir();
  await expect(
    Messenger.link({ profileDir: dir, relayUrl: relay.url, code: newLinkCode() }),
  ).rejects.toThrow(/unknown or used/);
  relay.answer = () => ({ code: 'authFailed', text: 'recovery signature' });
  await expect(
    Messenger.recover({
      profileDir: dir,
      relayUrl: relay.url,
      user: 'alice',
      code: newRecoveryCode(),
    }),
  ).rejects.toThrow(/refused the recovery code/);
  await expect(
    Messenger.link({ profileDir: dir, relayUrl: relay.url, code: 'not a code' }),
  ).rejects.toThrow(/not a link code/);
  expect(() => Messenger.open({ profileDir: dir, relayUrl: relay.url })).toThrow(/no user yet/);
});

it('recover: new keys and a new recovery code, pending until shown', async () => {
  await startRelay();
  const dir = profileDir();
  const old = newRecoveryCode();
  const { device } = await Messenger.recover({
    profileDir: dir,
    relayUrl: relay.url,
    user: 'alice',
    code: old,
  });
  const hello = relay.hellos[0]!;
  expect(hello.hello.auth.scheme).toBe('recover');
  expect(hello.signed).toBe(true);
  // Signed with the key the typed code stands for.
  const proof = decodeProof('recover', hello.hello.auth.data)!;
  const transcriptSigned = checkHelloSignature(
    'recover',
    hello.hello,
    proof,
    hello.challenge,
    recoveryKeyPair('alice', old).publicKey,
    proof.recoverySig,
  );
  expect(transcriptSigned).toBe(true);
  registered.set(`alice/${device}`, proof.deviceKey);
  const { m } = await start(dir, 'alice', online);
  expect(m.account()).toMatchObject({ device, state: 'registered', recoveryCodePending: true });
  const fresh = m.pendingRecoveryCode()!;
  expect(fresh).not.toBe(old);
  // The relay was given the public half of the new code's key.
  expect(toBase64(proof.recoveryKey)).toBe(toBase64(recoveryKeyPair('alice', fresh).publicKey));
});
