// A profile's identity and settings as its database keeps them: who it belongs to, its
// device number, the transport's and the files' settings, and the message clock, read when
// the profile opens and written back with what this start changed.
import { randomInt } from 'node:crypto';
import { KeyPair, newRecoveryCode, recoveryKeyPair } from '../node/account-keys.ts';
import type { TransportSettings } from '../shared/api.ts';
import { isValidUserName } from '../shared/protocol/index.ts';
import { MessengerError } from './errors.ts';
import { defaultDownloadsDir } from './files/downloads.ts';
import type { FileSettings } from './files/transfers.ts';
import {
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_SETTINGS,
  checkFileSettings,
  checkSettings,
} from './settings.ts';
import type { Db } from './store/database.ts';
import { MessageClock } from './transport/message-clock.ts';

/** What opening a profile may ask for (the rest comes from the profile itself). */
export interface ProfileRequest {
  /** Required the first time a profile is used; must match the profile afterwards. */
  user?: string;
  settings?: Partial<TransportSettings>;
  downloadsDir?: string;
  maxFileBytes?: number;
}

export interface Profile {
  user: string;
  device: number;
  settings: TransportSettings;
  fileSettings: FileSettings;
  clock: MessageClock;
  keys: ProfileKeys;
}

/** The device's and the account's keys; `registered` once the relay has welcomed them. */
export interface ProfileKeys {
  device: KeyPair;
  identity: KeyPair;
  recoveryKey: Uint8Array;
  registered: boolean;
}

/** Reads the keys in `meta`, or makes a new device's (and account's) keys. */
function profileKeys(meta: Map<string, string>, user: string): ProfileKeys {
  const saved = (k: string) => {
    const v = meta.get(k);
    return v === undefined ? null : new Uint8Array(Buffer.from(v, 'base64'));
  };
  const device = saved('device_key');
  const identity = saved('identity_key');
  const recoveryKey = saved('recovery_key');
  if (device && identity && recoveryKey)
    return {
      device: KeyPair.deserialize(device),
      identity: KeyPair.deserialize(identity),
      recoveryKey,
      registered: meta.get('account') === 'registered',
    };
  const code = newRecoveryCode();
  meta.set('recovery_code', code);
  return {
    device: KeyPair.generate(),
    identity: KeyPair.generate(),
    recoveryKey: recoveryKeyPair(user, code).publicKey,
    registered: false,
  };
}

/** Reads the profile in `db`, checks it against `request`, and saves what is in force. */
export function loadProfile(db: Db, request: ProfileRequest): Profile {
  const meta = new Map(
    (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map(
      (r) => [r.key, r.value],
    ),
  );
  let user = meta.get('user');
  if (request.user !== undefined && user !== undefined && request.user !== user) {
    throw new MessengerError(`this profile belongs to ${user}, not ${request.user}`);
  }
  if (user === undefined) {
    if (request.user === undefined)
      throw new MessengerError('this profile has no user yet: log in first');
    if (!isValidUserName(request.user)) {
      throw new MessengerError(
        `"${request.user}" is not a valid user name (1 to 32 letters, digits, '.', '_' or '-')`,
      );
    }
    user = request.user;
  }
  const device = Number(meta.get('device') ?? randomInt(1, 0xffff_ffff));
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
  };
  checkFileSettings(fileSettings);
  const keys = profileKeys(meta, user);
  const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  db.transaction(() => {
    put.run('device_key', b64(keys.device.serialize()));
    put.run('identity_key', b64(keys.identity.serialize()));
    put.run('recovery_key', b64(keys.recoveryKey));
    const code = meta.get('recovery_code');
    if (code !== undefined) put.run('recovery_code', code);
    put.run('user', user);
    put.run('device', String(device));
    put.run('settings', JSON.stringify(settings));
    put.run('files', JSON.stringify(fileSettings));
  })();
  // Ids must never repeat, even after a crash that lost the saved clock: resume past
  // every id this device has used (and no further ahead than a peer's id may take us).
  const lastOwn = db
    .prepare('SELECT max(id) AS id FROM messages WHERE author = ? AND author_device = ?')
    .get(user, device) as { id: number | null };
  const clock = MessageClock.restore(Number(meta.get('clock') ?? 0), lastOwn.id ?? 0, Date.now());
  return { user, device, settings, fileSettings, clock, keys };
}
