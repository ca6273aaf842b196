// The processes an end-to-end run is made of, started the way users start them: a relay
// (`node relay/main.ts`) and browser hosts (`node src/cli/strata.ts web`). Each says where it
// listens on its first line of stdout; everything else it writes is kept as its log.
// Shared by the Playwright fixtures, the UI benchmark and the screenshot script.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RELAY_MAIN = join(ROOT, 'relay/main.ts');
const STRATA_CLI = join(ROOT, 'src/cli/strata.ts');

/** How long a process may take to print its address, and to exit after SIGTERM. */
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Child {
  proc: ChildProcess;
  /** The first line of stdout. */
  first: string;
  /** Everything else the process wrote, stdout and stderr, line by line. */
  log: string[];
  /** SIGTERM, then SIGKILL if it has not exited in time; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Spawns `node args...` and resolves once its first stdout line matches `ready`. */
export function spawnNode(
  args: string[],
  ready: RegExp,
  name: string,
  env: Record<string, string> = {},
): Promise<Child> {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1', ...env },
  });
  const log: string[] = [];
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  let partialErr = '';
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    partialErr += chunk;
    const lines = partialErr.split('\n');
    partialErr = lines.pop()!;
    log.push(...lines);
  });
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS);
    });
    if ((await Promise.race([exited, late])) === 'late') {
      log.push(`[${name} did not exit ${STOP_TIMEOUT_MS} ms after SIGTERM: killed]`);
      proc.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  };
  return new Promise<Child>((resolve, reject) => {
    let out = '';
    let started = false;
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${name} printed no address in ${START_TIMEOUT_MS} ms:\n${log.join('\n')}`));
    }, START_TIMEOUT_MS);
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (started) {
        const lines = out.split('\n');
        out = lines.pop()!;
        log.push(...lines);
        return;
      }
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      const first = out.slice(0, nl).trim();
      const rest = out.slice(nl + 1).split('\n');
      out = rest.pop()!;
      log.push(...rest);
      started = true;
      clearTimeout(timer);
      if (!ready.test(first)) {
        void stop();
        reject(new Error(`${name} said "${first}" instead of its address:\n${log.join('\n')}`));
        return;
      }
      resolve({ proc, first, log, stop });
    });
    void exited.then(() => {
      if (started) return;
      clearTimeout(timer);
      reject(new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}):\n${log.join('\n')}`));
    });
  });
}

export interface RelayProcess {
  /** ws://127.0.0.1:PORT/ */
  url: string;
  /** http://127.0.0.1:PORT */
  http: string;
  adminToken: string;
  log: string[];
  /** PUT /api/channel with the admin token; returns the relay's description of the channel. */
  admin(patch: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** GET /api/channel: the channel's settings now. */
  channel(): Promise<Record<string, unknown>>;
  /** GET /api/stats: the relay's counters by metric name. */
  stats(): Promise<Record<string, number | Record<string, number>>>;
  stop(): Promise<void>;
}

/** Starts a relay on a fresh data directory, which stop() removes. */
export async function startRelay(extraArgs: string[] = []): Promise<RelayProcess> {
  const dataDir = tempDir('strata-e2e-relay-');
  const child = await spawnNode(
    [
      RELAY_MAIN,
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--admin-token',
      ADMIN_TOKEN,
      '--summary-interval',
      '0',
      ...extraArgs,
    ],
    /^listening ws:\/\//,
    'relay',
  );
  const url = /^listening (ws:\/\/\S+)/.exec(child.first)![1]!;
  const http = `http://127.0.0.1:${new URL(url).port}`;
  return {
    url,
    http,
    adminToken: ADMIN_TOKEN,
    log: child.log,
    async admin(patch) {
      const res = await fetch(`${http}/api/channel`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(patch),
      });
      const body = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`PUT /api/channel ${res.status}: ${JSON.stringify(body)}`);
      return body;
    },
    async channel() {
      const res = await fetch(`${http}/api/channel`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const body = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`GET /api/channel ${res.status}: ${JSON.stringify(body)}`);
      return body;
    },
    async stats() {
      const res = await fetch(`${http}/api/stats`);
      return (await res.json()) as Record<string, number | Record<string, number>>;
    },
    async stop() {
      await child.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A metric from RelayProcess.stats(), summed over its labels. */
export function metric(stats: Record<string, number | Record<string, number>>, name: string) {
  const v = stats[name];
  if (v === undefined) throw new Error(`the relay has no metric ${name}`);
  return typeof v === 'number' ? v : Object.values(v).reduce((a, b) => a + b, 0);
}

export interface WebHost {
  /** The page to open: http://127.0.0.1:PORT/?token=T */
  url: string;
  profileDir: string;
  log: string[];
  stop(): Promise<void>;
}

/**
 * Starts a browser host on `profileDir`. With `user` (and `relayUrl`) it logs in at start and
 * the page opens on the chat; without, the page opens on the login form. `downloads` is its
 * downloads folder (`--downloads`: a page cannot change it).
 */
export async function startWebHost(
  profileDir: string,
  opts: { relayUrl?: string; user?: string; downloads?: string } = {},
): Promise<WebHost> {
  const args = [STRATA_CLI, 'web', '--profile', profileDir];
  if (opts.relayUrl !== undefined) args.push('--relay', opts.relayUrl);
  if (opts.user !== undefined) args.push('--user', opts.user);
  if (opts.downloads !== undefined) args.push('--downloads', opts.downloads);
  // A home of its own, so that received files land in the test's folders, never in the
  // real ~/Downloads of whoever runs the tests.
  const home = `${profileDir}.home`;
  const child = await spawnNode(args, /^http:\/\/127\.0\.0\.1:\d+\//, `web host ${profileDir}`, {
    HOME: home,
    XDG_CONFIG_HOME: `${home}/.config`,
  });
  return { url: child.first, profileDir, log: child.log, stop: child.stop };
}
