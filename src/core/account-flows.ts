// The two ways a fresh profile joins an account that already exists: linking (a device of
// the account showed a one-time code; that device lets this one in and sends it the account's
// keys, sealed to this device's key and the code) and recovery (the recovery code takes the
// account back with new keys; the relay removes every old device). Each makes one connection
// to the relay and, once the relay has let the device in, saves the profile as registered;
// then the caller opens the Messenger as usual.
import { randomInt } from 'node:crypto';
import {
  KeyPair,
  newRecoveryCode,
  normalizeLinkCode,
  normalizeRecoveryCode,
  openProvision,
  recoveryKeyPair,
} from '../node/account-keys.ts';
import { linkHello, recoverHello } from '../node/hello-proof.ts';
import { LINK_CODE_TTL_MS, fromBase64, parseAccountMessage } from '../shared/protocol/account.ts';
import { isValidUserName, type ChallengeFrame, type HelloFrame } from '../shared/protocol/index.ts';
import { RelayConnection, type HeartbeatOptions } from './connection.ts';
import { MessengerError, RefusedError, UnreachableError } from './errors.ts';
import { checkedDeviceName, isFreshProfile, saveJoinedProfile } from './profile.ts';
import { closeDatabase, openDatabase, type Db } from './store/database.ts';
import { profilePins } from './relay-pin.ts';

export interface JoinOptions {
  profileDir: string;
  relayUrl: string;
  /** How the account's device list names this device (default: "Strata on <hostname>"). */
  deviceName?: string;
  heartbeat?: HeartbeatOptions;
  /** Plain ws:// to a relay on another machine is allowed (as Messenger's option). */
  insecure?: boolean;
}

export interface LinkOptions extends JoinOptions {
  /** The code another device of the account shows. */
  code: string;
  /** How long to wait for that device's yes (default: as long as a code lives). */
  waitMs?: number;
}

export interface RecoverOptions extends JoinOptions {
  user: string;
  /** The recovery code shown when the account was made (or last recovered). */
  code: string;
}

/** Joins the account whose device shows `code`; resolves once this profile is on it. */
export async function linkProfile(o: LinkOptions): Promise<{ user: string; device: number }> {
  const code = normalizeLinkCode(o.code);
  if (code === null) {
    throw new MessengerError(`"${o.code}" is not a link code (10 letters and digits, ABCDE-FGHJK)`);
  }
  const deviceName = checkedDeviceName(o.deviceName);
  const device = randomInt(1, 0xffff_ffff);
  const deviceKey = KeyPair.generate();
  return withFreshProfile(o.profileDir, (db) =>
    connectOnce(
      db,
      o,
      (challenge) => linkHello(code, device, deviceKey, deviceName, challenge),
      // The other device's user has to say yes: the relay holds the link open for as long as
      // the code lives.
      o.waitMs ?? LINK_CODE_TTL_MS,
      (conn, done) => {
        conn.on('frame', (frame) => {
          if (frame.type !== 'account') return;
          const m = parseAccountMessage(frame.body);
          if (m instanceof Error || m.kind !== 'linked') return;
          const sealed = fromBase64(m.provision);
          const provision = sealed && openProvision(code, deviceKey, sealed);
          if (!provision || provision.user !== m.user || m.device !== device) {
            done(new MessengerError("the account's keys did not open with this code and device"));
            return;
          }
          let identity: KeyPair;
          try {
            identity = KeyPair.deserialize(provision.identity);
          } catch {
            done(new MessengerError("the account's identity key did not come whole"));
            return;
          }
          saveJoinedProfile(db, {
            user: m.user,
            device,
            deviceName,
            deviceKey,
            identity,
            recoveryCode: null,
            recoveryKey: null,
          });
          done(null, { user: m.user, device });
        });
      },
      'linking',
    ),
  );
}

/**
 * Takes the account `user` back with its recovery code: new device and identity keys and a
 * new recovery code (pending: shown once). The account's other devices are removed.
 */
export async function recoverProfile(o: RecoverOptions): Promise<{ user: string; device: number }> {
  if (!isValidUserName(o.user)) throw new MessengerError(`"${o.user}" is not a valid user name`);
  if (normalizeRecoveryCode(o.code) === null) {
    throw new MessengerError('that is not a recovery code (24 letters and digits, in groups of 4)');
  }
  const oldRecovery = recoveryKeyPair(o.user, o.code);
  const deviceName = checkedDeviceName(o.deviceName);
  const recoveryCode = newRecoveryCode();
  const account = {
    user: o.user,
    device: randomInt(1, 0xffff_ffff),
    deviceName,
    deviceKey: KeyPair.generate(),
    identity: KeyPair.generate(),
    recoveryKey: recoveryKeyPair(o.user, recoveryCode).publicKey,
  };
  return withFreshProfile(o.profileDir, (db) =>
    connectOnce(
      db,
      o,
      (challenge) => recoverHello({ ...account, now: Date.now() }, oldRecovery, challenge),
      undefined,
      (conn, done) => {
        conn.once('online', () => {
          saveJoinedProfile(db, { ...account, recoveryCode });
          done(null, { user: account.user, device: account.device });
        });
      },
      'recovering the account',
    ),
  );
}

async function withFreshProfile<T>(profileDir: string, run: (db: Db) => Promise<T>): Promise<T> {
  const db = openDatabase(profileDir);
  try {
    if (!isFreshProfile(db)) {
      throw new MessengerError('this profile already has a user: use a new profile folder');
    }
    return await run(db);
  } finally {
    await closeDatabase(db);
  }
}

type Done<T> = (error: Error | null, value?: T) => void;

/** One connection with `hello`, until `watch` calls done or the relay refuses the device. */
function connectOnce<T>(
  db: Db,
  o: JoinOptions,
  hello: (challenge: ChallengeFrame) => HelloFrame,
  welcomeTimeoutMs: number | undefined,
  watch: (conn: RelayConnection, done: Done<T>) => void,
  doing: string,
): Promise<T> {
  // The relay's certificate is checked as for any link, and kept for this profile's later ones.
  const conn = new RelayConnection(o.relayUrl, hello, undefined, o.heartbeat, {
    pins: profilePins(db),
    insecure: o.insecure ?? false,
  });
  if (welcomeTimeoutMs !== undefined) conn.welcomeTimeoutMs = welcomeTimeoutMs;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const done: Done<T> = (error, value) => {
      if (settled) return;
      settled = true;
      void conn.stop().then(() => (error ? reject(error) : resolve(value as T)));
    };
    conn.on('refused', (code, text) =>
      done(new RefusedError(code === 'authFailed' ? refusedRecovery(text) : text)),
    );
    // The first attempt failing ends it: a link code is used up by its first try.
    conn.on('offline', (why) =>
      done(
        conn.challenge === null
          ? new UnreachableError(`cannot reach the relay at ${o.relayUrl} (${why})`)
          : new MessengerError(`the relay closed the link while ${doing}: ${why}`),
      ),
    );
    watch(conn, done);
    conn.start();
  });
}

function refusedRecovery(text: string): string {
  return `the relay refused the recovery code (${text}): check the name and the code`;
}
