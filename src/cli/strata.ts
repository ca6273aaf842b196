// `strata`: the command-line client. Same engine, same profile format as the desktop app.
//   strata --profile DIR --relay URL login NAME
//   strata --profile DIR --relay URL link-code [--timeout S] | link CODE [--name NAME]
//   strata --profile DIR --relay URL devices [--json] | unlink DEVICE | recover NAME CODE
//   strata --profile DIR --relay URL send USER TEXT [--wait sent|delivered]
//   strata --profile DIR --relay URL send-file USER PATH [--wait sent|delivered]
//   strata --profile DIR --relay URL listen [--json] [--for SECONDS] [--downloads DIR]
//   strata --profile DIR history USER [--json]
//   strata --profile DIR --relay URL safety-number USER [--json] | verify USER | unverify USER
//   strata --profile DIR --relay URL accept-identity USER
//   strata --profile DIR --relay URL accept USER | block USER | unblock USER | download KEY
//   strata --profile DIR [--relay URL] web [--user NAME] [--port P] [--token T] [--downloads DIR]
import type { MessageView, MessengerEvent, TransportSettings } from '../shared/api.ts';
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureDownloadsDir } from '../core/files/downloads.ts';
import { formatBytes } from '../core/files/disk.ts';
import { Host } from '../core/host/host.ts';
import { startWebServer, WebServerError } from '../core/host/web-server.ts';
import { Messenger, MessengerError } from '../core/messenger.ts';
import { IdentityChangedError } from '../core/errors.ts';
import { ProgressMeter, fileJson, messageJson, messageLine } from './format.ts';
import * as account from './account-commands.ts';
import * as safety from './safety-commands.ts';
import * as consent from './consent-commands.ts';
import { readArgs, tokenConfig, type OptionTypes } from '../shared/args.ts';
import { untilStopped, watchOutput } from './stdio.ts';
import { HELP } from './help.ts';

export { fileJson, messageJson, progressLine } from './format.ts';

import { EXIT } from './exit-codes.ts';
export { EXIT };

class UsageError extends Error {}
/** The file to send is missing, not a file, or cannot be read: a usage error (exit 2). */
class FileArgError extends Error {}

/** The file named on the command line, as an absolute path; throws FileArgError. */
function checkedFile(path: string): string {
  const abs = resolve(path);
  let isFile: boolean;
  try {
    isFile = statSync(abs).isFile();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileArgError(
      code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path}: ${(e as Error).message}`,
    );
  }
  if (!isFile) throw new FileArgError(`${path} is not a file`);
  return abs;
}

interface Args {
  command: string;
  positional: string[];
  flags: Map<string, string | true>;
}

/** The CLI's options: with a value, or (json, help) without. */
const OPTIONS: OptionTypes = {
  profile: 'string',
  relay: 'string',
  wait: 'string',
  for: 'string',
  timeout: 'string',
  'segment-size': 'string',
  'assembly-period': 'string',
  'idle-cycles': 'string',
  user: 'string',
  port: 'string',
  bind: 'string',
  token: 'string',
  downloads: 'string',
  'auto-download': 'string',
  name: 'string',
  json: 'boolean',
  insecure: 'boolean',
  help: 'boolean',
};

export function parseCommandLine(argv: string[]): Args {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (const a of readArgs(parseArgs(tokenConfig(argv, OPTIONS)).tokens, argv, OPTIONS)) {
    if (a.kind === 'word') positional.push(a.value);
    else if (a.kind === 'unknown') throw new UsageError(`unknown option --${a.name}`);
    else if (a.kind === 'missing') throw new UsageError(`--${a.name} needs a value`);
    else flags.set(a.name, a.kind === 'value' ? a.value : true);
  }
  const [command = '', ...rest] = positional;
  return { command, positional: rest, flags };
}

function intFlag(args: Args, name: string): number | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  if (v === true || !/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number`);
  return Number(v);
}

function settingsFrom(args: Args): Partial<TransportSettings> {
  const s: Partial<TransportSettings> = {};
  const x = intFlag(args, 'segment-size');
  const n = intFlag(args, 'assembly-period');
  const k = intFlag(args, 'idle-cycles');
  if (x !== undefined) s.segmentSize = x;
  if (n !== undefined) s.assemblyPeriodMs = n;
  if (k !== undefined) s.idleCycles = k;
  return s;
}

function waitFor(
  m: Messenger,
  test: (e: MessengerEvent | null) => boolean,
  seconds: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    if (test(null)) return resolve(true);
    const timer = setTimeout(() => {
      m.off('event', on);
      resolve(false);
    }, seconds * 1000);
    const on = (e: MessengerEvent) => {
      if (!test(e)) return;
      clearTimeout(timer);
      m.off('event', on);
      resolve(true);
    };
    m.on('event', on);
  });
}

export async function main(
  argv: string[],
  out = process.stdout,
  err = process.stderr,
): Promise<number> {
  const outputGone = watchOutput(out);
  watchOutput(err);
  let args: Args;
  try {
    args = parseCommandLine(argv);
  } catch (e) {
    err.write(`strata: ${(e as Error).message} (see --help)\n`);
    return EXIT.usage;
  }
  if (args.flags.has('help') || args.command === '' || args.command === 'help') {
    out.write(HELP);
    return args.command === '' && !args.flags.has('help') ? EXIT.usage : EXIT.ok;
  }
  const profile = args.flags.get('profile');
  if (typeof profile !== 'string') {
    err.write('strata: --profile DIR is required\n');
    return EXIT.usage;
  }
  const relay = (args.flags.get('relay') as string | undefined) ?? process.env.STRATA_RELAY;
  if (args.command === 'web') {
    if (args.positional.length !== 0) {
      err.write('strata: web takes no arguments (see --help)\n');
      return EXIT.usage;
    }
    return web(profile, relay, args, out, err);
  }
  const needsRelay = args.command !== 'history';
  if (needsRelay && !relay) {
    err.write('strata: --relay URL is required (or set STRATA_RELAY)\n');
    return EXIT.usage;
  }
  const expected: Record<string, number> = {
    login: 1,
    send: 2,
    'send-file': 2,
    listen: 0,
    history: 1,
    'link-code': 0,
    link: 1,
    devices: 0,
    unlink: 1,
    recover: 2,
    ...Object.fromEntries(safety.SAFETY_COMMANDS.map((c) => [c, 1])),
    accept: 1,
    block: 1,
    unblock: 1,
    download: 1,
  };
  if (!(args.command in expected)) {
    err.write(`strata: unknown command "${args.command}" (see --help)\n`);
    return EXIT.usage;
  }
  if (args.positional.length !== expected[args.command]) {
    err.write(`strata: ${args.command} takes ${expected[args.command]} argument(s) (see --help)\n`);
    return EXIT.usage;
  }
  const name = args.flags.get('name');
  if (name !== undefined && args.command !== 'link' && args.command !== 'recover') {
    err.write('strata: --name goes with link or recover\n');
    return EXIT.usage;
  }
  if (args.command === 'link' || args.command === 'recover') {
    let seconds: number | undefined;
    try {
      seconds = intFlag(args, 'timeout');
    } catch (e) {
      err.write(`strata: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    const join = {
      profileDir: profile,
      relayUrl: relay!,
      insecure: args.flags.has('insecure'),
      deviceName: name as string,
      seconds,
    };
    const [first, second] = args.positional as [string, string];
    return args.command === 'link'
      ? account.link(join, first, out, err)
      : account.recover(join, first, second, out, err);
  }
  let timeout: number;
  let m: Messenger;
  let file: string | undefined;
  let downloads: string | undefined;
  try {
    const d = args.flags.get('downloads');
    if (d !== undefined) {
      if (args.command !== 'listen') throw new UsageError('--downloads goes with listen or web');
      downloads = resolve(d as string);
    }
    if (args.command === 'send-file') file = checkedFile(args.positional[1]!);
    const badName = safety.isSafetyCommand(args.command) && safety.badUserName(args.positional[0]!);
    if (badName) throw new UsageError(badName);
    if (args.command === 'unlink' && !/^\d+$/.test(args.positional[0]!)) {
      throw new UsageError('unlink takes a device number (see strata devices)');
    }
    const wait = args.flags.get('wait');
    if (wait !== undefined && wait !== 'sent' && wait !== 'delivered') {
      throw new UsageError('--wait must be sent or delivered');
    }
    timeout = intFlag(args, 'timeout') ?? 30;
    intFlag(args, 'for'); // checked now, not after connecting
    const autoDownloadBytes = intFlag(args, 'auto-download');
    m = Messenger.open({
      profileDir: profile,
      relayUrl: relay ?? '',
      ...(args.command === 'login' ? { user: args.positional[0]! } : {}),
      deviceName: account.cliDeviceName(),
      settings: settingsFrom(args),
      insecure: args.flags.has('insecure'),
      ...(autoDownloadBytes !== undefined ? { autoDownloadBytes } : {}),
    });
  } catch (e) {
    if (e instanceof FileArgError) {
      err.write(`strata: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof UsageError || e instanceof MessengerError || e instanceof RangeError) {
      err.write(`strata: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
  try {
    if (file !== undefined && statSync(file).size > m.fileSettings.maxFileBytes) {
      err.write(
        `strata: ${basename(file)} is ${statSync(file).size} bytes, over the limit of ` +
          `${m.fileSettings.maxFileBytes} bytes for this profile\n`,
      );
      return EXIT.usage;
    }
    if (downloads !== undefined) {
      try {
        m.updateFileSettings({ downloadsDir: ensureDownloadsDir(downloads) });
      } catch (e) {
        err.write(`strata: ${(e as Error).message}\n`);
        return EXIT.usage;
      }
    }
    if (args.command === 'history') {
      safety.printHistory(m, args.positional[0]!, args.flags.has('json'), out);
      return EXIT.ok;
    }
    m.start();
    const reached = await account.connected(m, timeout);
    if (reached === 'timeout') {
      err.write(`strata: cannot reach the relay at ${relay}\n`);
      return EXIT.unreachable;
    }
    if (m.connectionFailure !== null) {
      err.write(`strata: ${m.connectionFailure}\n`);
      return EXIT.failed;
    }
    if (reached !== 'online') {
      err.write(`strata: ${reached}\n`);
      return EXIT.refused;
    }
    switch (args.command) {
      case 'login':
        out.write(`logged in as ${m.user} (device ${m.device}) at ${relay}\n`);
        account.showRecoveryCode(m, out);
        return EXIT.ok;
      case 'link-code': {
        const seconds = intFlag(args, 'timeout') ?? account.LINK_CODE_WAIT_S;
        return await account.guarded(err, () => account.linkCode(m, seconds, out, err));
      }
      case 'devices':
        return await account.guarded(err, () => account.devices(m, args.flags.has('json'), out));
      case 'unlink':
        return await account.guarded(err, () => account.unlink(m, Number(args.positional[0]), out));
      case 'send':
        try {
          return await send(m, args, timeout, out, err);
        } catch (e) {
          if (!(e instanceof MessengerError || e instanceof RangeError)) throw e;
          err.write(`strata: ${e.message}\n`);
          return e instanceof IdentityChangedError ? EXIT.refused : EXIT.usage;
        }
      case 'send-file':
        try {
          return await sendFile(m, args.positional[0]!, file!, args, timeout, out, err);
        } catch (e) {
          if (!(e instanceof MessengerError || e instanceof RangeError)) throw e;
          err.write(`strata: ${e.message}\n`);
          return e instanceof IdentityChangedError ? EXIT.refused : EXIT.usage;
        }
      case 'listen':
        return await listen(m, args, out, outputGone);
      case 'accept':
      case 'block':
      case 'unblock':
        return consent.contact(m, args.command, args.positional[0]!, out, err);
      case 'download':
        return await consent.download(m, args.positional[0]!, args.flags.has('json'), out, err);
    }
    const command = args.command;
    if (safety.isSafetyCommand(command)) {
      const [user, json] = [args.positional[0]!, args.flags.has('json')];
      return await account.guarded(err, () => safety.safetyCommand(m, command, user, json, out));
    }
    return EXIT.usage;
  } finally {
    await m.close();
  }
}

async function send(
  m: Messenger,
  args: Args,
  timeout: number,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const wait = args.flags.get('wait') ?? 'sent';
  const [to, text] = args.positional as [string, string];
  const sent = m.send(to, text);
  const goal = wait === 'sent' ? ['sent', 'delivered', 'read'] : ['delivered', 'read'];
  let status = sent.status;
  const done = await waitFor(
    m,
    () => {
      status = m.message(sent.key)?.status ?? status;
      return goal.includes(status) || status === 'failed';
    },
    timeout,
  );
  if (status === 'failed') {
    const refusal = m.lastError(sent.key);
    err.write(`strata: the message to ${to} failed${refusal ? `: ${refusal}` : ''}\n`);
    return refusal ? EXIT.refused : EXIT.failed;
  }
  if (!done) {
    err.write(
      `strata: gave up after ${timeout} s; the message stays queued (${status}) and goes out on the next start\n`,
    );
    return EXIT.timeout;
  }
  out.write(`${sent.key} ${status}\n`);
  return EXIT.ok;
}

async function sendFile(
  m: Messenger,
  to: string,
  path: string,
  args: Args,
  timeout: number,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const wait = args.flags.get('wait') ?? 'sent';
  const tty = (err as NodeJS.WritableStream & { isTTY?: boolean }).isTTY === true;
  const meter = tty ? new ProgressMeter(err, basename(path)) : null;
  meter?.note('checking (SHA-256)...');
  const sent = await m.sendFile(to, path);
  const size = sent.file!.size!;
  const goal = wait === 'sent' ? ['sent', 'delivered', 'read'] : ['delivered', 'read'];
  let view = sent;
  meter?.update(0, size);
  // The timeout is a stall timeout: a large file may take long, but it must keep moving.
  const done = await new Promise<boolean>((resolve) => {
    let timer: ReturnType<typeof setTimeout>;
    const stalled = () => {
      m.off('event', on);
      resolve(false);
    };
    const check = () => {
      if (goal.includes(view.status) || view.status === 'failed') {
        clearTimeout(timer);
        m.off('event', on);
        resolve(true);
      }
    };
    const on = (e: MessengerEvent) => {
      if (e.type !== 'message' || e.message.key !== sent.key) return;
      const moved =
        e.message.status !== view.status || e.message.file?.bytesDone !== view.file?.bytesDone;
      view = e.message;
      if (moved) {
        clearTimeout(timer);
        timer = setTimeout(stalled, timeout * 1000);
      }
      meter?.update(view.file?.bytesDone ?? 0, size);
      check();
    };
    timer = setTimeout(stalled, timeout * 1000);
    m.on('event', on);
    view = m.message(sent.key) ?? view;
    check();
  });
  meter?.end();
  if (view.status === 'failed') {
    // lastError holds the relay's refusal, or the transfer's own failure (its file error).
    const reason = m.lastError(sent.key);
    const refused = reason !== null && reason !== view.file?.error;
    const why = reason ?? view.file?.error;
    err.write(`strata: the file to ${to} failed${why ? `: ${why}` : ''}\n`);
    return refused ? EXIT.refused : EXIT.failed;
  }
  if (!done) {
    err.write(
      `strata: gave up after ${timeout} s without progress; the file stays queued ` +
        `(${view.status}, ${formatBytes(view.file?.bytesDone ?? 0)} of ${formatBytes(size)}) ` +
        `and resumes on the next start\n`,
    );
    return EXIT.timeout;
  }
  out.write(`${sent.key} ${view.status}\n`);
  return EXIT.ok;
}

/** The renderer the browser host serves: the electron-vite build of src/renderer. */
const RENDERER_DIR = fileURLToPath(new URL('../../out/renderer/', import.meta.url));

async function web(
  profile: string,
  relay: string | undefined,
  args: Args,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const user = args.flags.get('user');
  const token = args.flags.get('token');
  const bind = args.flags.get('bind');
  const downloads = args.flags.get('downloads');
  let port: number | undefined;
  let downloadsDir: string | undefined;
  try {
    port = intFlag(args, 'port');
    if (typeof downloads === 'string') downloadsDir = ensureDownloadsDir(resolve(downloads));
    if (port !== undefined && port > 65535) throw new UsageError('--port must be 0 to 65535');
    if (user !== undefined && relay === undefined) {
      throw new UsageError('--user needs --relay URL (or STRATA_RELAY)');
    }
  } catch (e) {
    err.write(`strata: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
  let host: Host;
  try {
    host = await Host.open({
      profileDir: profile,
      kind: 'browser',
      ...(relay !== undefined ? { relayUrl: relay } : {}),
      ...(typeof user === 'string' ? { user } : {}),
      ...(downloadsDir !== undefined ? { downloadsDir } : {}),
      insecure: args.flags.has('insecure'),
    });
  } catch (e) {
    err.write(`strata: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
  let server;
  try {
    server = await startWebServer({
      host,
      staticDir: RENDERER_DIR,
      ...(port !== undefined ? { port } : {}),
      ...(typeof bind === 'string' ? { bind } : {}),
      ...(typeof token === 'string' ? { token } : {}),
    });
  } catch (e) {
    await host.close();
    if (!(e instanceof WebServerError)) throw e;
    err.write(`strata: ${e.message}\n`);
    return EXIT.usage;
  }
  // The first line of stdout is the address, so that scripts and tests can read it.
  out.write(`${server.url}\n`);
  const session = host.session;
  err.write(
    `strata: browser host for profile ${session.profile}` +
      (session.user ? ` (${session.user} at ${session.relayUrl})` : ' (not logged in yet)') +
      '. Stop with Ctrl+C.\n',
  );
  await untilStopped();
  await server.close();
  await host.close();
  return EXIT.ok;
}

async function listen(
  m: Messenger,
  args: Args,
  out: NodeJS.WritableStream,
  outputGone: Promise<void>,
): Promise<number> {
  const json = args.flags.has('json');
  const seconds = intFlag(args, 'for');
  // Print each message when it completes, and once when it is handed over with the error
  // flag; a flagged message that completes later is printed again, now whole.
  const printed = new Map<string, boolean>();
  // A received file is printed once when it is saved, or once when it fails verification;
  // and once when it waits for the user (`accept USER` or `download KEY`), its name known.
  const filesPrinted = new Set<string>();
  const showFile = (v: MessageView) => {
    const { state, name } = v.file!;
    const waits = state === 'waiting' && name !== null;
    if ((state !== 'done' && state !== 'failed' && !waits) || filesPrinted.has(v.key + state))
      return;
    filesPrinted.add(v.key + state);
    out.write((json ? fileJson(v) : messageLine(v)) + '\n');
  };
  const show = (v: MessageView) => {
    if (v.direction !== 'in') return;
    if (v.file) return showFile(v);
    if (v.text === null && !v.error) return;
    if (printed.get(v.key) === v.error) return;
    printed.set(v.key, v.error);
    out.write((json ? messageJson(v) : messageLine(v)) + '\n');
  };
  m.on('event', (e) => {
    if (e.type === 'message') show(e.message);
    if (e.type === 'identity-changed') {
      const notice = { peer: e.user, at: e.at, fingerprint: e.fingerprint };
      out.write((json ? safety.noticeJson(notice) : safety.noticeLine(notice)) + '\n');
    }
  });
  // Printing is its whole job: it ends when its reader goes away.
  await untilStopped(seconds, outputGone);
  return EXIT.ok;
}

const isMain = process.argv[1] !== undefined && /strata(\.js|\.ts)?$/.test(process.argv[1]);
if (isMain) {
  // The process ends by itself once everything is written: process.exit() would drop what a
  // slow reader has not taken yet (a pipe holds only 64 KiB; the rest waits in the process).
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`strata: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
