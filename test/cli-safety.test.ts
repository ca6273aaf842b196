// Safety numbers through the command-line client against the real relay, each step its own
// `strata` process: alice and bob print the same number; alice verifies bob; bob recovers his
// account (new identity key), and alice's listen prints the notice as it happens, her history
// keeps it among the messages, her sends to bob are refused (exit 5) until she accepts the new
// number, which both sides again print alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliProcesses } from './helpers/cli-process.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

let relay: RelayProcess;
const { strata, background, stopAll } = cliProcesses(() => relay.url);
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  stopAll();
  await relay.stop();
});

const RECOVERY_CODE = /^(?:[0-9A-Z]{4}-){5}[0-9A-Z]{4}$/m;
/** The first line of plain `safety-number`: 12 groups of 5 digits. */
const GROUPS = /^(\d{5} ){11}\d{5}$/;

const jsonLines = (s: string) =>
  s
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('safety numbers through the CLI', () => {
  const alice = tempDir();
  const bob = tempDir();
  let bobCode = '';
  let number = '';

  it('alice and bob print the same safety number, in 12 groups of 5 digits', async () => {
    expect((await strata(alice, 'login', 'alice')).status).toBe(0);
    const bobLogin = await strata(bob, 'login', 'bob');
    bobCode = RECOVERY_CODE.exec(bobLogin.stdout)![0];
    expect((await strata(alice, 'send', 'bob', 'hello bob')).status).toBe(0);

    const [ours, theirs] = await Promise.all([
      strata(alice, 'safety-number', 'bob'),
      strata(bob, 'safety-number', 'alice'),
    ]);
    expect(ours.status).toBe(0);
    expect(theirs.status).toBe(0);
    const first = ours.stdout.split('\n')[0]!;
    expect(first).toMatch(GROUPS);
    expect(theirs.stdout.split('\n')[0]).toBe(first);
    expect(ours.stdout).toMatch(/bob is not verified/);
    number = first.replaceAll(' ', '');

    const json = await strata(alice, 'safety-number', 'bob', '--json');
    expect(jsonLines(json.stdout)).toEqual([
      { user: 'bob', number, verified: false, changed: false },
    ]);
  });

  it('bad names: a usage error (exit 2); a name with no account fails (exit 4)', async () => {
    expect(await strata(alice, 'verify', 'no/slash')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/not a valid user name/),
    });
    expect(await strata(alice, 'safety-number', 'nobody')).toMatchObject({
      status: 4,
      stderr: expect.stringMatching(/nobody has no account/),
    });
  });

  it("verified bob recovers: the notice comes, and alice's sends wait until she accepts", async () => {
    const verified = await strata(alice, 'verify', 'bob');
    expect(verified).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/marked bob as verified/),
    });
    expect(
      jsonLines((await strata(alice, 'safety-number', 'bob', '--json')).stdout)[0],
    ).toMatchObject({ verified: true, changed: false });

    const listens = background(alice, 'listen', '--json', '--for', '120');
    await relay.waitForLog(/hello alice\/\d+ .*\(strata\//, 8);
    const bob2 = tempDir();
    expect((await strata(bob2, 'recover', 'bob', bobCode)).status).toBe(0);
    const notice = JSON.parse(await listens.line((l) => l.includes('identity-changed')));
    expect(notice).toEqual({
      type: 'notice',
      kind: 'identity-changed',
      user: 'bob',
      at: expect.any(Number),
      fingerprint: expect.any(String),
    });
    await listens.stop();

    expect(await strata(alice, 'send', 'bob', 'are you still you?')).toMatchObject({
      status: 5,
      stderr: expect.stringMatching(
        /bob's safety number changed: check it, then accept it with `strata accept-identity bob`/,
      ),
    });
    const history = jsonLines((await strata(alice, 'history', 'bob', '--json')).stdout);
    expect(history.map((l) => l.type)).toEqual(['message', 'notice']);
    expect(history[1]).toEqual({ ...notice });

    const changed = await strata(alice, 'safety-number', 'bob', '--json');
    const now = jsonLines(changed.stdout)[0]!;
    expect(now).toMatchObject({ verified: false, changed: true });
    expect(now.number).not.toBe(number);
    const theirs = await strata(bob2, 'safety-number', 'alice', '--json');
    expect(jsonLines(theirs.stdout)[0]!.number).toBe(now.number);

    expect(await strata(alice, 'accept-identity', 'bob')).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/accepted bob's new safety number/),
    });
    expect((await strata(alice, 'send', 'bob', 'welcome back')).status).toBe(0);
    expect(
      jsonLines((await strata(alice, 'safety-number', 'bob', '--json')).stdout)[0],
    ).toMatchObject({ verified: false, changed: false });
  });
});
