// `npm run relay -- [options]`: starts the relay and prints where it listens.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createLogger } from './log.ts';
import { OptionsError, helpText, parseOptions } from './options.ts';
import { Relay } from './relay.ts';
import { TlsSetupError } from './tls-cert.ts';

/** The bytes of a generated admin token: 128 bits. */
const ADMIN_TOKEN_BYTES = 16;

/** `host:port` as a URL writes it (an IPv6 address in brackets). */
function hostPort(a: AddressInfo): string {
  return `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}

/** The addresses other machines reach a relay bound to every interface (0.0.0.0 or ::) on. */
function networkAddresses(bound: string): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') out.push(a.address);
      else if (bound === '::' && !a.address.startsWith('fe80:')) out.push(`[${a.address}]`);
    }
  }
  return out;
}

/**
 * Ends the process with `code` once stdout and stderr have taken everything written before:
 * process.exit() alone drops what a slow reader of a pipe has not read yet, and a stopped
 * relay must end even if some handle outlives it.
 */
function exitWhenWritten(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseOptions(process.argv.slice(2), process.env);
  } catch (e) {
    if (!(e instanceof OptionsError)) throw e;
    process.stderr.write(`relay: ${e.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (parsed.help) {
    process.stdout.write(helpText() + '\n');
    return;
  }

  const options = parsed.options;
  const log = createLogger(options.logLevel);
  const tokenGenerated = options.adminToken === null;
  options.adminToken ??= randomBytes(ADMIN_TOKEN_BYTES).toString('hex');
  let relay: Relay;
  try {
    relay = new Relay(options, log);
  } catch (e) {
    if (e instanceof TlsSetupError) {
      process.stderr.write(`relay: ${e.message}\n`);
      exitWhenWritten(2);
      return;
    }
    process.stderr.write(
      `relay: cannot open the data directory ${options.dataDir}: ${(e as Error).message}\n`,
    );
    exitWhenWritten(1);
    return;
  }

  try {
    const address = await relay.listen();
    const tls = relay.tls;
    // Clients pin the certificate by the fingerprint in the URL's fragment.
    const url = (at: string) => (tls ? `wss://${at}/#sha256=${tls.fingerprint}` : `ws://${at}/`);
    // The first line on stdout is for scripts and tests: the WebSocket URL.
    process.stdout.write(`listening ${url(hostPort(address))}\n`);
    if (options.host === '0.0.0.0' || options.host === '::') {
      for (const a of networkAddresses(options.host))
        process.stdout.write(`  on your network: ${url(`${a}:${address.port}`)}\n`);
    }
    if (tls) {
      const source = tls.selfSigned
        ? `self-signed, ${tls.created ? 'made now' : 'kept'} in ${options.dataDir}`
        : options.tlsCert;
      process.stdout.write(`certificate sha256 ${tls.fingerprint} (${source})\n`);
    }
    if (tokenGenerated)
      process.stdout.write(
        `admin token: ${options.adminToken} (made for this run; --admin-token sets one)\n`,
      );
    // Last: whoever reads the start-up (tests, npm start) knows it is complete after it.
    const admin = relay.adminAddressInfo;
    const scheme = tls ? 'https' : 'http';
    process.stdout.write(
      `admin API (/metrics, /api/stats, /api/channel): ${scheme}://${hostPort(admin ?? address)}/` +
        `${admin ? '' : ' (the main port)'}\n`,
    );
    if (!tls && options.insecure)
      log.warn(
        `plain ws:// and http:// on ${options.host} (--insecure): anyone on the path can read ` +
          'and change the traffic, and the admin token',
      );
    const c = options.channel;
    log.info(
      `relay ready: data in ${options.dataDir}; ` +
        `channel loss=${c.loss} ber=${c.ber} code=${c.code} delay=${c.delayMs}ms seed=${c.seed}`,
    );
  } catch (e) {
    process.stderr.write(
      `relay: cannot listen on ${options.host}:${options.port}: ${(e as Error).message}\n`,
    );
    await relay.close();
    exitWhenWritten(1);
    return;
  }

  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: shutting down`);
      relay.close().then(
        () => exitWhenWritten(0),
        (err: unknown) => {
          log.error(`shutdown: ${String(err)}`);
          exitWhenWritten(1);
        },
      );
    });
  }
}

await main();
