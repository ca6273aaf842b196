// Delivery promises of the engine: offline recipients, "sent" as a promise, the error
// flag, several devices of one user.
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageView } from '../src/shared/api.ts';
import { MAX_MISSING_LISTED } from '../src/core/transport/transport.ts';
import { TestClient } from './helpers/client.ts';
import { TestEngine } from './helpers/engine.ts';
import { EngineProcess } from './helpers/engine-process.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function relay(args: string[] = []): Promise<RelayProcess> {
  const r = await startRelay(args);
  cleanup.push(() => r.stop('SIGKILL'));
  return r;
}
function engine(
  url: string,
  user: string,
  opts: Parameters<typeof TestEngine.start>[2] = {},
): TestEngine {
  const e = TestEngine.start(url, user, opts);
  cleanup.push(() => e.close());
  return e;
}
function engineProcess(
  url: string,
  user: string,
  dir: string,
  settings: object = {},
): EngineProcess {
  const p = new EngineProcess(dir, url, user, settings);
  cleanup.push(() => p.kill());
  return p;
}
const statusOf = (p: EngineProcess, text: string) =>
  p.events
    .filter(
      (e): e is { type: 'message'; message: MessageView } =>
        e.type === 'message' && e.message.text === text,
    )
    .map((e) => e.message.status)
    .pop();

describe('offline delivery', () => {
  it('reaches a recipient who connects after the sender has gone', async () => {
    const r = await relay();
    const bobDir = tempDir();
    const first = engine(r.url, 'bob', { profileDir: bobDir });
    await first.online();
    await first.close();
    const alice = engineProcess(r.url, 'alice', tempDir());
    await alice.online();
    const texts = Array.from({ length: 20 }, (_, i) => `while you were out ${i}`);
    await alice.send('bob', texts);
    await alice.until(() => texts.every((t) => statusOf(alice, t) === 'sent'));
    await alice.stop();
    const bob = engine(r.url, 'bob', { profileDir: bobDir });
    await bob.until(() => bob.unread('alice') === texts.length);
    expect(bob.received('alice').map((v) => v.text)).toEqual(texts);
  });
});

describe('a message larger than the window, to an offline recipient', () => {
  it('still reaches the relay whole (sent) and is delivered when the recipient returns', async () => {
    const r = await relay();
    const bobDir = tempDir();
    const first = engine(r.url, 'bob', { profileDir: bobDir });
    await first.online();
    await first.close();
    const alice = engine(r.url, 'alice');
    await alice.online();
    // 19 segments of 16 KiB: nearly twice the first window, and no acks can come back.
    const text = 'long letter '.repeat(25_000);
    const sent = alice.m.send('bob', text);
    await alice.until(() => alice.m.message(sent.key)?.status === 'sent');
    const bob = engine(r.url, 'bob', { profileDir: bobDir });
    await bob.until(() => bob.unread('alice') === 1);
    expect(bob.received('alice')[0]!.text).toBe(text);
    await alice.until(() => alice.m.message(sent.key)?.status === 'delivered');
  });
});

describe('"sent" is a promise', () => {
  it('a sender killed as soon as its messages are sent still delivers them over a lossy channel', async () => {
    const r = await relay(['--loss', '0.1', '--seed', '5']);
    const bob = engine(r.url, 'bob', { settings: { segmentSize: 100 } });
    await bob.online();
    const alice = engineProcess(r.url, 'alice', tempDir(), { segmentSize: 100 });
    await alice.online();
    // Ten segments each, so that the relay must finish partly delivered messages.
    const texts = Array.from({ length: 10 }, (_, i) => `${i} `.repeat(500).slice(0, 1000));
    await alice.send('bob', texts);
    await alice.until(() =>
      texts.every((t) => ['sent', 'delivered'].includes(statusOf(alice, t) ?? '')),
    );
    await alice.kill();
    await bob.until(() => bob.unread('alice') === texts.length);
    expect(bob.received('alice').map((v) => v.text)).toEqual(texts);
  });
});

describe('receipts', () => {
  it("another user's forged receipt does not change the status of alice's message to bob", async () => {
    const r = await relay();
    const bobDir = tempDir();
    const first = engine(r.url, 'bob', { profileDir: bobDir });
    await first.online();
    await first.close();
    const alice = engine(r.url, 'alice');
    await alice.online();
    const sent = alice.m.send('bob', 'for bob only');
    await alice.until(() => alice.m.message(sent.key)?.status === 'sent');
    const mallory = await TestClient.connect(r.url, 'mallory', 66);
    cleanup.push(() => mallory.close());
    const [, device, id] = sent.key.split('/').map(Number);
    for (const kind of ['delivered', 'read'] as const) {
      mallory.send({
        type: 'receipt',
        from: 'mallory',
        fromDevice: 66,
        to: 'alice',
        toDevice: 0,
        kind,
        messageDevice: device!,
        messageIds: [id!],
      });
    }
    // The relay passes mallory's frames on in order: once a message of hers is here (it
    // cannot be opened, as it is not sealed), so are both receipts.
    mallory.send(mallory.data('alice', 1, new TextEncoder().encode('after the receipts')));
    await alice.until(() =>
      alice.events.some((e) => e.type === 'message' && e.message.peer === 'mallory'),
    );
    expect(alice.m.message(sent.key)?.status).toBe('sent');
    // Bob's own receipt, when he comes, does count.
    const bob = engine(r.url, 'bob', { profileDir: bobDir });
    await bob.online();
    await alice.until(() => alice.m.message(sent.key)?.status === 'delivered');
  });
});

describe('the error flag', () => {
  it('marks a message whose sender vanished mid-way, names what is missing, and clears when it completes', async () => {
    // A long delay holds back the acknowledgements, so the sender cannot go past its
    // first window (64 KiB) before we stop it: the relay never sees the whole message.
    const r = await relay(['--delay-ms', '400']);
    const settings = { segmentSize: 100, assemblyPeriodMs: 100, idleCycles: 2 };
    const bob = engine(r.url, 'bob', { settings });
    await bob.online();
    const aliceDir = tempDir();
    const alice = engineProcess(r.url, 'alice', aliceDir, settings);
    await alice.online();
    const text = 'x'.repeat(100 * 2000);
    await alice.send('bob', [text]);
    const partial = () => bob.conversation('alice').find((v) => v.direction === 'in');
    await bob.until(() => (partial()?.received ?? 0) > 0);
    await alice.kill();
    await bob.until(() => partial()?.error === true);
    const flagged = partial()!;
    expect(flagged.text).toBeNull();
    expect(flagged.missing.length).toBeGreaterThan(0);
    // The list names the first missing segments (at most MAX_MISSING_LISTED of them).
    const missingCount = flagged.segmentCount - flagged.received;
    expect(flagged.missing.length).toBe(Math.min(missingCount, MAX_MISSING_LISTED));
    expect(new Set(flagged.missing).size).toBe(flagged.missing.length);
    // The sender comes back and finishes: the same message, whole, flag cleared.
    engineProcess(r.url, 'alice', aliceDir, settings);
    await bob.until(() => partial()?.text === text);
    expect(partial()!.error).toBe(false);
    expect(partial()!.missing).toEqual([]);
  });
});

describe('several peers at once', () => {
  it('keeps each conversation whole and in order, and every status reaches delivered', async () => {
    const r = await relay(['--loss', '0.05', '--seed', '8']);
    const alice = engine(r.url, 'alice');
    const bob = engine(r.url, 'bob');
    const carol = engine(r.url, 'carol');
    await Promise.all([alice.online(), bob.online(), carol.online()]);
    const texts = (to: string) => Array.from({ length: 50 }, (_, i) => `to ${to} ${i}`);
    for (let i = 0; i < 50; i++) {
      alice.m.send('bob', texts('bob')[i]!);
      alice.m.send('carol', texts('carol')[i]!);
    }
    await bob.until(() => bob.unread('alice') === 50);
    await carol.until(() => carol.unread('alice') === 50);
    expect(bob.received('alice').map((v) => v.text)).toEqual(texts('bob'));
    expect(carol.received('alice').map((v) => v.text)).toEqual(texts('carol'));
    await alice.until(() =>
      ['bob', 'carol'].every((p) => alice.sent(p).every((v) => v.status === 'delivered')),
    );
  });
});

describe('several devices of one user', () => {
  it('both receive every message and both show what either sent', async () => {
    const r = await relay();
    const bob1 = engine(r.url, 'bob');
    await bob1.online();
    const bob2 = await TestEngine.linkedTo(bob1);
    cleanup.push(() => bob2.close());
    const alice = engine(r.url, 'alice');
    await Promise.all([bob2.online(), alice.online()]);
    for (let i = 0; i < 10; i++) alice.m.send('bob', `to both ${i}`);
    await bob1.until(() => bob1.unread('alice') === 10);
    await bob2.until(() => bob2.unread('alice') === 10);
    for (let i = 0; i < 5; i++) bob1.m.send('alice', `from bob1 ${i}`);
    await alice.until(() => alice.unread('bob') === 5);
    await bob2.until(() => bob2.sent('alice').filter((v) => v.text !== null).length === 5);
    expect(bob2.sent('alice').map((v) => v.text)).toEqual(
      Array.from({ length: 5 }, (_, i) => `from bob1 ${i}`),
    );
    expect(bob2.received('alice').map((v) => v.text)).toEqual(
      bob1.received('alice').map((v) => v.text),
    );
  });
});

describe('application layer', () => {
  it('read receipts move the sender’s status to read; typing shows and clears', async () => {
    const r = await relay();
    const alice = engine(r.url, 'alice');
    const bob = engine(r.url, 'bob');
    await Promise.all([alice.online(), bob.online()]);
    // bob writes first: they share a conversation, so each may see the other's presence.
    bob.m.send('alice', 'hi');
    await alice.until(() => alice.received('bob').length === 1);
    // alice asks for bob (presence goes only to who asks) and hears he is there.
    expect(await alice.m.lookup('bob')).toMatchObject({ exists: true, online: true });
    await alice.until(() => alice.m.presence().some((p) => p.user === 'bob' && p.online));
    // Bob wrote first: alice takes his message request, so that he may see her typing.
    alice.m.setContact('bob', 'accept');
    alice.m.setTyping('bob', true);
    await bob.until(() =>
      bob.events.some((e) => e.type === 'typing' && e.user === 'alice' && e.typing),
    );
    alice.m.send('bob', 'read me');
    await bob.until(() => bob.unread('alice') === 1);
    // A message from alice ends her typing indicator.
    expect(bob.events.findLast((e) => e.type === 'typing' && e.user === 'alice')).toMatchObject({
      typing: false,
    });
    expect(bob.m.markRead('alice')).toBe(1);
    expect(bob.unread('alice')).toBe(0);
    await alice.until(() => alice.sent('bob')[0]?.status === 'read');
  });
});

describe('failure and retry', () => {
  it('a message the relay refuses is failed, and Retry sends it once the cause is gone', async () => {
    const r = await relay();
    const alice = engine(r.url, 'alice');
    await alice.online();
    const sent = alice.m.send('zoe', 'are you there?');
    await alice.until(() => alice.m.message(sent.key)?.status === 'failed');
    expect(alice.m.lastError(sent.key)).toMatch(/never connected|ever connected/);
    expect(alice.m.retry(sent.key)).toBe(true);
    // Retrying does not help until zoe exists; once she has connected, it does.
    await alice.until(() => alice.m.message(sent.key)?.status === 'failed');
    const zoe = engine(r.url, 'zoe');
    await zoe.online();
    expect(alice.m.retry(sent.key)).toBe(true);
    await zoe.until(() => zoe.unread('alice') === 1);
    await alice.until(() => alice.m.message(sent.key)?.status === 'delivered');
    expect(alice.m.retry(sent.key)).toBe(false);
  });
});
