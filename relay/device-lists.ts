// The relay's checks of a signed device list (docs/protocol.md, "Accounts"): the list an
// account starts with (register, recover), the next list when a device is linked (exactly one
// device more), and the next list when devices are removed (a strict subset). Each returns
// the parsed list, or a sentence saying what is wrong; none trusts anything the list does not
// prove with the account's identity key.
import { verifyDeviceList } from '../src/node/account-keys.ts';
import {
  parseDeviceList,
  toBase64,
  type DeviceEntry,
  type DeviceList,
} from '../src/shared/protocol/account.ts';
import { MAX_DEVICES } from '../src/shared/protocol/index.ts';

export type ListCheck = { ok: true; list: DeviceList } | { ok: false; why: string };

/** A list signed by `identityKey`, parsed, naming `user` and that key. */
function signedList(
  user: string,
  identityKey: Uint8Array,
  bytes: Uint8Array,
  sig: Uint8Array,
): ListCheck {
  if (!verifyDeviceList(identityKey, bytes, sig))
    return { ok: false, why: 'the device list is not signed by the account identity key' };
  let list: DeviceList;
  try {
    list = parseDeviceList(bytes);
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
  if (list.user !== user) return { ok: false, why: 'the device list names another user' };
  if (list.identityKey !== toBase64(identityKey))
    return { ok: false, why: 'the device list names another identity key' };
  return { ok: true, list };
}

/**
 * An account's first list (register, and recover, where the identity is new): this device
 * alone with this key. `version1`: register must start at 1; after a recovery the versions
 * start again as well.
 */
export function checkFirstList(
  user: string,
  identityKey: Uint8Array,
  bytes: Uint8Array,
  sig: Uint8Array,
  device: number,
  deviceKey: Uint8Array,
): ListCheck {
  const c = signedList(user, identityKey, bytes, sig);
  if (!c.ok) return c;
  if (c.list.version !== 1) return { ok: false, why: 'a new account list must be version 1' };
  const [only, ...more] = c.list.devices;
  if (more.length > 0 || only!.id !== device || only!.key !== toBase64(deviceKey))
    return { ok: false, why: 'a new account list must hold exactly this device and its key' };
  return c;
}

/** What the relay holds of an account's list now. */
export interface CurrentList {
  user: string;
  identityKey: Uint8Array;
  version: number;
  devices: readonly DeviceEntry[];
}

/** The next version of `current`, signed by its identity. */
function nextList(current: CurrentList, bytes: Uint8Array, sig: Uint8Array): ListCheck {
  const c = signedList(current.user, current.identityKey, bytes, sig);
  if (!c.ok) return c;
  if (c.list.version !== current.version + 1)
    return { ok: false, why: `the device list must be version ${current.version + 1}` };
  return c;
}

const same = (a: DeviceEntry, b: DeviceEntry) =>
  a.id === b.id && a.key === b.key && a.name === b.name && a.added === b.added;

/** Linking: every device of `current` unchanged, plus exactly `device` with `deviceKey`. */
export function checkLinkList(
  current: CurrentList,
  bytes: Uint8Array,
  sig: Uint8Array,
  device: number,
  deviceKey: Uint8Array,
): ListCheck {
  const c = nextList(current, bytes, sig);
  if (!c.ok) return c;
  const devices = c.list.devices;
  if (devices.length !== current.devices.length + 1 || devices.length > MAX_DEVICES)
    return { ok: false, why: 'a link must add exactly one device' };
  const added = devices.find((d) => !current.devices.some((o) => o.id === d.id));
  if (!added || added.id !== device || added.key !== toBase64(deviceKey))
    return { ok: false, why: 'the list does not add the device that asked to link' };
  for (const old of current.devices) {
    const now = devices.find((d) => d.id === old.id);
    if (!now || !same(now, old)) return { ok: false, why: `the list changes device ${old.id}` };
  }
  return c;
}

/** Removal: a strict subset of `current`'s devices, each unchanged, at least one left. */
export function checkRemovalList(
  current: CurrentList,
  bytes: Uint8Array,
  sig: Uint8Array,
): ListCheck {
  const c = nextList(current, bytes, sig);
  if (!c.ok) return c;
  for (const d of c.list.devices) {
    const old = current.devices.find((o) => o.id === d.id);
    if (!old) return { ok: false, why: 'devices are added by linking, not by an update' };
    if (!same(old, d)) return { ok: false, why: `the list changes device ${d.id}` };
  }
  if (c.list.devices.length >= current.devices.length)
    return { ok: false, why: 'the update removes no device' };
  return c;
}
