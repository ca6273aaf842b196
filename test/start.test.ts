// `npm start` as a user runs it: the real script, the real relay and the real browser hosts
// (Electron cannot run on the machines that run the tests, so it takes the browser-host path:
// by itself where Electron is missing, with --browser where it is installed). The test waits on
// the lines the script prints, never on the clock.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BROWSER_LINE,
  FALLBACK_LINE,
  StartUsageError,
  electronBinary,
  launchPlan,
  parseStartArgs,
} from '../scripts/start-plan.ts';
import { Messenger } from '../src/core/messenger.ts';
import { tempDir } from './helpers/relay-process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('parseStartArgs', () => {
  it('defaults to a local relay, Electron if possible, data in the given directory', () => {
    expect(parseStartArgs([], '/repo/.strata')).toEqual({
      browser: false,
      dataDir: '/repo/.strata',
      help: false,
    });
  });

  it('reads --relay, --browser, --data and --help', () => {
    expect(
      parseStartArgs(
        ['--relay', 'ws://10.0.0.2:7000/', '--browser', '--data', '/d', '--help'],
        '/x',
      ),
    ).toEqual({ relayUrl: 'ws://10.0.0.2:7000/', browser: true, dataDir: '/d', help: true });
  });

  it.each([
    [['--relay', 'http://10.0.0.2/'], '--relay must be a ws:// or wss:// address'],
    [['--relay'], '--relay needs a value'],
    [['--data', '--browser'], '--data needs a value'],
    [['--electron'], 'unknown option --electron'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseStartArgs(argv, '/x')).toThrow(StartUsageError);
    expect(() => parseStartArgs(argv, '/x')).toThrow(message);
  });
});

describe('electronBinary', () => {
  const files = (map: Record<string, string | true>) => ({
    readText: (p: string) => {
      const v = map[p];
      return typeof v === 'string' ? v : null;
    },
    exists: (p: string) => p in map,
  });

  it('is the binary named by path.txt when it is there', () => {
    const fs = files({ '/e/path.txt': 'electron\n', '/e/dist/electron': true });
    expect(electronBinary('/e', fs)).toBe('/e/dist/electron');
  });

  it('is null without path.txt (the postinstall never ran) or without the binary', () => {
    expect(electronBinary('/e', files({}))).toBeNull();
    expect(electronBinary('/e', files({ '/e/path.txt': 'electron' }))).toBeNull();
    expect(electronBinary('/e', files({ '/e/path.txt': '' }))).toBeNull();
  });
});

describe('launchPlan', () => {
  const base = {
    relayUrl: 'ws://127.0.0.1:7000/',
    nodePath: '/node',
    root: '/repo',
    dataDir: '/d',
  };

  it('starts two Electron instances, one profile each, side by side', () => {
    const plan = launchPlan({ ...base, electron: '/e/electron' });
    expect(plan.map((c) => [c.name, c.command, c.args.join(' '), c.printsUrl])).toEqual([
      [
        'Alice',
        '/e/electron',
        '/repo --profile alice --user alice --relay ws://127.0.0.1:7000/ --position left --downloads /d/downloads/alice',
        false,
      ],
      [
        'Bob',
        '/e/electron',
        '/repo --profile bob --user bob --relay ws://127.0.0.1:7000/ --position right --downloads /d/downloads/bob',
        false,
      ],
    ]);
  });

  it('gives Alice and Bob each their own folder for received files', () => {
    for (const electron of ['/e/electron', null]) {
      const [alice, bob] = launchPlan({ ...base, electron });
      expect([alice!.downloads, bob!.downloads]).toEqual([
        '/d/downloads/alice',
        '/d/downloads/bob',
      ]);
    }
  });

  it('starts two browser hosts without Electron, their profiles under the data directory', () => {
    const plan = launchPlan({ ...base, electron: null });
    expect(plan.map((c) => [c.name, c.command, c.args.join(' '), c.printsUrl])).toEqual([
      [
        'Alice',
        '/node',
        '/repo/src/cli/strata.ts web --profile /d/profiles/alice --relay ws://127.0.0.1:7000/ --user alice --downloads /d/downloads/alice',
        true,
      ],
      [
        'Bob',
        '/node',
        '/repo/src/cli/strata.ts web --profile /d/profiles/bob --relay ws://127.0.0.1:7000/ --user bob --downloads /d/downloads/bob',
        true,
      ],
    ]);
  });
});

/** `npm start` as a child, with its stdout as lines one can wait for. */
function startScript(args: string[], root = ROOT) {
  const proc = spawn(process.execPath, [join(root, 'scripts/start.ts'), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let waiters: (() => boolean)[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    lines.push(line);
    waiters = waiters.filter((check) => !check());
  });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  return {
    proc,
    lines,
    exited,
    stderr: () => stderr,
    /** Resolves with the first line matching `re`, printed or yet to come. */
    waitFor(re: RegExp): Promise<string> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find((l) => re.test(l));
          if (line !== undefined) resolve(line);
          return line !== undefined;
        };
        if (!check()) waiters.push(check);
        void exited.then((code) =>
          reject(
            new Error(
              `start exited (${code}) before printing ${re}:\n${lines.join('\n')}\n${stderr}`,
            ),
          ),
        );
      });
    },
  };
}

/** The processes `pid` started, with their command lines (Linux /proc, as on CI). */
function childrenOf(pid: number): { pid: number; args: string }[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [, p, args] = /^\s*(\d+)\s+(.*)$/.exec(l)!;
      return { pid: Number(p), args: args! };
    });
}

const electronHere =
  electronBinary(join(ROOT, 'node_modules/electron'), {
    readText: (p) => (existsSync(p) ? readFileSync(p, 'utf8') : null),
    exists: existsSync,
  }) !== null;

describe('npm start', () => {
  let script: ReturnType<typeof startScript> | null = null;
  afterEach(async () => {
    if (script && script.proc.exitCode === null) {
      script.proc.kill('SIGTERM');
      await script.exited;
    }
    script = null;
  });

  it('starts a relay and Alice and Bob as browser hosts that answer only with their token', async () => {
    const data = tempDir('strata-start-');
    script = startScript(['--data', data, ...(electronHere ? ['--browser'] : [])]);
    await script.waitFor(/^Relay: ws:\/\//);
    expect(await script.waitFor(/browser-host mode/)).toBe(
      electronHere ? BROWSER_LINE : FALLBACK_LINE,
    );
    const [, alice, aliceFiles] = /^Alice: (\S+) \(received files in (.+)\)$/.exec(
      await script.waitFor(/^Alice: /),
    )!;
    const [, bob, bobFiles] = /^Bob: (\S+) \(received files in (.+)\)$/.exec(
      await script.waitFor(/^Bob: /),
    )!;
    await script.waitFor(/^Stop everything with Ctrl\+C\.$/);

    for (const url of [alice!, bob!]) {
      const page = new URL(url);
      expect(page.hostname).toBe('127.0.0.1');
      expect(page.searchParams.get('token')).toMatch(/^\S{16,}$/);
      const withToken = await fetch(url);
      expect(withToken.status).toBe(200);
      expect(await withToken.text()).toContain('<div id="root">');
      const without = await fetch(`${page.origin}/`);
      expect([401, 403]).toContain(without.status);
    }
    expect(new URL(alice!).port).not.toBe(new URL(bob!).port);

    // Ctrl+C (SIGTERM alike) stops the script and every process it started.
    const children = childrenOf(script.proc.pid!);
    expect(children).toHaveLength(3);
    script.proc.kill('SIGTERM');
    expect(await script.exited).toBe(0);
    for (const { pid } of children) expect(() => process.kill(pid, 0)).toThrow();
    await expect(fetch(alice!)).rejects.toThrow();

    // Each saves what it receives in its own folder, the one it printed.
    expect([aliceFiles, bobFiles]).toEqual([
      join(data, 'downloads', 'alice'),
      join(data, 'downloads', 'bob'),
    ]);
    for (const [user, folder] of [
      ['alice', aliceFiles],
      ['bob', bobFiles],
    ] as const) {
      const m = Messenger.open({ profileDir: join(data, 'profiles', user), relayUrl: '' });
      expect(m.fileSettings.downloadsDir).toBe(folder);
      await m.close();
    }
  });

  it('says which instance died, and stops the rest', async () => {
    script = startScript(['--data', tempDir('strata-start-'), '--browser']);
    await script.waitFor(/^Stop everything with Ctrl\+C\.$/);
    const children = childrenOf(script.proc.pid!);
    const bob = children.find((c) => c.args.includes(join('profiles', 'bob')));
    expect(bob, JSON.stringify(children)).toBeDefined();
    process.kill(bob!.pid, 'SIGKILL');
    expect(await script.waitFor(/^Bob /)).toBe('Bob was stopped (SIGKILL); stopping the rest.');
    expect(await script.exited).toBe(1);
    for (const { pid } of children) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('runs npm start, stops it, and then the lint passes and git status stays clean', async () => {
    const clone = freshClone();
    const pkg = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe('node scripts/start.ts');
    const started = (script = startScript(electronHere ? ['--browser'] : [], clone));
    await started.waitFor(/^Stop everything with Ctrl\+C\.$/);
    expect(existsSync(join(clone, '.strata/profiles/alice/host.json'))).toBe(true);
    started.proc.kill('SIGTERM');
    expect(await started.exited).toBe(0);

    // The whole lint, as `npm test` runs it first (a slow step: tens of seconds).
    const lint = spawnSync('npm', ['run', 'lint'], { cwd: clone, encoding: 'utf8' });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    const status = execFileSync('git', ['status', '--porcelain'], { cwd: clone, encoding: 'utf8' });
    expect(status).toBe('');
  }, 300_000);
});

/**
 * A copy of the working tree as a newcomer's fresh clone would have it: every file git does
 * not ignore, committed, with the installed node_modules and the built app (both ignored).
 */
function freshClone(): string {
  const dir = tempDir('strata-clone-');
  const files = execFileSync('git', ['ls-files', '-z', '-co', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f !== '' && !f.startsWith('.strata/') && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(ROOT, f), join(dir, f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (existsSync(join(ROOT, 'out')))
    cpSync(join(ROOT, 'out'), join(dir, 'out'), { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'clone');
  return dir;
}
