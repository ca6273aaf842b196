// Congestion control against the real relay when the path changes under a transfer: the
// relay's delay raised through its admin API while a file flows.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestEngine } from './helpers/engine.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

let relay: RelayProcess;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  await relay.stop();
});

const SEGMENT = 1000;
/** The channel's rate towards each connection: 1,000 segments per second. */
const RATE = 1_000_000;

describe('a path whose delay is raised at run time', () => {
  it('grows the window to the new pipe instead of holding it at its floor', async () => {
    await relay.admin({ delayMs: 10, rateBytesPerSec: RATE });
    const alice = TestEngine.start(relay.url, 'alice', { settings: { segmentSize: SEGMENT } });
    const bob = TestEngine.start(relay.url, 'bob', { settings: { segmentSize: SEGMENT } }, [
      'alice',
    ]);
    try {
      await Promise.all([alice.online(), bob.online()]);
      // Far more than the test needs: the file is still flowing when it ends.
      const path = join(tempDir('strata-path-change-'), 'big.bin');
      writeFileSync(path, randomBytes(48 * 1024 * 1024));
      const sent = await alice.m.sendFile('bob', path);
      const done = () => alice.m.message(sent.key)?.file?.bytesDone ?? 0;
      const window = () => alice.m.stats('bob').windowBytes;
      const target = 0.8 * RATE * 0.2;
      // Settled on the short path: a window far below what the long one will need.
      await alice.until(() => done() > 1024 * 1024 && window() < target / 2);
      const before = window();
      // Each way: the round trip goes from about 20 ms to about 200 ms.
      await relay.admin({ delayMs: 100 });
      // The window the new pipe needs: 1,000 segments per second over 200 ms. A window at
      // its floor (32 KiB) carries 160 segments per second there.
      await alice.until(() => window() >= target);
      expect(window()).toBeGreaterThan(2 * before);
      expect(alice.m.message(sent.key)?.file?.state).toBe('sending');
    } finally {
      await alice.close();
      await bob.close();
    }
  });
});
