// Starts the real relay as a child process, the way users start it, and waits for it to
// say where it listens. Tests wait on its output and on frames, never on the clock.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RELAY_MAIN = fileURLToPath(new URL('../../relay/main.ts', import.meta.url));

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface RelayProcess {
  url: string;
  http: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the relay wrote to stderr (its log), line by line. */
  log: string[];
  /** Resolves with the `nth` (default first) log line matching `re`, seen or yet to come. */
  waitForLog(re: RegExp, nth?: number): Promise<string>;
  /** Stops the relay with `signal` and resolves when it has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  admin(patch: Record<string, unknown>): Promise<Record<string, unknown>>;
  stats(): Promise<Record<string, number | Record<string, number>>>;
}

export function tempDir(prefix = 'strata-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startRelay(
  args: string[] = [],
  opts: {
    dataDir?: string;
    port?: number;
    env?: Record<string, string>;
    /** null starts the relay with no admin token (the admin API refused). */
    adminToken?: string | null;
    /** A command that runs node elsewhere, such as `ip netns exec NS` (netns.ts). */
    launcher?: string[];
  } = {},
): Promise<RelayProcess> {
  const dataDir = opts.dataDir ?? tempDir('strata-relay-');
  const [command, ...prefix] = [...(opts.launcher ?? []), process.execPath];
  const proc = spawn(
    command!,
    [
      ...prefix,
      RELAY_MAIN,
      '--port',
      String(opts.port ?? 0),
      '--data-dir',
      dataDir,
      ...(opts.adminToken === null ? [] : ['--admin-token', opts.adminToken ?? ADMIN_TOKEN]),
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
  );
  const log: string[] = [];
  /** Checks re-run after every log line; each returns true once it is satisfied. */
  let waiters: (() => boolean)[] = [];
  let partial = '';
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      log.push(line);
      waiters = waiters.filter((check) => !check());
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /^listening (wss?:\/\/\S+)/m.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) =>
      reject(new Error(`relay exited (${code}) before listening:\n${log.join('\n')}`)),
    );
  });
  const port = Number(new URL(url).port);
  const http = `http://127.0.0.1:${port}`;
  return {
    url,
    http,
    port,
    dataDir,
    proc,
    log,
    waitForLog(re, nth = 1) {
      return new Promise((resolve) => {
        const check = () => {
          const seen = log.filter((l) => re.test(l));
          if (seen.length >= nth) resolve(seen[nth - 1]!);
          return seen.length >= nth;
        };
        if (!check()) waiters.push(check);
      });
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
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
    async stats() {
      return (await (await fetch(`${http}/api/stats`)).json()) as Record<
        string,
        number | Record<string, number>
      >;
    },
  };
}
