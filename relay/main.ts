// `npm run relay -- [options]`: starts the relay and prints where it listens.
import { networkInterfaces } from 'node:os';
import { createLogger } from './log.ts';
import { OptionsError, helpText, parseOptions } from './options.ts';
import { Relay } from './relay.ts';

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
  let relay: Relay;
  try {
    relay = new Relay(options, log);
  } catch (e) {
    process.stderr.write(
      `relay: cannot open the data directory ${options.dataDir}: ${(e as Error).message}\n`,
    );
    exitWhenWritten(1);
    return;
  }

  try {
    const address = await relay.listen();
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    // The first line on stdout is for scripts and tests: the WebSocket URL.
    process.stdout.write(`listening ws://${shown}:${address.port}/\n`);
    if (options.host === '0.0.0.0' || options.host === '::') {
      for (const list of Object.values(networkInterfaces())) {
        for (const a of list ?? []) {
          if (!a.internal && a.family === 'IPv4')
            process.stdout.write(`  on your network: ws://${a.address}:${address.port}/\n`);
        }
      }
    }
    const c = options.channel;
    log.info(
      `relay ready: data in ${options.dataDir}; admin API ${options.adminToken ? 'on' : 'off (no --admin-token)'}; ` +
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
