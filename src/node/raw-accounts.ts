// Keys for raw protocol clients, the tests' and the benchmarks' (which speak frames to the
// relay directly, without an engine): the first connect of a name on a relay registers it,
// later ones sign with the device's key, and another device of the same name is linked
// through a device already on the account (test/helpers/client.ts drives the link). Kept per
// relay (by its id) for the life of the process; nothing here is for the app.
import { encodeDeviceList, toBase64, type DeviceList } from '../shared/protocol/account.ts';
import type { HelloFrame } from '../shared/protocol/index.ts';
import { KeyPair, newRecoveryCode, recoveryKeyPair, signDeviceList } from './account-keys.ts';
import {
  deviceHello,
  firstDeviceList,
  registerHello,
  type Challenge,
  type NewAccount,
} from './hello-proof.ts';

export interface RawAccount {
  user: string;
  identity: KeyPair;
  recoveryCode: string;
  /** The account's current device list, as this process last made it. */
  list: DeviceList;
  /** The private keys of the devices this process made. */
  devices: Map<number, KeyPair>;
}

export class RawAccounts {
  private readonly accounts = new Map<string, RawAccount>();

  /** The account `user` has on the relay of `challenge`, if this process made it. */
  account(relayId: Uint8Array, user: string): RawAccount | undefined {
    return this.accounts.get(key(relayId, user));
  }

  /**
   * The hello for `user/device` on the relay of `challenge`: `register` the first time the
   * name is used there, `device` afterwards; null when the account exists but this device is
   * not on it yet (it must be linked first).
   */
  hello(
    user: string,
    device: number,
    challenge: Challenge,
    agent = 'strata-test',
  ): HelloFrame | null {
    const account = this.account(challenge.relayId, user);
    if (!account) {
      const a = newAccount(user, device);
      this.accounts.set(key(challenge.relayId, user), {
        user,
        identity: a.identity,
        recoveryCode: a.recoveryCode,
        list: a.list,
        devices: new Map([[device, a.deviceKey]]),
      });
      return { ...registerHello(a, challenge), agent };
    }
    const deviceKey = account.devices.get(device);
    return deviceKey ? { ...deviceHello(user, device, deviceKey, challenge), agent } : null;
  }

  /**
   * The next device list with `device` (key `deviceKey`) added, signed: what a device on the
   * account sends in a link-accept. Recorded as the account's list.
   */
  addDevice(
    relayId: Uint8Array,
    user: string,
    device: number,
    deviceKey: KeyPair,
    name = `device ${device}`,
  ): { list: Uint8Array; signature: Uint8Array } {
    const account = this.account(relayId, user);
    if (!account) throw new Error(`no raw account ${user}`);
    account.list = {
      ...account.list,
      version: account.list.version + 1,
      devices: [
        ...account.list.devices,
        { id: device, key: toBase64(deviceKey.publicKey), name, added: Date.now() },
      ],
    };
    account.devices.set(device, deviceKey);
    return this.signed(account);
  }

  /** The next device list without `device`, signed: what a devices-update sends. */
  removeDevice(
    relayId: Uint8Array,
    user: string,
    device: number,
  ): { list: Uint8Array; signature: Uint8Array } {
    const account = this.account(relayId, user);
    if (!account) throw new Error(`no raw account ${user}`);
    account.list = {
      ...account.list,
      version: account.list.version + 1,
      devices: account.list.devices.filter((d) => d.id !== device),
    };
    account.devices.delete(device);
    return this.signed(account);
  }

  private signed(account: RawAccount): { list: Uint8Array; signature: Uint8Array } {
    const list = encodeDeviceList(account.list);
    return { list, signature: signDeviceList(account.identity, list) };
  }
}

/** A new account's keys, recovery code and first list: what a register hello needs. */
export function newAccount(
  user: string,
  device: number,
): NewAccount & { recoveryCode: string; list: DeviceList } {
  const recoveryCode = newRecoveryCode();
  const a: NewAccount = {
    user,
    device,
    deviceName: `device ${device}`,
    deviceKey: KeyPair.generate(),
    identity: KeyPair.generate(),
    recoveryKey: recoveryKeyPair(user, recoveryCode).publicKey,
    now: Date.now(),
  };
  const list = JSON.parse(new TextDecoder().decode(firstDeviceList(a).list)) as DeviceList;
  return { ...a, recoveryCode, list };
}

function key(relayId: Uint8Array, user: string): string {
  return `${toBase64(relayId)}/${user}`;
}

/** This process's raw accounts. */
export const rawAccounts = new RawAccounts();
