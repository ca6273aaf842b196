// Starts the real relay as a child process, the way users start it, and waits for it to
// say where it listens. Tests wait on its output and on frames, never on the clock.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { relayRequest } from '../../src/core/host/relay-admin.ts';

const RELAY_MAIN = fileURLToPath(new URL('../../relay/main.ts', import.meta.url));

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface RelayProcess {
  /** The first URL it printed: ws://, or wss:// with its #sha256= pin. */
  url: string;
  /** Its admin API (/metrics, /api/stats, /api/channel): http:// or https://, no final /. */
  http: string;
  /** The SHA-256 of its TLS certificate; null for plain ws://. */
  fingerprint: string | null;
  /** What it printed on stdout, line by line (the URL, its certificate, its admin API). */
  out: string[];
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
  const out: string[] = [];
  // The URL first, then where the admin API is: that line ends the start-up.
  const [url, adminBase] = await new Promise<[string, string]>((resolve, reject) => {
    let printed = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      printed += chunk;
      out.splice(0, out.length, ...printed.split('\n').filter((l) => l !== ''));
      const m = /^listening (wss?:\/\/\S+)/m.exec(printed);
      const admin = /^admin API \(.*\): (https?:\/\/\S+?)\/?( |$)/m.exec(printed);
      if (m && admin) resolve([m[1]!, admin[1]!]);
    });
    void exited.then((code) =>
      reject(new Error(`relay exited (${code}) before listening:\n${log.join('\n')}`)),
    );
  });
  const port = Number(new URL(url).port);
  const fingerprint = /#sha256=([0-9a-f]{64})$/.exec(url)?.[1] ?? null;
  const http = adminBase;
  return {
    url,
    http,
    fingerprint,
    out,
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
      const res = await relayRequest(new URL('/api/channel', http), fingerprint, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(patch),
        timeoutMs: 30_000,
      });
      const body = res.body as Record<string, unknown>;
      if (res.status !== 200)
        throw new Error(`PUT /api/channel ${res.status}: ${JSON.stringify(body)}`);
      return body;
    },
    async stats() {
      const res = await relayRequest(new URL('/api/stats', http), fingerprint, {
        timeoutMs: 30_000,
      });
      return res.body as Record<string, number | Record<string, number>>;
    },
  };
}
