// End-to-end encryption under kill -9: each side killed mid-conversation and mid-file over a
// channel that loses 10% of frames. Every message arrives once, opened, in order, and the
// file whole: no ratchet step is ever lost or taken twice (the Signal stores commit in the
// transaction of the message they concern, src/core/crypto/stores.ts).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Messenger } from '../src/core/messenger.ts';
import { EngineProcess } from './helpers/engine-process.ts';
import { TestEngine } from './helpers/engine.ts';
import { startRelay, tempDir } from './helpers/relay-process.ts';

const N = 200;
const texts = Array.from({ length: N }, (_, i) => `sealed ${i} ${'·'.repeat(100)}`);
const MiB = 1024 * 1024;

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function engineProcess(url: string, user: string, profileDir: string, downloadsDir: string) {
  // Alice and bob are contacts: bob's files download by themselves.
  const p = new EngineProcess(
    profileDir,
    url,
    user,
    {},
    {
      downloadsDir,
      accept: [user === 'bob' ? 'alice' : 'bob'],
    },
  );
  cleanup.push(() => p.kill());
  return p;
}

/** Bytes of the file `key` written at `p` so far (from its events). */
const done = (p: EngineProcess, key: string) => p.file(key)?.bytesDone ?? 0;

describe('kill -9 of either side, loss 10%', () => {
  it('200 messages and a file arrive once, opened, in order', async () => {
    // Slow enough that "mid-file" lasts long enough to aim at.
    const r = await startRelay(['--loss', '0.1', '--seed', '7', '--rate', '1500000']);
    cleanup.push(() => r.stop('SIGKILL'));
    const aliceDir = tempDir('strata-alice-');
    const bobDir = tempDir('strata-bob-');
    const downloads = tempDir('strata-bob-downloads-');
    const source = join(tempDir('strata-src-'), 'sealed.bin');
    const content = randomBytes(6 * MiB);
    writeFileSync(source, content);

    let alice = engineProcess(r.url, 'alice', aliceDir, tempDir());
    let bob = engineProcess(r.url, 'bob', bobDir, downloads);
    await Promise.all([alice.online(), bob.online()]);
    const key = await alice.sendFile('bob', source);
    await alice.send('bob', texts.slice(0, N / 2));
    // The receiver dies with the file under way and the first half arriving.
    await bob.until(() => done(bob, key) > MiB);
    await bob.kill();
    expect(done(bob, key)).toBeLessThan(content.length);
    // The second half is sealed while bob is away.
    await alice.send('bob', texts.slice(N / 2));
    bob = engineProcess(r.url, 'bob', bobDir, downloads);
    await bob.until(() => done(bob, key) > 3 * MiB);
    // The sender dies mid-file, with what it sealed and sent recorded or not.
    await alice.kill();
    alice = engineProcess(r.url, 'alice', aliceDir, tempDir());
    await bob.until(() => bob.file(key)?.state === 'done');
    await alice.until(() => alice.status(key) === 'delivered');
    // And every text, opened: counted in bob's profile as his events come (a reader beside
    // the running engine).
    const profile = new Database(join(bobDir, 'strata.db'), { readonly: true });
    const opened = profile.prepare(
      `SELECT count(*) AS n FROM messages
        WHERE direction = 'in' AND body IS NOT NULL AND crypto IS NULL AND hidden = 0`,
    );
    try {
      // The texts and the file.
      await bob.until(() => (opened.get() as { n: number }).n >= N + 1);
    } finally {
      profile.close();
    }
    await bob.stop();

    const m = Messenger.open({ profileDir: bobDir, relayUrl: 'ws://127.0.0.1:9', user: 'bob' });
    try {
      const e = new TestEngine(m);
      const received = e.conversation('alice').filter((v) => v.direction === 'in');
      const got = received.flatMap((v) => (v.text === null ? [] : [v.text]));
      expect(got).toEqual(texts);
      expect(received.filter((v) => v.unreadable !== undefined)).toEqual([]);
      const file = received.find((v) => v.file !== null)!.file!;
      expect(createHash('sha256').update(readFileSync(file.path!)).digest('hex')).toBe(
        createHash('sha256').update(content).digest('hex'),
      );
    } finally {
      await m.close();
    }
  }, 300_000);
});
