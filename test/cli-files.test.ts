// `strata send-file` and `strata listen --downloads`, run as users run them: the CLI in its
// own process against the real relay. The terminal progress line and a transfer that fails
// mid-way are checked through main() with a stderr that says it is a terminal.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, progressLine } from '../src/cli/strata.ts';
import { Messenger } from '../src/core/messenger.ts';
import { identify } from '../src/core/files/source.ts';
import type { Transport } from '../src/core/transport/transport.ts';
import { encodeFileHeader } from '../src/shared/protocol/index.ts';
import { TestEngine } from './helpers/engine.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

const BIN = fileURLToPath(new URL('../bin/strata.js', import.meta.url));
const strata = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let relay: RelayProcess;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  await relay.stop();
});

function sourceFile(bytes: Uint8Array, name: string): string {
  const path = join(tempDir('strata-src-'), name);
  writeFileSync(path, bytes);
  return path;
}

/** `strata listen --json` as a child process, collecting its lines. */
function listener(profile: string, url: string, extra: string[], cwd?: string) {
  const proc = spawn(
    process.execPath,
    [BIN, '--profile', profile, '--relay', url, 'listen', '--json', '--for', '110', ...extra],
    cwd === undefined ? {} : { cwd },
  );
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: proc.stdout }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    lines,
    async until(n: number) {
      while (lines.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    async stop() {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** A stderr stand-in that says it is a terminal and keeps what is written. */
class FakeTerminal extends Writable {
  readonly isTTY = true;
  text = '';
  private readonly watchers: [RegExp, () => void][] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    for (const [re, fire] of this.watchers.splice(0)) {
      if (re.test(this.text)) fire();
      else this.watchers.push([re, fire]);
    }
    done();
  }
  /** Resolves once what was written matches `re`. */
  seen(re: RegExp): Promise<void> {
    if (re.test(this.text)) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push([re, resolve]));
  }
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('strata send-file and listen --downloads', () => {
  it('sends a file, the listener saves it in the folder given (relative to its cwd) and prints it', async () => {
    const a = tempDir();
    const b = tempDir();
    expect(strata('--profile', a, '--relay', relay.url, 'login', 'fanny').status).toBe(0);
    expect(strata('--profile', b, '--relay', relay.url, 'login', 'gus').status).toBe(0);
    // Fanny is gus's contact: her files download by themselves (a request's would wait).
    expect(strata('--profile', b, '--relay', relay.url, 'accept', 'fanny')).toMatchObject({
      status: 0,
      stdout: 'fanny: accepted\n',
    });
    const cwd = tempDir('strata-cwd-');
    const l = listener(b, relay.url, ['--downloads', 'incoming'], cwd);
    // The third: login, accept, then the listener.
    await relay.waitForLog(/hello gus\/\d+ .*\(strata\/0\.1\.0\)/, 3);

    const first = randomBytes(3 * 1024 * 1024 + 5);
    const second = randomBytes(200_000);
    const sent = strata(
      '--profile',
      a,
      '--relay',
      relay.url,
      'send-file',
      'gus',
      sourceFile(first, 'notes 1.pdf'),
    );
    expect(sent.stderr).toBe(''); // not a terminal: no progress line
    expect(sent.status).toBe(0);
    expect(sent.stdout).toMatch(/^fanny\/\d+\/\d+ (sent|delivered)$/m);
    // A relative path is read relative to the working directory.
    const srcDir = tempDir('strata-src-');
    writeFileSync(join(srcDir, 'photo.jpg'), second);
    const waited = spawnSync(
      process.execPath,
      [
        BIN,
        '--profile',
        a,
        '--relay',
        relay.url,
        'send-file',
        'gus',
        'photo.jpg',
        '--wait',
        'delivered',
      ],
      { encoding: 'utf8', timeout: 60_000, cwd: srcDir },
    );
    expect(waited.status).toBe(0);
    expect(waited.stdout).toMatch(/^fanny\/\d+\/\d+ (delivered|read)$/m);

    await l.until(2);
    await l.stop();
    const folder = join(cwd, 'incoming');
    expect(l.lines).toEqual([
      {
        type: 'file',
        id: sent.stdout.trim().split(' ')[0],
        from: 'fanny',
        name: 'notes 1.pdf',
        path: join(folder, 'notes 1.pdf'),
        size: first.length,
        sha256: sha256(first),
        error: false,
      },
      expect.objectContaining({
        type: 'file',
        name: 'photo.jpg',
        path: join(folder, 'photo.jpg'),
        size: second.length,
        sha256: sha256(second),
        error: false,
      }),
    ]);
    expect(readFileSync(join(folder, 'notes 1.pdf')).equals(first)).toBe(true);
    expect(readFileSync(join(folder, 'photo.jpg')).equals(second)).toBe(true);
    // The folder is saved in the profile, as an absolute path.
    const m = Messenger.open({ profileDir: b, relayUrl: 'ws://127.0.0.1:9' });
    expect(m.fileSettings.downloadsDir).toBe(folder);
    await m.close();
    // history shows file messages readably.
    expect(strata('--profile', b, 'history', 'fanny').stdout).toMatch(
      /fanny: file "notes 1\.pdf" \(3\.0 MiB\) saved to .*incoming\/notes 1\.pdf/,
    );
  });

  it('prints a file that fails verification with error true and the reason', async () => {
    const b = tempDir();
    expect(strata('--profile', b, '--relay', relay.url, 'login', 'hank').status).toBe(0);
    expect(strata('--profile', b, '--relay', relay.url, 'accept', 'ida').status).toBe(0);
    const l = listener(b, relay.url, ['--downloads', tempDir('strata-dl-')]);
    await relay.waitForLog(/hello hank\/\d+ .*\(strata\/0\.1\.0\)/, 3);
    const ida = TestEngine.start(relay.url, 'ida');
    await ida.online();
    // A header whose SHA-256 does not match the bytes, as a broken or hostile sender writes.
    const bytes = randomBytes(5000);
    const path = sourceFile(bytes, 'claims.txt');
    const header = encodeFileHeader({
      name: 'claims.txt',
      size: bytes.length,
      type: 'text/plain',
      sha256: sha256(randomBytes(10)),
    });
    const { transport, e2e } = ida.m as unknown as {
      transport: Transport;
      e2e: { kick(): void };
    };
    transport.accept('hank', Date.now() * 1024, header, {
      path,
      identity: identify(path),
      chunk: 1000,
    });
    e2e.kick();
    await l.until(1);
    await l.stop();
    await ida.close();
    expect(l.lines[0]).toMatchObject({
      type: 'file',
      from: 'ida',
      name: 'claims.txt',
      path: null,
      error: true,
      reason: expect.stringMatching(/SHA-256/i),
    });
  });

  it('shows progress on a terminal, and exits 4 when the file fails mid-way', async () => {
    const slow = await startRelay(['--rate', '4000000']);
    try {
      const a = tempDir();
      const b = tempDir();
      expect(strata('--profile', a, '--relay', slow.url, 'login', 'jack').status).toBe(0);
      expect(strata('--profile', b, '--relay', slow.url, 'login', 'kate').status).toBe(0);
      expect(strata('--profile', b, '--relay', slow.url, 'accept', 'jack').status).toBe(0);
      const l = listener(b, slow.url, ['--downloads', tempDir('strata-dl-')]);
      await slow.waitForLog(/hello kate\/\d+ .*\(strata\/0\.1\.0\)/, 3);
      const path = sourceFile(randomBytes(24 * 1024 * 1024), 'growing.log');
      const out = new Collect();
      const err = new FakeTerminal();
      const code = main(
        ['--profile', a, '--relay', slow.url, 'send-file', 'kate', path, '--timeout', '60'],
        out as unknown as typeof process.stdout,
        err as unknown as typeof process.stderr,
      );
      // One line rewritten in place: percentage, bytes, speed and time left.
      await err.seen(
        /\[2Kgrowing\.log {2}\d+% {2}[\d.]+ [KM]iB of 24\.0 MiB {2}[\d.]+ \w+\/s {2}ETA \d+:\d\d/,
      );
      expect(err.text).toContain('\r\x1b[2K');
      appendFileSync(path, 'a line more');
      expect(await code).toBe(4);
      await l.stop();
      expect(err.text).toMatch(/the file to kate failed: .*changed while it was being sent/);
      expect(err.text.split('\n')).toHaveLength(3); // the progress line, the error, the end
      expect(out.text).toBe('');
    } finally {
      await slow.stop();
    }
  });

  // send-file exits once the relay holds the whole file, whether or not the peer is online.
  it('exits 0 once the relay holds the whole file while the peer is offline', async () => {
    const a = tempDir();
    const b = tempDir();
    expect(strata('--profile', b, '--relay', relay.url, 'login', 'olga').status).toBe(0);
    expect(strata('--profile', a, '--relay', relay.url, 'login', 'paul').status).toBe(0);
    const bytes = randomBytes(4 * 1024 * 1024);
    const sent = strata(
      ...['--profile', a, '--relay', relay.url, 'send-file', 'olga'],
      ...[sourceFile(bytes, 'while away.bin'), '--timeout', '15'],
    );
    expect(sent.stderr).toBe('');
    expect(sent).toMatchObject({ status: 0, stdout: expect.stringMatching(/ sent$/m) });
  });

  it('formats the progress line', () => {
    expect(progressLine('a.bin', 512 * 1024 ** 2, 1024 ** 3, 32 * 1024 ** 2)).toBe(
      'a.bin  50%  512.0 MiB of 1.0 GiB  32.0 MiB/s  ETA 0:16',
    );
    expect(progressLine('a.bin', 0, 10 * 1024 ** 3, 1024 ** 2)).toMatch(/ETA 2:50:40$/);
    expect(progressLine('a.bin', 0, 100, null)).toBe('a.bin  0%  0 B of 100 B');
  });

  it('refuses a missing file, a folder, a file over the limit and --downloads elsewhere (exit 2)', async () => {
    const p = tempDir();
    expect(strata('--profile', p, '--relay', relay.url, 'login', 'lena').status).toBe(0);
    const send = (path: string) =>
      strata('--profile', p, '--relay', relay.url, 'send-file', 'fanny', path);
    expect(send('/nonexistent/x.bin')).toMatchObject({
      status: 2,
      stderr: 'strata: no such file: /nonexistent/x.bin\n',
    });
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    expect(send(join(dir, 'sub'))).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/sub is not a file/),
    });
    const m = Messenger.open({ profileDir: p, relayUrl: 'ws://127.0.0.1:9' });
    m.updateFileSettings({ maxFileBytes: 1000 });
    await m.close();
    expect(send(sourceFile(randomBytes(1001), 'big.bin'))).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/big\.bin is 1001 bytes, over the limit of 1000 bytes/),
    });
    expect(strata('--profile', p, '--relay', relay.url, 'send-file', 'fanny')).toMatchObject({
      status: 2,
    });
    expect(
      strata('--profile', p, '--relay', relay.url, 'send', 'fanny', 'x', '--downloads', '/tmp'),
    ).toMatchObject({ status: 2, stderr: expect.stringMatching(/--downloads goes with listen/) });
    expect(strata('--help').stdout).toMatch(/send-file USER PATH[\s\S]*--downloads DIR/);
  });
});
