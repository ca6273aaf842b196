// `npm run relay -- [options]`: starts the relay and prints where it listens.
import { networkInterfaces } from 'node:os';
import { createLogger } from './log.ts';
import { OptionsError, helpText, parseOptions } from './options.ts';
import { Relay } from './relay.ts';

let parsed;
try {
  parsed = parseOptions(process.argv.slice(2), process.env);
} catch (e) {
  if (!(e instanceof OptionsError)) throw e;
  process.stderr.write(`relay: ${e.message}\n`);
  process.exit(2);
}
if (parsed.help) {
  process.stdout.write(helpText() + '\n');
  process.exit(0);
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
  process.exit(1);
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
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down`);
    relay.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error(`shutdown: ${String(err)}`);
        process.exit(1);
      },
    );
  });
}
