// `npm start`: a relay on this machine and two app instances, Alice and Bob, logged in and side
// by side. Electron windows where Electron can run; otherwise the same UI served by two
// browser hosts, whose addresses it prints. What to launch is decided in start-plan.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  BROWSER_LINE,
  FALLBACK_LINE,
  HELP,
  PREFERRED_RELAY_PORT,
  StartUsageError,
  electronBinary,
  launchPlan,
  parseStartArgs,
  type ChildSpec,
} from './start-plan.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string) => process.stdout.write(`${line}\n`);

interface Running {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}
const running: Running[] = [];
let stopping = false;

function track(name: string, child: ChildProcess): Running {
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const entry = { name, child, exited };
  running.push(entry);
  child.once('exit', (code, signal) => {
    if (stopping) return;
    const how = signal === null ? `exited (code ${code})` : `was stopped (${signal})`;
    say(`${name} ${how}; stopping the rest.`);
    void stopAll(code === 0 ? 0 : 1);
  });
  return entry;
}

/** Stops every process started; this one then ends by itself, once its output is written. */
async function stopAll(exitCode: number): Promise<void> {
  stopping = true;
  process.exitCode = exitCode;
  for (const { child } of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
  await Promise.all(running.map((r) => r.exited));
}

/** Resolves with the first line `child` writes to stdout; rejects if it exits first. */
function firstLine(name: string, child: ChildProcess): Promise<string> {
  return new Promise((resolveLine, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      lines.close();
      resolveLine(line);
    });
    child.once('exit', (code) =>
      reject(new Error(`${name} exited (code ${code}) before starting`)),
    );
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((answer) => {
    const probe = createServer();
    probe.once('error', () => answer(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => answer(true)));
  });
}

async function startRelay(dataDir: string): Promise<string> {
  const port = (await portIsFree(PREFERRED_RELAY_PORT)) ? PREFERRED_RELAY_PORT : 0;
  const relayDir = join(dataDir, 'relay');
  mkdirSync(relayDir, { recursive: true });
  const token = randomBytes(16).toString('hex');
  const logFile = join(dataDir, 'relay.log');
  const child = spawn(
    process.execPath,
    [
      join(root, 'relay/main.ts'),
      '--port',
      String(port),
      '--data-dir',
      relayDir,
      '--admin-token',
      token,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stderr!.pipe(createWriteStream(logFile, { flags: 'a' }));
  track('The relay', child);
  const line = await firstLine('The relay', child);
  const url = /^listening (ws:\/\/\S+)/.exec(line)?.[1];
  if (url === undefined) throw new Error(`the relay said "${line}"; its log is in ${logFile}`);
  say(`Relay: ${url} (data in ${relayDir}, log in ${logFile})`);
  say(`Relay admin token: ${token}`);
  return url;
}

/** The built app (out/), which both Electron and the browser hosts load. */
function ensureBuilt(): void {
  const built = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
  if (built.every((f) => existsSync(join(root, f)))) return;
  say('Building the app (electron-vite build)...');
  const result = spawnSync(
    process.execPath,
    [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (result.status !== 0) throw new Error('the build failed (see above)');
}

/** Starts one instance; resolves with the line that tells the user where it is. */
async function launch(spec: ChildSpec): Promise<string> {
  const child = spawn(spec.command, spec.args, {
    cwd: root,
    stdio: ['ignore', spec.printsUrl ? 'pipe' : 'inherit', 'inherit'],
  });
  track(spec.name, child);
  const files = `received files in ${spec.downloads}`;
  if (!spec.printsUrl) return `${spec.name}: Electron window (profile ${spec.args[2]}; ${files})`;
  const url = await firstLine(spec.name, child);
  // Keep reading, so that a full pipe never blocks the host.
  child.stdout!.resume();
  return `${spec.name}: ${url} (${files})`;
}

async function main(): Promise<void> {
  let options;
  try {
    options = parseStartArgs(process.argv.slice(2), join(root, '.strata'));
  } catch (e) {
    if (!(e instanceof StartUsageError)) throw e;
    process.stderr.write(`start: ${e.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    say(HELP);
    return;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (!stopping) void stopAll(0);
    });
  }
  const dataDir = resolve(options.dataDir);
  ensureBuilt();
  const relayUrl = options.relayUrl ?? (await startRelay(dataDir));
  const electron = options.browser
    ? null
    : electronBinary(join(root, 'node_modules/electron'), {
        readText: (path) => (existsSync(path) ? readFileSync(path, 'utf8') : null),
        exists: existsSync,
      });
  if (electron === null) say(options.browser ? BROWSER_LINE : FALLBACK_LINE);
  const plan = launchPlan({ relayUrl, electron, nodePath: process.execPath, root, dataDir });
  for (const line of await Promise.all(plan.map(launch))) say(line);
  say('Stop everything with Ctrl+C.');
}

main().catch((e: unknown) => {
  process.stderr.write(`start: ${(e as Error).message}\n`);
  void stopAll(1);
});
