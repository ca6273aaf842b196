// Files at scale, with every engine in its own process as users run it: a 200 MiB file over
// a lossy, bit-flipping channel; a 1 GiB file with the peak memory of each engine recorded;
// and a transfer that survives kill -9 of the sender, then of the receiver, then a restart
// of the relay, without starting over. Timings and memory are printed with the results.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineProcess } from './helpers/engine-process.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

const MiB = 1024 * 1024;
const MEMORY_LIMIT = 250 * 1000 * 1000;

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A temporary directory, deleted after the test (files here are hundreds of MiB). */
function scratch(prefix: string): string {
  const dir = tempDir(prefix);
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function relay(opts: { dataDir?: string; port?: number } = {}): Promise<RelayProcess> {
  const r = await startRelay(['--log-level', 'warn'], {
    dataDir: opts.dataDir ?? scratch('strata-relay-'),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
  });
  cleanup.push(() => r.stop('SIGKILL'));
  return r;
}

function engine(
  url: string,
  user: string,
  profileDir: string,
  downloadsDir = scratch(`strata-${user}-downloads-`),
): EngineProcess {
  // Contacts, and files of any size download by themselves here.
  const p = new EngineProcess(
    profileDir,
    url,
    user,
    {},
    { downloadsDir, accept: ['alice', 'bob'], autoDownloadBytes: 8 * 1024 ** 3 },
  );
  cleanup.push(() => p.kill());
  return p;
}

/**
 * Writes `size` bytes of incompressible content: one random MiB repeated, each copy stamped
 * with its block number so that no two blocks are alike. Returns the path and its SHA-256.
 */
async function bigFile(size: number): Promise<{ path: string; sha256: string }> {
  const path = join(scratch('strata-src-'), `payload-${size}.bin`);
  const base = randomBytes(MiB);
  const hash = createHash('sha256');
  const fh = await open(path, 'w');
  try {
    for (let offset = 0, block = 0; offset < size; offset += MiB, block++) {
      const chunk = Buffer.from(base.subarray(0, Math.min(MiB, size - offset)));
      for (let at = 0; at + 4 <= chunk.length; at += 64 * 1024) chunk.writeUInt32BE(block, at);
      hash.update(chunk);
      await fh.write(chunk);
    }
  } finally {
    await fh.close();
  }
  return { path, sha256: hash.digest('hex') };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/**
 * Waits until the receiver shows the file as received (verified and saved); its path. Fails
 * at once, with the reason, if either end fails the transfer.
 */
async function received(p: EngineProcess, key: string, sender: EngineProcess): Promise<string> {
  let failed: (e: Error) => void = () => {};
  const senderFailed = new Promise<never>((_, reject) => (failed = reject));
  const watch = sender.until(() => {
    const f = sender.file(key);
    if (f?.state === 'failed') failed(new Error(`the sender failed the file: ${f.error}`));
    return f?.state === 'failed' || p.file(key)?.state === 'done';
  });
  void watch.catch(() => {}); // the sender may be killed and replaced meanwhile
  await Promise.race([
    senderFailed,
    p.until(() => {
      const f = p.file(key);
      if (f?.state === 'failed') throw new Error(`the file failed at the receiver: ${f.error}`);
      return f?.state === 'done';
    }),
  ]);
  return p.file(key)!.path!;
}

/**
 * Alice and Bob, each in a process of their own, and a file from her to him; resolves once
 * it is delivered, with how long it took to be saved (seconds).
 */
async function transfer(r: RelayProcess, source: string) {
  const alice = engine(r.url, 'alice', scratch('strata-alice-'));
  const bob = engine(r.url, 'bob', scratch('strata-bob-'));
  await Promise.all([alice.online(), bob.online()]);
  const t0 = performance.now();
  const key = await alice.sendFile('bob', source);
  const path = await received(bob, key, alice);
  const took = seconds(t0);
  await alice.until(() => alice.status(key) === 'delivered');
  return { alice, bob, path, took };
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

describe('files at scale, engines in their own processes', () => {
  it('a 200 MiB file crosses loss 2%, ber 10% and hamming74 byte-identical', async () => {
    const size = 200 * MiB;
    const r = await relay();
    await r.admin({ loss: 0.02, ber: 0.1, code: 'hamming74', seed: 5 });
    const src = await bigFile(size);
    const { alice, path, took } = await transfer(r, src.path);
    expect(await sha256Of(path)).toBe(src.sha256);
    const stats = await alice.stats('bob');
    console.log(
      `200 MiB over loss 2%/ber 10%/hamming74: ${took} s, ${mb(size / Number(took))} MB/s; ` +
        `sent ${mb(stats.bytesSent)} MB payload (${(stats.bytesSent / size).toFixed(3)}x), ` +
        `${stats.retransmissions} retransmissions`,
    );
    expect(stats.retransmissions).toBeGreaterThan(0);
  }, 600_000);

  it('a 1 GiB file crosses a clean channel with each engine under 250 MB of memory', async () => {
    const size = 1024 * MiB;
    const r = await relay();
    const src = await bigFile(size);
    const { alice, bob, path, took } = await transfer(r, src.path);
    const [a, b] = await Promise.all([alice.memory(), bob.memory()]);
    console.log(
      `1 GiB clean: ${took} s (hash + transfer + verify), ${mb(size / Number(took))} MB/s; ` +
        `peak RSS sender ${mb(a.peak)} MB (now ${mb(a.rss)}), receiver ${mb(b.peak)} MB (now ${mb(b.rss)})`,
    );
    expect(await sha256Of(path)).toBe(src.sha256);
    expect(a.peak).toBeLessThan(MEMORY_LIMIT);
    expect(b.peak).toBeLessThan(MEMORY_LIMIT);
  }, 600_000);

  it('survives kill -9 of the sender, then the receiver, then a relay restart, without starting over', async () => {
    const size = 256 * MiB;
    const relayDir = scratch('strata-relay-');
    const r = await relay({ dataDir: relayDir });
    const src = await bigFile(size);
    const aliceDir = scratch('strata-alice-');
    const bobDir = scratch('strata-bob-');
    const downloads = scratch('strata-bob-downloads-');
    let alice = engine(r.url, 'alice', aliceDir);
    let bob = engine(r.url, 'bob', bobDir, downloads);
    await Promise.all([alice.online(), bob.online()]);
    const t0 = performance.now();
    const key = await alice.sendFile('bob', src.path);
    const progress = (p: EngineProcess) => (p.file(key)?.bytesDone ?? 0) / size;

    // 1. The sender, at about 40% acknowledged.
    await alice.until(() => progress(alice) >= 0.4);
    const firstRun = (await alice.stats('bob')).bytesSent;
    const killedAt = progress(alice);
    await alice.kill();
    alice = engine(r.url, 'alice', aliceDir);
    await alice.online();

    // 2. The receiver, once the restarted sender has moved it on.
    const bobBefore = progress(bob);
    await bob.until(() => progress(bob) >= Math.max(bobBefore, killedAt) + 0.15);
    const bobKilledAt = progress(bob);
    await bob.kill();
    bob = engine(r.url, 'bob', bobDir, downloads);
    await bob.online();

    // 3. The relay, stopped and started again on the same port and data.
    await bob.until(() => progress(bob) >= bobKilledAt + 0.1 || bob.file(key)?.state === 'done');
    const relayAt = progress(bob);
    await r.stop('SIGTERM');
    const restarted = await relay({ dataDir: relayDir, port: r.port });
    expect(restarted.url).toBe(r.url);

    const path = await received(bob, key, alice);
    await alice.until(() => alice.status(key) === 'delivered');
    const secondRun = (await alice.stats('bob')).bytesSent;
    const total = firstRun + secondRun;
    console.log(
      `256 MiB with restarts: ${seconds(t0)} s; sender killed at ${(killedAt * 100).toFixed(0)}%, ` +
        `receiver at ${(bobKilledAt * 100).toFixed(0)}%, relay at ${(relayAt * 100).toFixed(0)}%; ` +
        `sender payload bytes ${mb(firstRun)} + ${mb(secondRun)} = ${mb(total)} MB ` +
        `(${(total / size).toFixed(3)}x the file)`,
    );
    expect(await sha256Of(path)).toBe(src.sha256);
    expect(total).toBeLessThan(size * 1.1);
  }, 600_000);
});
