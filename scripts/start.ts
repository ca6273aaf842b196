// `npm start`. The desktop app (Electron, or the same UI in a browser where Electron cannot
// run) is built on the engine that the next milestones add; until then `npm start` runs the
// part of Strata that is complete, the relay, with the options given after `--`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const relayMain = fileURLToPath(new URL('../relay/main.ts', import.meta.url));
process.stderr.write(
  'Strata: starting the relay (the channel layer). The desktop app is not part of this\n' +
    'release yet; see README.md. Stop with Ctrl+C.\n',
);
const child = spawn(process.execPath, [relayMain, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
