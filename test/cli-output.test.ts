// What the CLI prints reaches whoever reads it, however slowly, and a reader that goes
// away stops it cleanly. The CLI runs as users run it: `strata` in its own process.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedHistory } from '../scripts/seed-history.ts';
import { Messenger } from '../src/core/messenger.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

const BIN = fileURLToPath(new URL('../bin/strata.js', import.meta.url));

/** A profile of alice holding `count` messages with bob, made without a relay. */
async function seededProfile(count: number): Promise<string> {
  const dir = tempDir();
  await Messenger.open({ profileDir: dir, relayUrl: 'ws://127.0.0.1:9/', user: 'alice' }).close();
  seedHistory({ profileDir: dir, peer: 'bob', count });
  return dir;
}

/**
 * Resolves once the profile's database has been opened and closed again (SQLite creates
 * the write-ahead log on opening and removes it when its last connection closes): the
 * command has done its work and has only its output left. Watch before starting the CLI.
 */
function profileOpenedAndClosed(dir: string): Promise<void> {
  const wal = join(dir, 'strata.db-wal');
  return new Promise((resolve) => {
    let opened = false;
    const watcher = watch(dir, () => {
      if (existsSync(wal)) opened = true;
      else if (opened) {
        watcher.close();
        resolve();
      }
    });
  });
}

function exitOf(proc: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

let relay: RelayProcess;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  await relay.stop();
});

describe('strata output', () => {
  it('history writes every line to a reader that starts only after the command is done', async () => {
    const dir = await seededProfile(2000);
    const done = profileOpenedAndClosed(dir);
    const proc = spawn(process.execPath, [BIN, '--profile', dir, 'history', 'bob', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = exitOf(proc);
    // Not a byte is read until the command is done (or the process is gone): the 1,000
    // lines (about 170 KB) are more than the pipe and the stream's buffer hold, so the CLI
    // must still be there, waiting to write the rest.
    await Promise.race([done, exited]);
    const lines: string[] = [];
    const reader = createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(l));
    const read = new Promise<void>((resolve) => reader.once('close', resolve));
    expect(await exited).toBe(0);
    await read;
    expect(stderr).toBe('');
    expect(lines).toHaveLength(1000);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ text: 'Message 2000 of 2000: bob to alice' });
  });

  it('listen stops cleanly, exit 0 and no stack trace, once its reader goes away', async () => {
    const [a, b] = [tempDir(), tempDir()];
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, '--relay', relay.url, ...args], { encoding: 'utf8' });
    expect(cli('--profile', a, 'login', 'alice').status).toBe(0);
    expect(cli('--profile', b, 'login', 'bob').status).toBe(0);
    const proc = spawn(process.execPath, [BIN, '--profile', b, '--relay', relay.url, 'listen']);
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = exitOf(proc);
    const reader = createInterface({ input: proc.stdout });
    const first = new Promise<string>((resolve) => reader.once('line', resolve));
    await relay.waitForLog(/hello bob\/\d+ .*\(strata\/0\.1\.0\)/, 2);
    expect(cli('--profile', a, 'send', 'bob', 'one').status).toBe(0);
    expect(await first).toMatch(/alice: one$/);
    reader.close();
    proc.stdout.destroy();
    // The next line has nowhere to go: the listener ends as `head` expects of a command.
    expect(cli('--profile', a, 'send', 'bob', 'two').status).toBe(0);
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
  });
});
