// The relay's checks of signed device lists, each against the forgery it exists to stop.
import { describe, expect, it } from 'vitest';
import { KeyPair, signDeviceList } from '../src/node/account-keys.ts';
import { encodeDeviceList, toBase64, type DeviceList } from '../src/shared/protocol/account.ts';
import {
  checkFirstList,
  checkLinkList,
  checkRemovalList,
  type CurrentList,
} from './device-lists.ts';

const identity = KeyPair.generate();
const keys = [KeyPair.generate(), KeyPair.generate(), KeyPair.generate()];
const entry = (i: number) => ({
  id: i + 1,
  key: toBase64(keys[i]!.publicKey),
  name: `device ${i + 1}`,
  added: 1000 + i,
});

function list(version: number, devices: DeviceList['devices'], over: Partial<DeviceList> = {}) {
  return {
    user: 'alice',
    version,
    identityKey: toBase64(identity.publicKey),
    devices,
    ...over,
  };
}

/** The list's bytes and a signature by `signer` (the identity unless a forger's key). */
function signed(l: DeviceList, signer = identity) {
  const bytes = encodeDeviceList(l);
  return [bytes, signDeviceList(signer, bytes)] as const;
}

const current: CurrentList = {
  user: 'alice',
  identityKey: identity.publicKey,
  version: 4,
  devices: [entry(0), entry(1)],
};

describe('a new account list (register, recover)', () => {
  const first = (l: DeviceList, signer = identity, device = 1, key = keys[0]!) =>
    checkFirstList('alice', identity.publicKey, ...signed(l, signer), device, key.publicKey);

  it('accepts version 1 with exactly this device and key', () => {
    expect(first(list(1, [entry(0)])).ok).toBe(true);
  });

  it.each([
    ['signed by another key', () => first(list(1, [entry(0)]), KeyPair.generate())],
    ['version 2', () => first(list(2, [entry(0)]))],
    ['two devices', () => first(list(1, [entry(0), entry(1)]))],
    ['another device id', () => first(list(1, [entry(0)]), identity, 9)],
    ['another key for the device', () => first(list(1, [entry(0)]), identity, 1, keys[1]!)],
    ['another user', () => first(list(1, [entry(0)], { user: 'mallory' }))],
    [
      'another identity named inside',
      () => first(list(1, [entry(0)], { identityKey: toBase64(keys[2]!.publicKey) })),
    ],
  ])('refuses a list %s', (_what, check) => {
    expect(check().ok).toBe(false);
  });
});

describe('linking: the next list adds exactly the new device', () => {
  const link = (l: DeviceList, signer = identity, device = 3, key = keys[2]!) =>
    checkLinkList(current, ...signed(l, signer), device, key.publicKey);

  it('accepts version + 1 with every device unchanged and the new one', () => {
    expect(link(list(5, [entry(0), entry(1), entry(2)])).ok).toBe(true);
  });

  it.each([
    ['not signed by the identity', () => link(list(5, [entry(0), entry(1), entry(2)]), keys[0])],
    ['with the same version', () => link(list(4, [entry(0), entry(1), entry(2)]))],
    ['skipping a version', () => link(list(6, [entry(0), entry(1), entry(2)]))],
    [
      'adding two devices',
      () => link(list(5, [entry(0), entry(1), entry(2), { ...entry(2), id: 99 }])),
    ],
    [
      "changing another device's key",
      () => link(list(5, [{ ...entry(0), key: entry(2).key }, entry(1), entry(2)])),
    ],
    [
      'renaming another device',
      () => link(list(5, [{ ...entry(0), name: 'evil' }, entry(1), entry(2)])),
    ],
    ['dropping a device while adding', () => link(list(5, [entry(0), entry(2)]))],
    [
      'adding a device other than the one that asked',
      () => link(list(5, [entry(0), entry(1), { ...entry(2), id: 7 }])),
    ],
    [
      'adding the device with another key',
      () => link(list(5, [entry(0), entry(1), entry(2)]), identity, 3, keys[0]),
    ],
  ])('refuses a list %s', (_what, check) => {
    expect(check().ok).toBe(false);
  });
});

describe('devices-update: removal only', () => {
  const update = (l: DeviceList, signer = identity) =>
    checkRemovalList(current, ...signed(l, signer));

  it('accepts version + 1 with a device removed', () => {
    const c = update(list(5, [entry(0)]));
    expect(c.ok && c.list.devices.map((d) => d.id)).toEqual([1]);
  });

  it.each([
    ['not signed by the identity', () => update(list(5, [entry(0)]), keys[0])],
    ['with the version not + 1', () => update(list(7, [entry(0)]))],
    ['that adds a device', () => update(list(5, [entry(0), entry(1), entry(2)]))],
    ['that swaps a device for a new one', () => update(list(5, [entry(0), entry(2)]))],
    ["that changes a device's key", () => update(list(5, [{ ...entry(0), key: entry(2).key }]))],
    ['that removes nothing', () => update(list(5, [entry(0), entry(1)]))],
    ['that removes every device', () => update(list(5, []))],
    [
      'that removes two devices and adds one',
      () => {
        const three = { ...current, devices: [entry(0), entry(1), entry(2)] };
        const strange = { ...entry(2), id: 42, key: toBase64(KeyPair.generate().publicKey) };
        return checkRemovalList(three, ...signed(list(5, [entry(0), strange])));
      },
    ],
  ])('refuses an update %s', (_what, check) => {
    expect(check().ok).toBe(false);
  });
});
