// The engine's account frames against a stand-in relay that keeps alice's signed device list
// as the real one does: link requests (a MAC made without the code is declined unasked; a good
// one is asked about, and accepting signs the next list and seals the account's keys for the
// new device and the code), removing a device, and a contact's identity key that changes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  KeyPair,
  keyFingerprint,
  linkMac,
  openProvision,
  verifyDeviceList,
} from '../node/account-keys.ts';
import type { MessengerEvent } from '../shared/api.ts';
import {
  decodeProof,
  encodeAccountMessage,
  fromBase64,
  parseAccountMessage,
  parseDeviceList,
  toBase64,
  type AccountMessage,
} from '../shared/protocol/account.ts';
import type { Frame } from '../shared/protocol/index.ts';
import { Messenger } from './messenger.ts';
import { standInRelay, type StandInRelay } from './stand-in-relay.ts';

let relay: StandInRelay;
let m: Messenger;
const events: MessengerEvent[] = [];
/** What the engine sent in account frames, in order. */
const sent: AccountMessage[] = [];
let list: { bytes: Uint8Array; sig: Uint8Array } | null = null;
let toEngine: ((f: Frame) => void) | null = null;
let waiters: (() => boolean)[] = [];

const account = (body: AccountMessage): Frame => ({
  type: 'account',
  from: '',
  fromDevice: 0,
  to: 'alice',
  toDevice: 0,
  body: encodeAccountMessage(body),
});

function devicesAnswer(): AccountMessage {
  return {
    kind: 'devices',
    deviceList: toBase64(list!.bytes),
    deviceListSig: toBase64(list!.sig),
    seen: parseDeviceList(list!.bytes).devices.map((d) => ({
      id: d.id,
      online: false,
      lastSeen: 0,
    })),
  };
}

beforeEach(async () => {
  relay = await standInRelay();
  relay.answer = ({ hello }) => {
    const proof = decodeProof('register', hello.auth.data);
    if (proof) list = { bytes: proof.deviceList, sig: proof.deviceListSig };
    return 'welcome';
  };
  relay.onFrame = (frame, reply) => {
    toEngine = reply;
    waiters = waiters.filter((check) => !check());
    if (frame.type !== 'account') return;
    const msg = parseAccountMessage(frame.body);
    if (msg instanceof Error) throw msg;
    sent.push(msg);
    if (msg.kind === 'link-offer') {
      reply(account({ kind: 'link-offer', codeId: msg.codeId, expiresAt: Date.now() + 600_000 }));
    } else if (msg.kind === 'devices') {
      reply(account(devicesAnswer()));
    } else if (msg.kind === 'link-accept' || msg.kind === 'devices-update') {
      list = { bytes: fromBase64(msg.deviceList)!, sig: fromBase64(msg.deviceListSig)! };
      if (msg.kind === 'devices-update') reply(account(devicesAnswer()));
    }
    waiters = waiters.filter((check) => !check());
  };
  const dir = join(mkdtempSync(join(tmpdir(), 'strata-link-')), 'profile');
  m = Messenger.open({ profileDir: dir, relayUrl: relay.url, user: 'alice' });
  m.on('event', (e) => {
    events.push(e);
    waiters = waiters.filter((check) => !check());
  });
  m.start();
  await until(() => m.online && toEngine !== null);
});

afterEach(async () => {
  await m.close();
  await relay.close();
  events.length = 0;
  sent.length = 0;
  list = null;
  toEngine = null;
  waiters = [];
});

function until(test: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => test() && (resolve(), true);
    if (!check()) waiters.push(check);
  });
}

/** A new device's link request for `code` (its MAC made with `macCode`). */
function linkRequest(codeId: string, macCode: string) {
  const key = KeyPair.generate();
  const mac = linkMac(macCode, key.publicKey, 'phone');
  toEngine!(
    account({
      kind: 'link-request',
      codeId,
      device: 4242,
      deviceKey: toBase64(key.publicKey),
      name: 'phone',
      mac: toBase64(mac),
    }),
  );
  return key;
}

it('a link request whose MAC was not made with the code is declined without asking anyone', async () => {
  const { code } = await m.createLinkCode();
  const offer = sent.find((s) => s.kind === 'link-offer')!;
  expect(offer).toMatchObject({ kind: 'link-offer' });
  expect(JSON.stringify(offer)).not.toContain(code);
  const codeId = (offer as { codeId: string }).codeId;
  linkRequest(codeId, 'ZZZZZ-ZZZZZ');
  await until(() => sent.some((s) => s.kind === 'link-decline'));
  expect(sent.at(-1)).toEqual({ kind: 'link-decline', codeId });
  expect(events.some((e) => e.type === 'link-request')).toBe(false);
});

it("accepting a link signs the next device list and seals the account's keys for that device and code", async () => {
  const { code } = await m.createLinkCode();
  const codeId = (sent.find((s) => s.kind === 'link-offer') as { codeId: string }).codeId;
  const newKey = linkRequest(codeId, code);
  await until(() => events.some((e) => e.type === 'link-request'));
  expect(events.find((e) => e.type === 'link-request')).toMatchObject({
    request: { device: 4242, name: 'phone', fingerprint: keyFingerprint(newKey.publicKey) },
  });

  const joined = await m.answerLink(4242, true);
  expect(joined).toMatchObject({ device: 4242, name: 'phone', current: false });
  const accept = sent.find((s) => s.kind === 'link-accept') as AccountMessage & {
    kind: 'link-accept';
  };
  const next = parseDeviceList(fromBase64(accept.deviceList)!);
  expect(next.version).toBe(2);
  expect(next.devices.map((d) => d.id)).toEqual([m.device, 4242]);
  expect(next.devices[1]!.key).toBe(toBase64(newKey.publicKey));
  const identity = fromBase64(next.identityKey)!;
  expect(
    verifyDeviceList(identity, fromBase64(accept.deviceList)!, fromBase64(accept.deviceListSig)!),
  ).toBe(true);
  // Only the new device with the code opens the provision: it carries the account's identity.
  const provision = openProvision(code, newKey, fromBase64(accept.provision)!)!;
  expect(provision.user).toBe('alice');
  const carried = KeyPair.deserialize(provision.identity);
  expect(keyFingerprint(carried.publicKey)).toBe(m.account().identityFingerprint);
  expect(openProvision(code, KeyPair.generate(), fromBase64(accept.provision)!)).toBeNull();
  expect(events.some((e) => e.type === 'device-linked')).toBe(true);

  // Removing it signs the list without it.
  const left = await m.unlinkDevice(4242);
  expect(left.map((d) => d.device)).toEqual([m.device]);
  const update = sent.find((s) => s.kind === 'devices-update') as AccountMessage & {
    kind: 'devices-update';
  };
  expect(parseDeviceList(fromBase64(update.deviceList)!)).toMatchObject({ version: 3 });
  await expect(m.unlinkDevice(4242)).rejects.toThrow(/not on alice's account/);
});

it("a contact's changed identity key leaves a notice and an event; the first one seen does not", async () => {
  const first = toBase64(KeyPair.generate().publicKey);
  const second = toBase64(KeyPair.generate().publicKey);
  toEngine!(account({ kind: 'identities', entries: [{ user: 'bob', identityKey: first }] }));
  toEngine!(account({ kind: 'identities', entries: [{ user: 'bob', identityKey: first }] }));
  toEngine!(account({ kind: 'identities', entries: [{ user: 'bob', identityKey: second }] }));
  await until(() => events.some((e) => e.type === 'identity-changed'));
  expect(events.filter((e) => e.type === 'identity-changed')).toEqual([
    {
      type: 'identity-changed',
      user: 'bob',
      fingerprint: keyFingerprint(fromBase64(second)!),
      at: expect.any(Number),
    },
  ]);
  expect(m.notices('bob')).toEqual([
    expect.objectContaining({
      kind: 'identity-changed',
      fingerprint: keyFingerprint(fromBase64(second)!),
    }),
  ]);
});

it('asks for the identity key of whoever it starts a conversation with', async () => {
  m.send('carol', 'hello');
  await until(() => sent.some((s) => s.kind === 'identities'));
  expect(sent.find((s) => s.kind === 'identities')).toEqual({
    kind: 'identities',
    users: ['carol'],
  });
});
