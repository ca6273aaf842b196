// The command-line client, run as users run it: `strata` in its own process.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

const BIN = fileURLToPath(new URL('../bin/strata.js', import.meta.url));
const strata = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

let relay: RelayProcess;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  await relay.stop();
});

describe('strata', () => {
  it('login, send, listen --json and history --json round trip', async () => {
    const a = tempDir();
    const b = tempDir();
    expect(strata('--profile', a, '--relay', relay.url, 'login', 'alice')).toMatchObject({
      status: 0,
    });
    expect(strata('--profile', b, '--relay', relay.url, 'login', 'bob').stdout).toMatch(
      /logged in as bob/,
    );

    const listener = spawn(process.execPath, [
      BIN,
      '--profile',
      b,
      '--relay',
      relay.url,
      'listen',
      '--json',
      '--for',
      '60',
    ]);
    const lines: Record<string, unknown>[] = [];
    const got = new Promise<void>((resolve) => {
      createInterface({ input: listener.stdout }).on('line', (line) => {
        lines.push(JSON.parse(line) as Record<string, unknown>);
        if (lines.length === 2) resolve();
      });
    });
    // The listener's hello is bob's second (login was the first).
    await relay.waitForLog(/hello bob\/\d+ .*\(strata\/0\.1\.0\)/, 2);
    const first = strata('--profile', a, '--relay', relay.url, 'send', 'bob', 'hello from the CLI');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^alice\/\d+\/\d+ (sent|delivered)$/m);
    const second = strata(
      '--profile',
      a,
      '--relay',
      relay.url,
      'send',
      'bob',
      'and again',
      '--wait',
      'delivered',
    );
    expect(second.stdout).toMatch(/ delivered$/m);
    await got;
    listener.kill('SIGTERM');
    expect(lines).toEqual([
      expect.objectContaining({
        type: 'message',
        from: 'alice',
        text: 'hello from the CLI',
        error: false,
      }),
      expect.objectContaining({ type: 'message', from: 'alice', text: 'and again', error: false }),
    ]);
    expect(typeof lines[0]!.sentAt).toBe('number');

    const history = strata('--profile', a, 'history', 'bob', '--json');
    expect(history.status).toBe(0);
    const rows = history.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string });
    expect(rows.map((r) => r.text)).toEqual(['hello from the CLI', 'and again']);
  });

  it('gives clear errors and distinct exit codes', () => {
    const p = tempDir();
    expect(strata('--bogus')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/unknown option --bogus/),
    });
    expect(strata('--profile', p, '--relay', relay.url, 'login', 'not a name')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/not a valid user name/),
    });
    expect(
      strata('--profile', p, '--relay', 'ws://127.0.0.1:9/', 'login', 'carol', '--timeout', '2'),
    ).toMatchObject({
      status: 3,
      stderr: expect.stringMatching(/cannot reach the relay/),
    });
    strata('--profile', p, '--relay', relay.url, 'login', 'carol');
    expect(
      strata('--profile', p, '--relay', relay.url, 'send', 'nobody-at-all', 'hi'),
    ).toMatchObject({
      status: 5,
      stderr: expect.stringMatching(/has ever connected/),
    });
    expect(strata('--profile', p, '--relay', relay.url, 'login', 'dave')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/belongs to carol/),
    });
    expect(strata('--profile', p, '--segment-size', '10', 'history', 'x')).toMatchObject({
      status: 2,
    });
    expect(strata('--help')).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/Usage: strata/),
    });
  });
});
