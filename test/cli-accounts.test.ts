// Accounts through the command-line client against the real relay, as users run them: a
// taken name, linking a second device, listing and removing devices, and recovery. Each step
// runs `strata` in its own process.
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

/** Resolves once the relay has welcomed `who` (user/device) `n` times in all. */
const hellos = (who: string, n: number) =>
  relay.waitForLog(new RegExp(`hello ${who} .*\\(strata/`), n);

const jsonLines = (s: string) =>
  s
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const RECOVERY_CODE = /^(?:[0-9A-Z]{4}-){5}[0-9A-Z]{4}$/m;

describe('accounts through the CLI', () => {
  const alice = tempDir();
  const bob = tempDir();
  let recoveryCode = '';
  let aliceDevice = 0;

  it('login creates the account and shows its recovery code once', async () => {
    const first = await strata(alice, 'login', 'alice');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/logged in as alice \(device \d+\)/);
    recoveryCode = RECOVERY_CODE.exec(first.stdout)![0];
    aliceDevice = Number(/device (\d+)/.exec(first.stdout)![1]);
    const again = await strata(alice, 'login', 'alice');
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(RECOVERY_CODE);
    expect((await strata(bob, 'login', 'bob')).status).toBe(0);
  });

  it('a taken name: exit 5 and a clear message; the profile then logs in under another', async () => {
    const other = tempDir();
    const taken = await strata(other, 'login', 'alice');
    expect(taken).toMatchObject({
      status: 5,
      stderr: expect.stringMatching(/the name alice is taken on this relay/),
    });
    expect(taken.stdout).not.toMatch(/logged in/);
    const renamed = await strata(other, 'login', 'alice2');
    expect(renamed).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/logged in as alice2/),
    });
  });

  it('bad input is a usage error (exit 2) that touches nothing', async () => {
    const fresh = tempDir();
    expect(await strata(fresh, 'link', 'not-a-code')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/not a link code/),
    });
    expect(await strata(fresh, 'recover', 'alice', 'XXXX')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/not a recovery code/),
    });
    expect(await strata(fresh, 'login', 'carol', '--name', 'x')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--name goes with link or recover/),
    });
    expect(await strata(alice, 'unlink', 'phone')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/device number/),
    });
  });

  const phone = tempDir();
  let phoneDevice = 0;

  it('link-code and link: the new device joins; both receive what is sent to alice from then on', async () => {
    const offer = background(alice, 'link-code', '--timeout', '120');
    const code = await offer.line(() => true);
    expect(code).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    const linked = await strata(phone, 'link', code, '--name', 'phone');
    expect(linked).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/linked to alice's account as device \d+/),
    });
    phoneDevice = Number(/device (\d+)/.exec(linked.stdout)![1]);
    expect(await offer.exited).toBe(0);
    expect(offer.lines[1]).toMatch(new RegExp(`^linked device ${phoneDevice} "phone"`));

    // A used code is spent.
    const late = await strata(tempDir(), 'link', code);
    expect(late.status).toBe(5);

    const onLaptop = background(alice, 'listen', '--json', '--for', '120');
    const onPhone = background(phone, 'listen', '--json', '--for', '120');
    await hellos(`alice/${aliceDevice}`, 4);
    await hellos(`alice/${phoneDevice}`, 1);
    expect((await strata(bob, 'send', 'alice', 'to both of you')).status).toBe(0);
    const isIt = (l: string) => l.includes('to both of you');
    for (const listener of [onLaptop, onPhone]) {
      expect(JSON.parse(await listener.line(isIt))).toMatchObject({
        type: 'message',
        from: 'bob',
        text: 'to both of you',
      });
    }
    await Promise.all([onLaptop.stop(), onPhone.stop()]);
  });

  it('devices --json lists both, each with current true on itself', async () => {
    const fromLaptop = await strata(alice, 'devices', '--json');
    expect(fromLaptop.status).toBe(0);
    const rows = jsonLines(fromLaptop.stdout);
    expect(rows).toHaveLength(2);
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ device: aliceDevice, current: true }),
        expect.objectContaining({ device: phoneDevice, name: 'phone', current: false }),
      ]),
    );
    for (const r of rows) expect(typeof r.lastSeen).toBe('number');
    const fromPhone = jsonLines((await strata(phone, 'devices', '--json')).stdout);
    expect(fromPhone).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ device: aliceDevice, current: false }),
        expect.objectContaining({ device: phoneDevice, current: true }),
      ]),
    );
  });

  it('unlink removes the other device, which is refused from then on', async () => {
    const removed = await strata(alice, 'unlink', String(phoneDevice));
    expect(removed).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(new RegExp(`removed device ${phoneDevice}`)),
    });
    expect(jsonLines((await strata(alice, 'devices', '--json')).stdout)).toEqual([
      expect.objectContaining({ device: aliceDevice, current: true }),
    ]);
    expect(await strata(phone, 'devices')).toMatchObject({
      status: 5,
      stderr: expect.stringMatching(/this device was removed from alice's account/),
    });
  });

  it("recover takes the account back: the old device is refused, and alice's contact sees the change", async () => {
    // bob's second send names alice as a conversation at connect: his engine keeps her key.
    expect((await strata(bob, 'send', 'alice', 'still there?')).status).toBe(0);
    const bobListens = background(bob, 'listen', '--json', '--for', '120');
    await hellos('bob/\\d+', 4);

    const fresh = tempDir();
    const recovered = await strata(fresh, 'recover', 'alice', recoveryCode);
    expect(recovered).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/recovered alice's account/),
    });
    const newCode = RECOVERY_CODE.exec(recovered.stdout)![0];
    expect(newCode).not.toBe(recoveryCode);

    expect(JSON.parse(await bobListens.line((l) => l.includes('identity-changed')))).toMatchObject({
      type: 'notice',
      kind: 'identity-changed',
      user: 'alice',
    });
    await bobListens.stop();

    expect(await strata(alice, 'devices')).toMatchObject({
      status: 5,
      stderr: expect.stringMatching(/this device was removed from alice's account/),
    });
    // The old recovery code no longer works; the new one would.
    expect(await strata(tempDir(), 'recover', 'alice', recoveryCode)).toMatchObject({
      status: 5,
      stderr: expect.stringMatching(/recovery code/),
    });
    expect((await strata(fresh, 'devices', '--json')).status).toBe(0);
  });
});
