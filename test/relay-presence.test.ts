// Presence: a connection hears only of the users it watches, and a connect costs the relay
// the same whatever the number of users it knows.
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../relay/log.ts';
import { defaultOptions } from '../relay/options.ts';
import { Relay } from '../relay/relay.ts';
import { RelayStore } from '../relay/store.ts';
import type { Frame, PresenceEntry, WatchKind } from '../src/shared/protocol/index.ts';
import { TestClient } from './helpers/client.ts';
import { TestEngine } from './helpers/engine.ts';
import { tempDir } from './helpers/relay-process.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A relay in this process (its counters read directly), knowing `known` users already. */
async function relayKnowing(known: number): Promise<{ relay: Relay; url: string }> {
  const defaults = defaultOptions();
  const options = {
    ...defaults,
    port: 0,
    dataDir: tempDir(),
    logLevel: 'error' as const,
    summaryIntervalMs: 0,
    // Every user here registers from this one address: more than an hour's new names.
    limits: { ...defaults.limits, newNamesPerHour: 100_000 },
  };
  const seed = new RelayStore(options.dataDir, options.store);
  for (let i = 0; i < known; i++) seed.rememberUser(`user${i}`, 1_700_000_000_000 + i);
  seed.close();
  const relay = new Relay(options, createLogger('error'));
  const { port } = await relay.listen();
  cleanup.push(() => relay.close());
  return { relay, url: `ws://127.0.0.1:${port}/` };
}

async function connect(url: string, user: string, device = 1): Promise<TestClient> {
  const c = await TestClient.connect(url, user, device);
  cleanup.push(() => c.close());
  return c;
}

function presenceFrames(c: TestClient): (Frame & { type: 'presence' })[] {
  return c.frames().filter((f): f is Frame & { type: 'presence' } => f.type === 'presence');
}

/** Sends a watch frame and resolves with the snapshot that answers it (none for `remove`). */
async function watch(
  c: TestClient,
  users: string[],
  kind: WatchKind = 'set',
): Promise<PresenceEntry[]> {
  const before = presenceFrames(c).filter((f) => f.kind === 'snapshot').length;
  c.send({ type: 'watch', from: c.user, fromDevice: c.device, to: '', toDevice: 0, kind, users });
  if (kind === 'remove') {
    await c.flushed();
    return [];
  }
  await c.until(
    () => presenceFrames(c).filter((f) => f.kind === 'snapshot').length > before,
    'the snapshot',
  );
  return presenceFrames(c).filter((f) => f.kind === 'snapshot')[before]!.entries;
}

/** `from` sends `to` a data frame, which `to` receives: they share a conversation now. */
async function converse(from: TestClient, to: TestClient): Promise<void> {
  const before = to.dataFrames().length;
  from.send(from.data(to.user, Date.now(), new Uint8Array([1])));
  await to.until(() => to.dataFrames().length > before, 'the data frame');
}

describe('presence goes to watchers only', () => {
  it('a hello gets no list of users; a watch gets a snapshot of those named, then their joins and leaves', async () => {
    const { url } = await relayKnowing(50);
    const gina = await connect(url, 'gina');
    const hank = await TestClient.connect(url, 'hank', 1);
    await converse(hank, gina);
    await hank.close();
    const entries = await watch(gina, ['hank', 'user7']);
    // Nothing about anyone before gina asked: the challenge and welcome, the count of her
    // prekeys (an account frame: she has published none), a frame from hank, then the answer
    // to her watch.
    expect(gina.frames().map((f) => f.type)).toEqual([
      'challenge',
      'welcome',
      'account',
      'data',
      'presence',
    ]);
    expect(entries[0]).toMatchObject({ user: 'hank', online: false, devices: 0 });
    expect(entries[0]!.lastSeen).toBeGreaterThan(Date.now() - 60_000);
    // user7 was here, but gina shares no conversation with user7: the entry of nobody.
    expect(entries[1]).toEqual({ user: 'user7', online: false, devices: 0, lastSeen: 0 });
    const again = await TestClient.connect(url, 'hank', 1);
    await gina.waitFor(
      (f) => f.type === 'presence' && f.kind === 'update' && f.entries[0]?.online === true,
    );
    await again.close();
    const left = await gina.waitFor(
      (f) => f.type === 'presence' && f.kind === 'update' && f.entries[0]?.online === false,
    );
    const entry = left.type === 'presence' ? left.entries[0]! : null;
    expect(entry).toMatchObject({ user: 'hank', online: false, devices: 0 });
    expect(entry!.lastSeen).toBeGreaterThan(Date.now() - 60_000);
  });

  it('another user of the relay learns nothing of users it does not watch', async () => {
    const { url } = await relayKnowing(10);
    const gina = await connect(url, 'gina');
    const hank = await TestClient.connect(url, 'hank', 1);
    await converse(hank, gina);
    await watch(gina, ['hank']);
    const mallory = await connect(url, 'mallory');
    await watch(mallory, ['user1']);
    await hank.close();
    await gina.waitFor((f) => f.type === 'presence' && f.entries[0]?.online === false);
    const back = await TestClient.connect(url, 'hank', 1);
    await gina.waitFor(
      (f) => f.type === 'presence' && f.kind === 'update' && f.entries[0]?.online === true,
    );
    await back.close();
    await gina.until(() => presenceFrames(gina).length === 4, 'hank leaving again');
    // Whatever the relay sent mallory about hank's visit went before this answer.
    await watch(mallory, ['user2'], 'add');
    const told = presenceFrames(mallory).flatMap((f) => f.entries.map((e) => e.user));
    expect(told).toEqual(['user1', 'user2']);
    // Nor does anyone hear of mallory, whom nobody watches: gina heard of hank only (her
    // snapshot, then he left, came back and left).
    expect(presenceFrames(gina).flatMap((f) => f.entries.map((e) => e.user))).toEqual([
      'hank',
      'hank',
      'hank',
      'hank',
    ]);
  });

  it('stops telling a connection of a user it no longer watches', async () => {
    const { url } = await relayKnowing(0);
    const gina = await connect(url, 'gina');
    for (const name of ['hank', 'ivan']) {
      const c = await TestClient.connect(url, name, 1);
      await converse(c, gina);
      await c.close();
    }
    await watch(gina, ['hank', 'ivan']);
    await watch(gina, ['ivan'], 'remove');
    const hank = await TestClient.connect(url, 'hank', 1);
    const ivan = await TestClient.connect(url, 'ivan', 1);
    await gina.waitFor(
      (f) => f.type === 'presence' && f.kind === 'update' && f.entries[0]?.user === 'hank',
    );
    await watch(gina, ['hank'], 'set');
    expect(
      presenceFrames(gina).some((f) => f.entries.some((e) => e.user === 'ivan' && e.online)),
    ).toBe(false);
    await hank.close();
    await ivan.close();
  });

  it('a stranger sees the entry of nobody for a user online; a correspondent or a mutual contact sees the truth', async () => {
    const { url } = await relayKnowing(0);
    const zoe = await connect(url, 'zoe');
    const gina = await connect(url, 'gina');
    const mallory = await connect(url, 'mallory');
    const nobody = { user: 'zoe', online: false, devices: 0, lastSeen: 0 };
    // mallory shares nothing with zoe: zoe looks like a name that does not exist.
    expect(await watch(mallory, ['zoe', 'no-such-name'])).toEqual([
      nobody,
      { ...nobody, user: 'no-such-name' },
    ]);
    expect(await watch(gina, ['zoe'])).toEqual([nobody]);
    // zoe writes to gina: gina hears the truth from then on, mallory still nothing.
    await converse(zoe, gina);
    await gina.waitFor((f) => f.type === 'presence' && f.kind === 'update');
    expect(await watch(gina, ['zoe'])).toEqual([
      expect.objectContaining({ user: 'zoe', online: true, devices: 1 }),
    ]);
    // Mutual contacts: zoe and hank watch each other without writing.
    const hank = await connect(url, 'hank');
    await watch(hank, ['zoe']);
    expect(await watch(zoe, ['hank'])).toEqual([
      expect.objectContaining({ user: 'hank', online: true }),
    ]);
    await hank.waitFor(
      (f) => f.type === 'presence' && f.kind === 'update' && f.entries[0]?.online === true,
    );
    const heardByHank = presenceFrames(hank).length;
    await zoe.close();
    await gina.waitFor((f) => f.type === 'presence' && f.entries[0]?.online === false);
    // hank, a contact and no correspondent, hears zoe leave too (her watch of him went with her).
    await hank.until(
      () =>
        presenceFrames(hank)
          .slice(heardByHank)
          .some((f) => f.entries[0]?.user === 'zoe' && f.entries[0].online === false),
      'zoe leaving, told to hank',
    );
    await watch(mallory, ['zoe'], 'add');
    expect(presenceFrames(mallory).flatMap((f) => f.entries)).toEqual([
      nobody,
      { ...nobody, user: 'no-such-name' },
      nobody,
    ]);
  });

  it(`refuses a watch list past its limit with watchLimit, and keeps the list it had`, async () => {
    const { url } = await relayKnowing(0);
    const gina = await connect(url, 'gina');
    const names = (from: number) => Array.from({ length: 512 }, (_, i) => `n${from + i}`);
    await watch(gina, names(0));
    for (let k = 1; k < 8; k++) await watch(gina, names(k * 512), 'add');
    gina.send({
      type: 'watch',
      from: 'gina',
      fromDevice: 1,
      to: '',
      toDevice: 0,
      kind: 'add',
      users: ['one-too-many'],
    });
    const err = await gina.waitFor((f) => f.type === 'error');
    expect(err.type === 'error' && err.code).toBe('watchLimit');
    // Removing makes room again.
    await watch(gina, ['n0'], 'remove');
    expect(await watch(gina, ['one-too-many'], 'add')).toHaveLength(1);
  });
});

describe('the cost of a connect', () => {
  /**
   * What the relay sends for one connect (its welcome, and the updates to whoever watches the
   * user), and for the watch of its three peers: frames and bytes, from its own counters.
   */
  async function costOfConnect(known: number, online: number): Promise<[number, number]> {
    const { relay, url } = await relayKnowing(known);
    // Users online, each watching two others: the relay's usual company.
    for (let i = 0; i < online; i++) {
      const c = await connect(url, `user${i}`);
      await watch(c, [`user${(i + 1) % known}`, `user${(i + 2) % known}`]);
    }
    // Two of them watch the newcomer, as its conversations' peers would.
    const peers = [await connect(url, 'peer1'), await connect(url, 'peer2')];
    for (const p of peers) await watch(p, ['newcomer']);
    const frames = relay.metrics.value('frames_out');
    const bytes = relay.metrics.value('bytes_out');
    const c = await connect(url, 'newcomer');
    await watch(c, ['peer1', 'peer2', 'user3']);
    for (const p of peers) await p.waitFor((f) => f.type === 'presence' && f.kind === 'update');
    return [relay.metrics.value('frames_out') - frames, relay.metrics.value('bytes_out') - bytes];
  }

  it('sends the same frames and bytes with 10 or 1,000 known users and 5 or 100 online', async () => {
    const small = await costOfConnect(10, 5);
    const large = await costOfConnect(1000, 100);
    // The challenge, a welcome, the count of its prekeys (none published), the snapshot of
    // three peers, one update to each of two watchers (whom the newcomer watches back: mutual
    // contacts).
    expect(small[0]).toBe(6);
    expect(large).toEqual(small);
  });
});

describe('the engine', () => {
  it('follows the presence of its conversations’ peers across a restart, and nobody else’s', async () => {
    const { url } = await relayKnowing(0);
    const start = (user: string, profileDir = tempDir()) => {
      const e = TestEngine.start(url, user, { profileDir });
      cleanup.push(() => e.close());
      return e;
    };
    const bob = start('bob');
    await bob.online();
    const aliceDir = tempDir();
    const first = start('alice', aliceDir);
    await first.online();
    const sent = first.m.send('bob', 'hi');
    await first.until(() => first.m.message(sent.key)?.status === 'delivered');
    await first.close();
    const carol = start('carol');
    await carol.online();
    // Restarted, alice names bob to the relay by herself: she hears when he leaves.
    const alice = start('alice', aliceDir);
    await alice.until(() => alice.m.presence().some((p) => p.user === 'bob' && p.online));
    await bob.close();
    await alice.until(() =>
      alice.events.some(
        (e) => e.type === 'presence' && e.presence.user === 'bob' && !e.presence.online,
      ),
    );
    // carol, who never wrote to bob nor asked for him, heard nothing of anyone.
    expect(carol.events.filter((e) => e.type === 'presence')).toEqual([]);
    expect(carol.m.presence()).toEqual([]);
    // carol shares no conversation with bob: the relay tells her that the name has an
    // account (as a directory would, so that she can write to him) and nothing of his presence.
    expect(await carol.m.lookup('bob')).toEqual({
      user: 'bob',
      exists: true,
      online: false,
      lastSeen: null,
    });
    expect(await carol.m.lookup('zoe')).toEqual({
      user: 'zoe',
      exists: false,
      online: false,
      lastSeen: null,
    });
  });
});

describe('starting and deleting a chat', () => {
  it('a name that never connected is no such user; its failed chat and any other can be deleted', async () => {
    const { url } = await relayKnowing(0);
    const start = (user: string) => {
      const e = TestEngine.start(url, user);
      cleanup.push(() => e.close());
      return e;
    };
    const bob = start('bob');
    const alice = start('alice');
    await Promise.all([alice.online(), bob.online()]);
    expect((await alice.m.lookup('zoe')).exists).toBe(false);
    const refused = alice.m.send('zoe', 'anyone there?');
    await alice.until(() => alice.m.message(refused.key)?.status === 'failed');
    const hi = alice.m.send('bob', 'hi bob');
    await alice.until(() => alice.m.message(hi.key)?.status === 'delivered');
    expect(
      alice.m
        .conversations()
        .map((c) => c.peer)
        .sort(),
    ).toEqual(['bob', 'zoe']);

    expect(alice.m.deleteConversation('zoe')).toBe(true);
    expect(alice.m.conversations().map((c) => c.peer)).toEqual(['bob']);
    expect(alice.m.history('zoe')).toEqual([]);
    expect(alice.m.deleteConversation('zoe')).toBe(false);

    expect(alice.m.deleteConversation('bob')).toBe(true);
    expect(alice.m.conversations()).toEqual([]);
    expect(alice.m.presence()).toEqual([]);
    // bob writes again: a new conversation with only what came after.
    bob.m.send('alice', 'still there?');
    await alice.until(() => alice.received('bob').length === 1);
    expect(alice.conversation('bob').map((m) => m.text)).toEqual(['still there?']);
  });
});
