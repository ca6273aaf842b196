// The CLI's account commands: what login says about a new account (its recovery code, once)
// or a refused one, link-code and link, devices and unlink, and recover.
import { hostname } from 'node:os';
import type { MessengerEvent } from '../shared/api.ts';
import { normalizeLinkCode, normalizeRecoveryCode } from '../node/account-keys.ts';
import { LINK_CODE_TTL_MS } from '../shared/protocol/account.ts';
import { isValidUserName } from '../shared/protocol/index.ts';
import { RefusedError, UnreachableError } from '../core/errors.ts';
import { Messenger, MessengerError } from '../core/messenger.ts';
import { EXIT } from './exit-codes.ts';
import { deviceJson, deviceLine } from './format.ts';

type Out = NodeJS.WritableStream;

/** What the account's device list calls this CLI when its profile is made. */
export function cliDeviceName(): string {
  return `Strata CLI on ${hostname()}`.slice(0, 64).trim();
}

/** The relay's answers to a hello that end the connecting for good. */
const REFUSALS: ReadonlySet<string> = new Set(['nameTaken', 'deviceRemoved', 'authFailed']);

/**
 * Waits until the engine is online ('online'), the relay refused this device for good (the
 * reason, as the engine says it), the link gave up on the relay's certificate ('failed':
 * see m.connectionFailure), or `seconds` passed ('timeout').
 */
export function connected(m: Messenger, seconds: number): Promise<string> {
  return new Promise((resolve) => {
    if (m.online) return resolve('online');
    if (m.connectionFailure !== null) return resolve('failed');
    const finish = (result: string) => {
      clearTimeout(timer);
      m.off('event', on);
      resolve(result);
    };
    const on = (e: MessengerEvent) => {
      if (e.type === 'connection' && e.state === 'online') finish('online');
      // The link gave up for good (the relay's certificate is not the one pinned).
      else if (e.type === 'connection' && m.connectionFailure !== null) finish('failed');
      else if (e.type === 'error' && REFUSALS.has(e.code)) finish(e.text);
    };
    const timer = setTimeout(() => finish('timeout'), seconds * 1000);
    m.on('event', on);
  });
}

/** After login: a new account's recovery code, printed once. */
export function showRecoveryCode(m: Messenger, out: Out): void {
  const code = m.pendingRecoveryCode();
  if (code === null) return;
  out.write(
    `account ${m.user} created. Your recovery code (shown only now; keep it somewhere safe,\n` +
      `it takes the account back if you lose this device: strata recover ${m.user} CODE):\n` +
      `${code}\n`,
  );
  m.acknowledgeRecoveryCode();
}

/** Runs an account command; the engine's refusals and failures end it with their exit code. */
export async function guarded(err: Out, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof MessengerError)) throw e;
    err.write(`strata: ${e.message}\n`);
    if (e instanceof UnreachableError) return EXIT.unreachable;
    return e instanceof RefusedError ? EXIT.refused : EXIT.failed;
  }
}

/** link-code: prints a code on its own line, lets in the device that types it. */
export async function linkCode(m: Messenger, seconds: number, out: Out, err: Out): Promise<number> {
  const { code, expiresAt } = await m.createLinkCode();
  out.write(`${code}\n`);
  err.write(
    `strata: type this code on the new device (strata link ${code}); it works once, ` +
      `until ${new Date(expiresAt).toISOString().slice(11, 19)} UTC\n`,
  );
  const request = await new Promise<MessengerEvent | null>((resolve) => {
    const timer = setTimeout(() => {
      m.off('event', on);
      resolve(null);
    }, seconds * 1000);
    const on = (e: MessengerEvent) => {
      if (e.type !== 'link-request') return;
      clearTimeout(timer);
      m.off('event', on);
      resolve(e);
    };
    m.on('event', on);
  });
  if (request === null || request.type !== 'link-request') {
    err.write(`strata: no device used the code within ${seconds} s\n`);
    return EXIT.timeout;
  }
  // The engine has checked the new device's MAC: it was given this code. Typing the code on
  // the new device is the user's yes.
  const joined = await m.answerLink(request.request.device, true);
  out.write(
    `linked device ${joined!.device} "${joined!.name}" (key ${request.request.fingerprint})\n`,
  );
  return EXIT.ok;
}

export async function devices(m: Messenger, json: boolean, out: Out): Promise<number> {
  for (const d of await m.devices()) out.write((json ? deviceJson(d) : deviceLine(d)) + '\n');
  return EXIT.ok;
}

export async function unlink(m: Messenger, device: number, out: Out): Promise<number> {
  await m.unlinkDevice(device);
  out.write(
    device === m.device
      ? `removed this device (${device}) from ${m.user}'s account\n`
      : `removed device ${device} from ${m.user}'s account; it is refused from now on\n`,
  );
  return EXIT.ok;
}

export interface JoinArgs {
  profileDir: string;
  relayUrl: string;
  insecure: boolean;
  deviceName: string | undefined;
  /** link: how long to wait for the other device's yes. */
  seconds: number | undefined;
}

/** link CODE: a fresh profile joins the account whose device shows the code. */
export async function link(a: JoinArgs, code: string, out: Out, err: Out): Promise<number> {
  if (normalizeLinkCode(code) === null) {
    err.write(`strata: "${code}" is not a link code (10 letters and digits, like ABCDE-FGHJK)\n`);
    return EXIT.usage;
  }
  return guarded(err, async () => {
    const waited = a.seconds === undefined ? {} : { waitMs: a.seconds * 1000 };
    const { user, device } = await Messenger.link({
      profileDir: a.profileDir,
      relayUrl: a.relayUrl,
      code,
      deviceName: a.deviceName ?? cliDeviceName(),
      insecure: a.insecure,
      ...waited,
    });
    out.write(`linked to ${user}'s account as device ${device}\n`);
    return EXIT.ok;
  });
}

/** recover NAME CODE: a fresh profile takes the account back; prints the new recovery code. */
export async function recover(
  a: JoinArgs,
  user: string,
  code: string,
  out: Out,
  err: Out,
): Promise<number> {
  if (!isValidUserName(user)) {
    err.write(`strata: "${user}" is not a valid user name\n`);
    return EXIT.usage;
  }
  if (normalizeRecoveryCode(code) === null) {
    err.write('strata: that is not a recovery code (24 letters and digits, in groups of 4)\n');
    return EXIT.usage;
  }
  return guarded(err, async () => {
    const { device } = await Messenger.recover({
      profileDir: a.profileDir,
      relayUrl: a.relayUrl,
      user,
      code,
      deviceName: a.deviceName ?? cliDeviceName(),
      insecure: a.insecure,
    });
    out.write(`recovered ${user}'s account as device ${device}; its other devices are removed\n`);
    const m = Messenger.open({
      profileDir: a.profileDir,
      relayUrl: a.relayUrl,
      insecure: a.insecure,
    });
    try {
      showRecoveryCode(m, out);
    } finally {
      await m.close();
    }
    return EXIT.ok;
  });
}

/** How long link-code waits for a device by default: as long as the code lives. */
export const LINK_CODE_WAIT_S = LINK_CODE_TTL_MS / 1000;
