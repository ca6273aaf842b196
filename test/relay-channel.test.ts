// The noisy channel, measured end to end through the real relay process.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultChannelConfig } from '../relay/channel/config.ts';
import type { Frame } from '../src/shared/protocol/index.ts';
import { seededRandom } from '../src/shared/random.ts';
import { TestClient, bytesOf } from './helpers/client.ts';
import { ADMIN_TOKEN, startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

// Every setting at its default (the seed aside), so that tests start from a clean channel.
const { seed: _seed, ...CLEAN } = defaultChannelConfig(0);

let relay: RelayProcess;
let alice: TestClient;
let bob: TestClient;
let nextId = 1;

beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  await relay.stop();
});
afterEach(async () => {
  await alice?.close();
  await bob?.close();
});

/** Fresh connections and a clean channel with `patch` applied, so tests do not interact. */
async function setup(patch: Record<string, unknown>): Promise<void> {
  await relay.admin({ ...CLEAN, ...patch });
  bob = await TestClient.connect(relay.url, 'bob', 1);
  alice = await TestClient.connect(relay.url, 'alice', 1);
}

function randomPayload(rand: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => (rand() * 256) | 0);
}

function counter(stats: Record<string, unknown>, name: string, label?: string): number {
  const v = stats[name];
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object') {
    const rec = v as Record<string, number>;
    return label === undefined ? Object.values(rec).reduce((a, b) => a + b, 0) : (rec[label] ?? 0);
  }
  return 0;
}

/** Sends `n` data frames alice -> bob and returns their ids and payloads. */
function sendMany(n: number, size: number, seed: number): Map<number, Uint8Array> {
  const rand = seededRandom(seed);
  const sent = new Map<number, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const id = nextId++;
    const payload = randomPayload(rand, size);
    sent.set(id, payload);
    alice.send(alice.data('bob', id, payload));
  }
  return sent;
}

describe('loss', () => {
  /** Sends 10,000 frames through a channel losing R and returns the ids that were lost. */
  async function lostIds(seed: number, loss: number): Promise<Set<number>> {
    await setup({ loss, seed });
    const before = counter(await relay.stats(), 'channel_lost');
    const sent = sendMany(10_000, 16, 1);
    await alice.flushed();
    const lost = counter(await relay.stats(), 'channel_lost') - before;
    await bob.until(() => bob.dataFrames().length === sent.size - lost, 'the surviving frames');
    const got = new Set(bob.dataFrames().map((f) => f.messageId));
    const missing = new Set([...sent.keys()].filter((id) => !got.has(id)));
    expect(missing.size).toBe(lost);
    // Ids differ between runs; positions within the run do not.
    const first = Math.min(...sent.keys());
    return new Set([...missing].map((id) => id - first));
  }

  it('loses R of 10,000 frames within statistical tolerance, reproducibly for a seed', async () => {
    const R = 0.1;
    const a = await lostIds(42, R);
    await alice.close();
    await bob.close();
    const b = await lostIds(42, R);
    // Binomial: sd = sqrt(n R (1 - R)) = 30 frames; allow 4 sd.
    const sd = Math.sqrt(10_000 * R * (1 - R));
    expect(Math.abs(a.size - 10_000 * R)).toBeLessThan(4 * sd);
    expect([...b].sort((x, y) => x - y)).toEqual([...a].sort((x, y) => x - y));
  });

  it('applies to acknowledgements too, but not to control frames', async () => {
    await setup({ loss: 1 });
    for (let i = 0; i < 20; i++) {
      alice.send({
        type: 'ack',
        from: 'alice',
        fromDevice: 1,
        to: 'bob',
        toDevice: 0,
        ackDelayMicros: 0,
        ranges: [[i, i]],
      });
    }
    alice.send(alice.typing('bob'));
    await bob.waitFor((f) => f.type === 'typing');
    await alice.flushed();
    expect(bob.frames().filter((f) => f.type === 'ack')).toHaveLength(0);
  });
});

describe('bit errors and codes', () => {
  for (const code of ['hamming74', 'hamming1511', 'cyclic74', 'cyclic1511']) {
    it(`${code}: single-bit errors at ber 10% deliver zero corrupted payloads`, async () => {
      // onUncorrectable: pass, so that any error the code failed to repair would reach bob.
      await setup({ ber: 0.1, code, onUncorrectable: 'pass', seed: 7 });
      const before = await relay.stats();
      const sent = sendMany(3000, 120, 2);
      await bob.until(
        () =>
          bob.received.filter((r) => !r.result.ok || r.result.frame.type === 'data').length ===
          sent.size,
        'every frame',
      );
      const after = await relay.stats();
      const damaged = bob.received.filter((r) => !r.result.ok);
      expect(damaged).toHaveLength(0);
      for (const f of bob.dataFrames()) expect(f.payload).toEqual(sent.get(f.messageId));
      const corrected = counter(after, 'channel_corrected') - counter(before, 'channel_corrected');
      // About 10% of 3000 frames take a hit; every hit is repaired.
      expect(corrected).toBeGreaterThan(200);
      expect(
        counter(after, 'channel_uncorrectable') - counter(before, 'channel_uncorrectable'),
      ).toBe(0);
    });
  }

  it('code none: corrupted frames passed on are rejected by the CRC at the receiver', async () => {
    await setup({ ber: 0.2, code: 'none', onUncorrectable: 'pass', seed: 9 });
    const before = await relay.stats();
    const sent = sendMany(2000, 120, 3);
    await bob.until(
      () => bob.received.filter((r) => r.raw.length > 100).length === sent.size,
      'every frame',
    );
    const after = await relay.stats();
    const damaged = bob.received.filter((r) => !r.result.ok);
    const passed =
      counter(after, 'channel_uncorrectable', 'pass') -
      counter(before, 'channel_uncorrectable', 'pass');
    expect(passed).toBeGreaterThan(300);
    expect(damaged).toHaveLength(passed);
    for (const d of damaged)
      expect(d.result.ok ? '' : d.result.error.kind).toMatch(/checksum|unsupported-version/);
    for (const f of bob.dataFrames()) expect(f.payload).toEqual(sent.get(f.messageId));
  });

  it('code none with drop: damaged frames never reach the receiver', async () => {
    await setup({ ber: 0.2, code: 'none', onUncorrectable: 'drop', seed: 11 });
    const before = await relay.stats();
    const sent = sendMany(1000, 64, 4);
    await alice.flushed();
    const after = await relay.stats();
    const dropped =
      counter(after, 'channel_uncorrectable', 'drop') -
      counter(before, 'channel_uncorrectable', 'drop');
    expect(dropped).toBeGreaterThan(100);
    await bob.until(() => bob.dataFrames().length === sent.size - dropped, 'the undamaged frames');
    expect(bob.received.every((r) => r.result.ok)).toBe(true);
  });
});

describe('delay, duplication, reordering, partitions', () => {
  it('delays frames by delayMs', async () => {
    await setup({ delayMs: 300 });
    const sentAt = performance.now();
    alice.send(alice.data('bob', nextId++, bytesOf('late')));
    await bob.until(() => bob.dataFrames().length === 1);
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(295);
  });

  it('hands a delayed frame to the new connection of a device that reconnected meanwhile', async () => {
    await setup({ delayMs: 1500 });
    alice.send(alice.data('bob', nextId++, bytesOf('while you were away')));
    await alice.flushed();
    await bob.close();
    bob = await TestClient.connect(relay.url, 'bob', 1);
    const f = await bob.waitFor((x: Frame) => x.type === 'data');
    expect(f.type === 'data' && new TextDecoder().decode(f.payload)).toBe('while you were away');
  });

  it('duplicates every frame at duplicate = 1', async () => {
    await setup({ duplicate: 1 });
    const sent = sendMany(50, 10, 5);
    await bob.until(() => bob.dataFrames().length === 100);
    const ids = bob.dataFrames().map((f) => f.messageId);
    for (const id of sent.keys()) expect(ids.filter((x) => x === id)).toHaveLength(2);
  });

  it('reorders frames but loses none', async () => {
    await setup({ reorder: 0.3, reorderDelayMs: 40, seed: 3 });
    const sent = sendMany(300, 10, 6);
    await bob.until(() => bob.dataFrames().length === 300);
    const ids = bob.dataFrames().map((f) => f.messageId);
    expect(new Set(ids)).toEqual(new Set(sent.keys()));
    expect(ids).not.toEqual([...sent.keys()]);
  });

  it('cuts two users apart for the length of a partition, and heals', async () => {
    await setup({ partitions: [{ a: 'alice', b: 'bob', durationMs: 600_000 }] });
    const carol = await TestClient.connect(relay.url, 'carol', 1);
    alice.send(alice.data('bob', nextId++, bytesOf('cut off')));
    carol.send(carol.data('bob', nextId++, bytesOf('through')));
    await bob.until(() => bob.dataFrames().length === 1);
    await alice.flushed();
    expect(bob.dataFrames()[0]!.from).toBe('carol');
    expect(counter(await relay.stats(), 'channel_partitioned')).toBeGreaterThanOrEqual(1);
    await relay.admin({ partitions: [] });
    alice.send(alice.data('bob', nextId++, bytesOf('healed')));
    await bob.until(() => bob.dataFrames().length === 2);
    await carol.close();
  });

  it('keeps frames held by a minute-long delay when the relay stops, and delivers them after', async () => {
    const dir = tempDir();
    const r = await startRelay(['--delay-ms', '60000'], { dataDir: dir });
    const b = await TestClient.connect(r.url, 'bob', 1);
    const a = await TestClient.connect(r.url, 'alice', 1);
    a.send(a.data('bob', 1, bytesOf('one minute')));
    await a.flushed();
    expect(counter(await r.stats(), 'channel_held_frames')).toBe(1);
    await a.close();
    await b.close();
    await r.stop('SIGTERM');
    const again = await startRelay([], { dataDir: dir });
    const b2 = await TestClient.connect(again.url, 'bob', 1);
    const f = await b2.waitFor((x: Frame) => x.type === 'data');
    expect(f.type === 'data' && new TextDecoder().decode(f.payload)).toBe('one minute');
    await b2.close();
    await again.stop();
  });
});

describe('admin API', () => {
  const put = (token: string | null, body: unknown, base = relay.http) =>
    fetch(`${base}/api/channel`, {
      method: 'PUT',
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      body: JSON.stringify(body),
    });

  it('refuses requests without the token or with a wrong one', async () => {
    const refused = await put(null, { loss: 0.5 });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'unauthorized' });
    expect((await put('wrong-token', { loss: 0.5 })).status).toBe(401);
    expect((await fetch(`${relay.http}/api/channel`)).status).toBe(401);
    const current = (await (
      await fetch(`${relay.http}/api/channel`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).json()) as { loss: number };
    expect(current.loss).not.toBe(0.5);
  });

  it('rejects invalid settings with every problem named', async () => {
    const res = await put(ADMIN_TOKEN, { loss: 2, code: 'reed-solomon', colour: 'blue' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; details: string[] };
    expect(body.code).toBe('invalidSettings');
    expect(body.details.join('\n')).toMatch(/loss/);
    expect(body.details.join('\n')).toMatch(/code/);
    expect(body.details.join('\n')).toMatch(/colour/);
  });
});
