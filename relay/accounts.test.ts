// The relay's account rules that need a clock or many tries: link codes are single use,
// expire, and cannot be guessed online; an account offers a few codes at once; a link waits
// for the offering device and fails when it declines or goes away. A relay in this process,
// with a clock the tests move.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyPair, linkCodeId, newLinkCode } from '../src/node/account-keys.ts';
import { linkHello } from '../src/node/hello-proof.ts';
import { LINK_CODE_TTL_MS, toBase64 } from '../src/shared/protocol/account.ts';
import { TestClient } from '../test/helpers/client.ts';
import { tempDir } from '../test/helpers/relay-process.ts';
import { LINK_FAILURES_PER_TTL, MAX_LIVE_OFFERS } from './accounts.ts';
import { createLogger } from './log.ts';
import { defaultOptions } from './options.ts';
import { Relay } from './relay.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function relay(dataDir = tempDir()) {
  let now = 1_800_000_000_000;
  const options = { ...defaultOptions(), port: 0, dataDir, summaryIntervalMs: 0 };
  const r = new Relay(options, createLogger('error'), { now: () => now });
  const { port } = await r.listen();
  cleanup.push(() => r.close());
  return {
    relay: r,
    url: `ws://127.0.0.1:${port}/`,
    advance: (ms: number) => (now += ms),
  };
}

async function connect(url: string, user: string, device = 1): Promise<TestClient> {
  const c = await TestClient.connect(url, user, device);
  cleanup.push(() => c.close());
  return c;
}

/** bob/1 offers a new code; resolves with the code once the relay has it. */
async function offer(bob: TestClient): Promise<string> {
  const code = newLinkCode();
  const codeId = toBase64(linkCodeId(code));
  bob.sendAccount({ kind: 'link-offer', codeId });
  await bob.until(
    () => bob.accountMessages().some((m) => m.kind === 'link-offer' && m.codeId === codeId),
    'the offer',
  );
  return code;
}

/** A fresh connection says a link hello with `code`; resolves with it. */
async function linkWith(url: string, code: string, device = 5): Promise<TestClient> {
  const c = await TestClient.open(url, '', device);
  cleanup.push(() => c.close());
  c.send(linkHello(code, device, KeyPair.generate(), 'new', await c.challenge()));
  return c;
}

async function errorOf(c: TestClient): Promise<string> {
  const e = await c.waitFor((f) => f.type === 'error');
  return e.type === 'error' ? e.code : '';
}

describe('link codes', () => {
  it('are single use: a second device entering the same code is refused while the first waits', async () => {
    const { url } = await relay();
    const bob = await connect(url, 'bob');
    const code = await offer(bob);
    await linkWith(url, code, 5);
    await bob.waitForAccount('link-request');
    const second = await linkWith(url, code, 6);
    expect(await errorOf(second)).toBe('linkFailed');
    expect(bob.accountMessages().filter((m) => m.kind === 'link-request')).toHaveLength(1);
  });

  it('expire after ten minutes', async () => {
    const { url, advance } = await relay();
    const bob = await connect(url, 'bob');
    const code = await offer(bob);
    advance(LINK_CODE_TTL_MS);
    const late = await linkWith(url, code);
    expect(await errorOf(late)).toBe('linkFailed');
    await bob.flushed();
    expect(bob.accountMessages().some((m) => m.kind === 'link-request')).toBe(false);
  });

  it('cannot be guessed: after a few wrong codes an address is refused, even with the right one', async () => {
    const { url, relay: r } = await relay();
    const bob = await connect(url, 'bob');
    for (let i = 0; i < LINK_FAILURES_PER_TTL; i++)
      expect(await errorOf(await linkWith(url, newLinkCode()))).toBe('linkFailed');
    const code = await offer(bob);
    expect(await errorOf(await linkWith(url, code))).toBe('rateLimited');
    expect(r.metrics.json().hellos_refused).toMatchObject({
      'link-unknown': LINK_FAILURES_PER_TTL,
      'link-rate-limited': 1,
    });
    await bob.flushed();
    expect(bob.accountMessages().some((m) => m.kind === 'link-request')).toBe(false);
  });

  it(`are at most ${MAX_LIVE_OFFERS} live per account`, async () => {
    const { url } = await relay();
    const bob = await connect(url, 'bob');
    for (let i = 0; i < MAX_LIVE_OFFERS; i++) await offer(bob);
    bob.sendAccount({ kind: 'link-offer', codeId: toBase64(linkCodeId(newLinkCode())) });
    expect(await errorOf(bob)).toBe('accountRefused');
  });

  it('fail the waiting device when the account device declines or goes away', async () => {
    const { url } = await relay();
    const bob = await connect(url, 'bob');
    const declined = await linkWith(url, await offer(bob), 5);
    const request = await bob.waitForAccount('link-request');
    bob.sendAccount({ kind: 'link-decline', codeId: request.codeId });
    expect(await errorOf(declined)).toBe('linkFailed');
    expect((await declined.whenClosed()).code).toBe(1008);

    const orphan = await linkWith(url, await offer(bob), 6);
    await bob.until(
      () => bob.accountMessages().filter((m) => m.kind === 'link-request').length === 2,
      'the second request',
    );
    await bob.close();
    expect(await errorOf(orphan)).toBe('linkFailed');
  });
});

describe('the relay id', () => {
  it('is kept in the data folder, 0600, and the same after a restart', async () => {
    const dir = tempDir();
    const first = await relay(dir);
    const id = first.relay.relayId;
    await first.relay.close();
    expect(statSync(join(dir, 'relay-id')).mode & 0o777).toBe(0o600);
    const second = await relay(dir);
    expect(second.relay.relayId).toEqual(id);
    const other = await relay();
    expect(other.relay.relayId).not.toEqual(id);
  });
});
