// A profile's identity and settings as its database keeps them: who it belongs to, its
// device number and keys, where its account stands, the transport's and the files' settings,
// and the message clock, read when the profile opens and written back with what this start
// changed.
import { randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { KeyPair, newRecoveryCode, recoveryKeyPair } from '../node/account-keys.ts';
import type { AccountState, TransportSettings } from '../shared/api.ts';
import { fromBase64, isDeviceName, toBase64 } from '../shared/protocol/account.ts';
import { isValidUserName } from '../shared/protocol/index.ts';
import { MessengerError } from './errors.ts';
import { defaultDownloadsDir } from './files/downloads.ts';
import type { FileSettings } from './files/transfers.ts';
import {
  DEFAULT_AUTO_DOWNLOAD_BYTES,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_SETTINGS,
  checkFileSettings,
  checkSettings,
} from './settings.ts';
import type { Db } from './store/database.ts';
import { MessageClock } from './transport/message-clock.ts';
import { transact } from '../node/transactions.ts';

/** What opening a profile may ask for (the rest comes from the profile itself). */
export interface ProfileRequest {
  /**
   * Required the first time a profile is used; must match the profile afterwards, unless its
   * name was never registered (state `new` or `name-taken`): then it may change.
   */
  user?: string;
  /** How the account's device list names this device when the profile is made. */
  deviceName?: string;
  settings?: Partial<TransportSettings>;
  downloadsDir?: string;
  maxFileBytes?: number;
  autoDownloadBytes?: number;
}

/** This device's keys: its own pair and the account's identity pair. */
export interface ProfileKeys {
  device: KeyPair;
  identity: KeyPair;
  /** The public half of the recovery code's key (what registering gives the relay). */
  recoveryKey: Uint8Array | null;
}

export interface Profile {
  user: string;
  device: number;
  deviceName: string;
  account: AccountState;
  keys: ProfileKeys;
  settings: TransportSettings;
  fileSettings: FileSettings;
  clock: MessageClock;
}

/** Reads the profile in `db`, checks it against `request`, and saves what is in force. */
export function loadProfile(db: Db, request: ProfileRequest): Profile {
  const meta = new Map(
    (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map(
      (r) => [r.key, r.value],
    ),
  );
  let user = meta.get('user');
  let account = (meta.get('account') ?? 'new') as AccountState;
  const unregistered = account === 'new' || account === 'name-taken';
  if (request.user !== undefined && user !== undefined && request.user !== user && !unregistered) {
    throw new MessengerError(`this profile belongs to ${user}, not ${request.user}`);
  }
  if (user === undefined || (request.user !== undefined && request.user !== user)) {
    if (request.user === undefined)
      throw new MessengerError('this profile has no user yet: log in first');
    if (!isValidUserName(request.user)) {
      throw new MessengerError(
        `"${request.user}" is not a valid user name (1 to 32 letters, digits, '.', '_' or '-')`,
      );
    }
    // A name never registered (or taken by someone else) gives way to the one asked for; its
    // recovery code was made for the old name, so the new one gets its own.
    if (user !== undefined) meta.delete('recovery_code');
    user = request.user;
    account = 'new';
  }
  const device = Number(meta.get('device') ?? randomInt(1, 0xffff_ffff));
  const deviceName = meta.get('device_name') ?? checkedDeviceName(request.deviceName);
  // Keys are made with the profile (and for a profile from before accounts, on its first
  // start here): the first connection registers the name with them.
  const keys = {
    device: readKey(meta.get('device_key')) ?? KeyPair.generate(),
    identity: readKey(meta.get('identity_key')) ?? KeyPair.generate(),
  };
  let recoveryCode = meta.get('recovery_code') ?? null;
  let recoveryKey = fromBase64(meta.get('recovery_key') ?? '');
  if (account === 'new' && (recoveryKey === null || meta.get('user') !== user)) {
    recoveryCode ??= newRecoveryCode();
    recoveryKey = recoveryKeyPair(user, recoveryCode).publicKey;
  }
  const settings = {
    ...DEFAULT_SETTINGS,
    ...JSON.parse(meta.get('settings') ?? '{}'),
    ...request.settings,
  };
  checkSettings(settings);
  const savedFiles = JSON.parse(meta.get('files') ?? '{}') as Partial<FileSettings>;
  const fileSettings: FileSettings = {
    downloadsDir: request.downloadsDir ?? savedFiles.downloadsDir ?? defaultDownloadsDir(),
    maxFileBytes: request.maxFileBytes ?? savedFiles.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    autoDownloadBytes:
      request.autoDownloadBytes ?? savedFiles.autoDownloadBytes ?? DEFAULT_AUTO_DOWNLOAD_BYTES,
  };
  checkFileSettings(fileSettings);
  const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  transact(db, () => {
    put.run('user', user);
    put.run('device', String(device));
    put.run('device_name', deviceName);
    put.run('account', account);
    put.run('device_key', toBase64(keys.device.serialize()));
    put.run('identity_key', toBase64(keys.identity.serialize()));
    if (recoveryKey !== null) put.run('recovery_key', toBase64(recoveryKey));
    if (recoveryCode !== null) put.run('recovery_code', recoveryCode);
    else db.prepare("DELETE FROM meta WHERE key = 'recovery_code'").run();
    put.run('settings', JSON.stringify(settings));
    put.run('files', JSON.stringify(fileSettings));
  });
  // Ids must never repeat, even after a crash that lost the saved clock: resume past
  // every id this device has used (and no further ahead than a peer's id may take us).
  const lastOwn = db
    .prepare('SELECT max(id) AS id FROM messages WHERE author = ? AND author_device = ?')
    .get(user, device) as { id: number | null };
  const clock = MessageClock.restore(Number(meta.get('clock') ?? 0), lastOwn.id ?? 0, Date.now());
  return {
    user,
    device,
    deviceName,
    account,
    keys: { ...keys, recoveryKey },
    settings,
    fileSettings,
    clock,
  };
}

/** A device name as the account's device list takes it; the default names this machine. */
export function checkedDeviceName(name: string | undefined, app = 'Strata'): string {
  const chosen = name ?? `${app} on ${hostname()}`.slice(0, 64).trim();
  if (!isDeviceName(chosen)) {
    throw new MessengerError(
      `"${name}" is not a usable device name (1 to 64 characters, no control characters)`,
    );
  }
  return chosen;
}

function readKey(b64: string | undefined): KeyPair | null {
  const bytes = fromBase64(b64 ?? '');
  return bytes === null ? null : KeyPair.deserialize(bytes);
}

export function setAccountState(db: Db, state: AccountState): void {
  db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('account', ?)").run(state);
}

/** The recovery code still to be shown once, or null. */
export function pendingRecoveryCode(db: Db): string | null {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'recovery_code'").get() as
    { value: string } | undefined;
  return row?.value ?? null;
}

/** The user has seen the recovery code: this device forgets it. */
export function forgetRecoveryCode(db: Db): void {
  db.prepare("DELETE FROM meta WHERE key = 'recovery_code'").run();
}

/** Whether the profile in `db` is fresh (no user yet): only a fresh one may link or recover. */
export function isFreshProfile(db: Db): boolean {
  return db.prepare("SELECT 1 FROM meta WHERE key = 'user'").get() === undefined;
}

/** What a linked or recovered device knows of its account when the relay has let it in. */
export interface JoinedAccount {
  user: string;
  device: number;
  deviceName: string;
  deviceKey: KeyPair;
  identity: KeyPair;
  /** Recovery only: the new code (pending, shown once) and its public key. */
  recoveryCode: string | null;
  recoveryKey: Uint8Array | null;
}

/** Saves a fresh profile as a registered device of `a`'s account. */
export function saveJoinedProfile(db: Db, a: JoinedAccount): void {
  const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  transact(db, () => {
    if (!isFreshProfile(db)) throw new MessengerError('this profile already has a user');
    put.run('user', a.user);
    put.run('device', String(a.device));
    put.run('device_name', a.deviceName);
    put.run('account', 'registered');
    put.run('device_key', toBase64(a.deviceKey.serialize()));
    put.run('identity_key', toBase64(a.identity.serialize()));
    if (a.recoveryKey !== null) put.run('recovery_key', toBase64(a.recoveryKey));
    if (a.recoveryCode !== null) put.run('recovery_code', a.recoveryCode);
    // A linked device asks its account's other devices for the history (crypto/history.ts).
    else put.run('history', 'wanted');
  });
}
