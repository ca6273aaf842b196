// Consent between two engines through the real relay: a message request's files write nothing
// to disk until accepted, a blocked user's messages are never shown and their files refused, a
// file over the auto-download size waits for a click, and the sender holds a waiting file
// instead of sending it again and again.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageView } from '../src/shared/api.ts';
import { PARTIAL_EXPIRY_MS } from '../src/core/files/partial-sweep.ts';
import { TestEngine } from './helpers/engine.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

let relay: RelayProcess;
const engines: TestEngine[] = [];
beforeEach(async () => {
  relay = await startRelay();
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  await relay.stop();
});

function engine(
  user: string,
  opts: { autoDownloadBytes?: number; profileDir?: string; accept?: string[] } = {},
) {
  const { accept = [], ...options } = opts;
  const profileDir = opts.profileDir ?? tempDir(`strata-${user}-`);
  const downloadsDir = tempDir(`strata-${user}-downloads-`);
  const e = TestEngine.start(relay.url, user, { ...options, profileDir, downloadsDir }, accept);
  engines.push(e);
  return { e, partial: join(profileDir, 'partial'), downloads: downloadsDir };
}

function sourceFile(bytes: Uint8Array, name = 'payload.bin'): string {
  const path = join(tempDir('strata-src-'), name);
  writeFileSync(path, bytes);
  return path;
}

function incoming(e: TestEngine, peer: string, key: string): MessageView | undefined {
  return e.conversation(peer).find((v) => v.key === key);
}

/** Data segments alice has sent so far, first sends and again (her network counters). */
function segmentsSent(e: TestEngine, peer: string): number {
  return e.m.stats(peer).segmentsSent;
}

describe('message requests', () => {
  it('a file from a non-contact is not written to disk until accepted, then arrives whole', async () => {
    const alice = engine('alice');
    const bob = engine('bob');
    await Promise.all([alice.e.online(), bob.e.online()]);
    const bytes = randomBytes(256 * 1024 + 7);
    alice.e.m.send('bob', 'hi, it is alice');
    const sent = await alice.e.m.sendFile('bob', sourceFile(bytes, 'notes.bin'));
    // Bob sees the request's text and what the file is, and nothing of it is on his disk.
    // (Its description, sealed, is opened a moment after it is held.)
    await bob.e.until(() => {
      const f = incoming(bob.e, 'alice', sent.key)?.file;
      return f?.state === 'waiting' && f.name !== null;
    });
    await bob.e.until(() => bob.e.received('alice').length > 0);
    expect(bob.e.received('alice').map((v) => v.text)).toEqual(['hi, it is alice']);
    expect(bob.e.m.conversations().find((c) => c.peer === 'alice')?.contact).toBe('request');
    const waiting = incoming(bob.e, 'alice', sent.key)!.file!;
    expect(waiting).toMatchObject({ held: 'request', name: 'notes.bin', size: bytes.length });
    expect(waiting.bytesDone).toBe(0);
    // Alice holds the file: she was asked to, and says so.
    await alice.e.until(() => alice.e.m.message(sent.key)?.file?.state === 'waiting');
    expect(alice.e.m.message(sent.key)?.file?.held).toBe('peer');
    // It stays held: over three text round trips alice sends their segments and nothing
    // of the file (no retransmission storm).
    const before = segmentsSent(alice.e, 'bob');
    for (const text of ['one', 'two', 'three']) {
      const t = alice.e.m.send('bob', text);
      await alice.e.until(() => alice.e.m.message(t.key)?.status === 'delivered');
    }
    expect(segmentsSent(alice.e, 'bob') - before).toBe(3);
    expect(readdirSync(bob.partial)).toEqual([]);
    expect(readdirSync(bob.downloads)).toEqual([]);
    expect(() => bob.e.m.downloadFile(sent.key)).toThrow(/accept alice first/);

    expect(bob.e.m.setContact('alice', 'accept')).toBe('accepted');
    await bob.e.until(() => incoming(bob.e, 'alice', sent.key)?.file?.state === 'done');
    const saved = incoming(bob.e, 'alice', sent.key)!.file!.path!;
    expect(readFileSync(saved).equals(bytes)).toBe(true);
    await alice.e.until(() => alice.e.m.message(sent.key)?.status === 'delivered');
  });

  it('read receipts and presence are not sent to a request until it is accepted', async () => {
    const alice = engine('alice');
    const bob = engine('bob');
    await Promise.all([alice.e.online(), bob.e.online()]);
    const sent = alice.e.m.send('bob', 'hello bob');
    await bob.e.until(() => bob.e.received('alice').length === 1);
    expect(bob.e.m.markRead('alice')).toBe(1);
    // Bob's presence is not watched for a request: his book has no entry for alice.
    expect(bob.e.m.presence().map((p) => p.user)).not.toContain('alice');
    // A later message gets delivered: had a read receipt gone, it would be there by now.
    const second = alice.e.m.send('bob', 'still there?');
    await alice.e.until(() => alice.e.m.message(second.key)?.status === 'delivered');
    expect(alice.e.m.message(sent.key)?.status).toBe('delivered');
    bob.e.m.setContact('alice', 'accept');
    await alice.e.until(() => alice.e.m.message(sent.key)?.status === 'read');
    await bob.e.until(() => bob.e.m.presence().some((p) => p.user === 'alice'));
  });

  it("a blocked user's messages are never shown and their files are refused", async () => {
    const alice = engine('alice');
    const bob = engine('bob');
    await Promise.all([alice.e.online(), bob.e.online()]);
    alice.e.m.send('bob', 'first');
    await bob.e.until(() => bob.e.received('alice').length === 1);
    expect(bob.e.m.setContact('alice', 'block')).toBe('blocked');
    const text = alice.e.m.send('bob', 'after the block');
    const file = await alice.e.m.sendFile('bob', sourceFile(randomBytes(64 * 1024)));
    // The file is refused (alice stops), the text acknowledged (alice stops) and dropped.
    await alice.e.until(() => alice.e.m.message(file.key)?.file?.state === 'failed');
    await alice.e.until(() => alice.e.m.message(text.key)?.status === 'delivered');
    expect(bob.e.conversation('alice').map((v) => v.text)).toEqual(['first']);
    expect(bob.e.events.some((e) => e.type === 'message' && e.message.key === text.key)).toBe(
      false,
    );
    expect(readdirSync(bob.partial)).toEqual([]);
    // Unblocked, alice is a request again and her next message shows.
    expect(bob.e.m.setContact('alice', 'unblock')).toBe('request');
    alice.e.m.send('bob', 'again');
    await bob.e.until(() => bob.e.received('alice').length === 2);
  });
});

describe('auto-download', () => {
  it('a file over the auto-download size waits for a click, then downloads', async () => {
    const alice = engine('alice');
    const bob = engine('bob', { autoDownloadBytes: 100 * 1024 });
    await Promise.all([alice.e.online(), bob.e.online()]);
    bob.e.m.send('alice', 'send me the files');
    const small = randomBytes(50 * 1024);
    const large = randomBytes(300 * 1024);
    const s = await alice.e.m.sendFile('bob', sourceFile(small, 'small.bin'));
    const l = await alice.e.m.sendFile('bob', sourceFile(large, 'large.bin'));
    await bob.e.until(() => incoming(bob.e, 'alice', s.key)?.file?.state === 'done');
    await bob.e.until(() => incoming(bob.e, 'alice', l.key)?.file?.state === 'waiting');
    expect(incoming(bob.e, 'alice', l.key)!.file!.held).toBe('size');
    await alice.e.until(() => alice.e.m.message(l.key)?.file?.state === 'waiting');
    expect(readdirSync(bob.partial)).toEqual([]);
    expect(readdirSync(bob.downloads)).toEqual(['small.bin']);
    bob.e.m.downloadFile(l.key);
    await bob.e.until(() => incoming(bob.e, 'alice', l.key)?.file?.state === 'done');
    expect(readFileSync(incoming(bob.e, 'alice', l.key)!.file!.path!).equals(large)).toBe(true);
    await alice.e.until(() => alice.e.m.message(l.key)?.status === 'delivered');
  });
});

describe('partial files', () => {
  it('a transfer that gained nothing for too long expires at the next start: its partial file goes, its sender hears', async () => {
    await relay.admin({ rateBytesPerSec: 2_000_000 });
    const aliceProfile = tempDir('strata-alice-');
    const alice = engine('alice', { profileDir: aliceProfile });
    const bobProfile = tempDir('strata-bob-');
    const bob = engine('bob', { profileDir: bobProfile, accept: ['alice'] });
    await Promise.all([alice.e.online(), bob.e.online()]);
    const sent = await alice.e.m.sendFile('bob', sourceFile(randomBytes(8 * 1024 * 1024)));
    await bob.e.until(() => (incoming(bob.e, 'alice', sent.key)?.file?.bytesDone ?? 0) > 0);
    await alice.e.close();
    await bob.e.close();
    engines.length = 0;
    const [part] = readdirSync(bob.partial);
    expect(part).toMatch(/\.part$/);
    const old = (Date.now() - PARTIAL_EXPIRY_MS - 60_000) / 1000;
    utimesSync(join(bob.partial, part!), old, old);

    const again = engine('bob', { profileDir: bobProfile });
    const aliceAgain = engine('alice', { profileDir: aliceProfile });
    expect(incoming(again.e, 'alice', sent.key)?.file).toMatchObject({
      state: 'failed',
      reason: { code: 'expired' },
    });
    expect(readdirSync(again.partial)).toEqual([]);
    await aliceAgain.e.online();
    await aliceAgain.e.until(() => aliceAgain.e.m.message(sent.key)?.file?.state === 'failed');
  });
});
