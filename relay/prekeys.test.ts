// The relay's prekey rules that need a clock or many uploads: bundle requests are limited
// per connection (a token bucket), and the one-time prekeys one device may store are
// bounded. A relay in this process, with a clock the tests move.
import { afterEach, describe, expect, it } from 'vitest';
import { makePrekeyUpload } from '../src/node/prekeys.ts';
import { rawAccounts } from '../src/node/raw-accounts.ts';
import type { AccountMessage, AccountOf } from '../src/shared/protocol/account.ts';
import { PREKEY_BATCH, type Frame } from '../src/shared/protocol/index.ts';
import { TestClient } from '../test/helpers/client.ts';
import { tempDir } from '../test/helpers/relay-process.ts';
import { createLogger } from './log.ts';
import { defaultOptions } from './options.ts';
import { MAX_ONE_TIME_PREKEYS } from './prekey-store.ts';
import { BUNDLE_REQUESTS_PER_MINUTE, BUNDLE_REQUEST_BURST } from './prekeys.ts';
import { Relay } from './relay.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function relay() {
  let now = 1_800_000_000_000;
  const options = { ...defaultOptions(), port: 0, dataDir: tempDir(), summaryIntervalMs: 0 };
  const r = new Relay(options, createLogger('error'), { now: () => now });
  const { port } = await r.listen();
  cleanup.push(() => r.close());
  return { url: `ws://127.0.0.1:${port}/`, advance: (ms: number) => (now += ms) };
}

async function connect(url: string, user: string, device = 1): Promise<TestClient> {
  const c = await TestClient.connect(url, user, device);
  cleanup.push(() => c.close());
  await c.flushed();
  return c;
}

const counts = (c: TestClient) =>
  c.accountMessages().filter((m): m is AccountOf<'prekey-count'> => m.kind === 'prekey-count');

/** Sends `m`, waits until the relay has answered everything sent so far. */
async function send(c: TestClient, m: AccountMessage): Promise<void> {
  c.sendAccount(m);
  await c.flushed();
}

describe('bundle requests per connection', () => {
  it('a burst of BUNDLE_REQUEST_BURST is served, the next is refused with rateLimited and takes nothing, and the bucket refills with time', async () => {
    const r = await relay();
    const alice = await connect(r.url, 'alice');
    const identity = rawAccounts.account((await alice.challenge()).relayId, 'alice')!.identity;
    await send(
      alice,
      makePrekeyUpload(identity, { registrationId: 1, firstId: 1, signedId: 1, kyberId: 1 })
        .message,
    );
    const mallory = await connect(r.url, 'mallory');
    const answers = () => mallory.accountMessages().filter((m) => m.kind === 'bundles').length;
    const refusals = () =>
      mallory.frames().filter((f: Frame) => f.type === 'error' && f.code === 'rateLimited').length;

    for (let i = 0; i < BUNDLE_REQUEST_BURST + 5; i++)
      mallory.sendAccount({ kind: 'bundles', user: 'alice' });
    await mallory.flushed();
    expect(answers()).toBe(BUNDLE_REQUEST_BURST);
    expect(refusals()).toBe(5);
    // The refused requests took no one-time prekey.
    await send(
      alice,
      makePrekeyUpload(identity, {
        registrationId: 1,
        firstId: 1,
        count: 0,
        signedId: 1,
        kyberId: 1,
      }).message,
    );
    expect(counts(alice).at(-1)!.count).toBe(PREKEY_BATCH - BUNDLE_REQUEST_BURST);

    // One request's worth of time later, one more; a minute later, a whole burst.
    r.advance(60_000 / BUNDLE_REQUESTS_PER_MINUTE);
    await send(mallory, { kind: 'bundles', user: 'alice' });
    await send(mallory, { kind: 'bundles', user: 'alice' });
    expect([answers(), refusals()]).toEqual([BUNDLE_REQUEST_BURST + 1, 6]);
    r.advance(60_000);
    for (let i = 0; i < BUNDLE_REQUEST_BURST; i++)
      mallory.sendAccount({ kind: 'bundles', user: 'nobody' });
    await mallory.flushed();
    expect([answers(), refusals()]).toEqual([2 * BUNDLE_REQUEST_BURST + 1, 6]);
    expect(mallory.closed).toBeNull();

    // Another connection has its own bucket.
    const bob = await connect(r.url, 'bob');
    await send(bob, { kind: 'bundles', user: 'alice' });
    expect(bob.accountMessages().filter((m) => m.kind === 'bundles')).toHaveLength(1);
  });
});

describe('one-time prekeys stored per device', () => {
  it('are capped at MAX_ONE_TIME_PREKEYS; an id already held is not added again', async () => {
    const r = await relay();
    const alice = await connect(r.url, 'alice');
    const identity = rawAccounts.account((await alice.challenge()).relayId, 'alice')!.identity;
    let next = 1;
    const upload = async (firstId = next) => {
      const up = makePrekeyUpload(identity, {
        registrationId: 1,
        firstId,
        signedId: 1,
        kyberId: 1,
      });
      next = up.nextId;
      await send(alice, up.message);
      return counts(alice).at(-1)!.count;
    };
    expect(await upload()).toBe(PREKEY_BATCH);
    expect(await upload(1)).toBe(PREKEY_BATCH);
    expect(await upload()).toBe(2 * PREKEY_BATCH);
    expect(await upload()).toBe(MAX_ONE_TIME_PREKEYS);
    expect(MAX_ONE_TIME_PREKEYS).toBe(2 * PREKEY_BATCH);
  });
});
