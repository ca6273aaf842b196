// Bad input, floods and slow consumers: the relay answers, limits, and keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MAX_FRAME_BYTES, encodeFrame } from '../src/shared/protocol/index.ts';
import { TestClient, bytesOf } from './helpers/client.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

let relay: RelayProcess;
beforeAll(async () => {
  relay = await startRelay(['--send-buffer-bytes', String(1024 * 1024)]);
});
afterAll(async () => {
  await relay.stop();
});

function errors(c: TestClient, code?: string) {
  return c.frames().filter((f) => f.type === 'error' && (code === undefined || f.code === code));
}

describe('bad input', () => {
  it('answers garbage with error frames, then closes the connection with a reason', async () => {
    const c = await TestClient.connect(relay.url, 'mallory', 1);
    for (let i = 0; i < 5; i++)
      c.sendRaw(Uint8Array.from({ length: 40 }, (_, j) => (i * 31 + j * 7) & 0xff));
    await c.until(
      () => errors(c, 'malformed').length + errors(c, 'unsupportedVersion').length === 5,
    );
    for (let i = 0; i < 30; i++) c.sendRaw(new Uint8Array([1, 3, 0, 0]));
    const closed = await c.whenClosed();
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/too many invalid frames/);
    // One connection closed once, however many strikes were still in flight.
    expect((await relay.stats()).connections_closed_abuse).toBe(1);
  });

  it('refuses text messages, wrong versions and frames over the size limit', async () => {
    const c = await TestClient.connect(relay.url, 'oscar', 1);
    c.sendRaw('{"json": "is not the protocol"}');
    await c.until(() => errors(c, 'malformed').length === 1);
    const valid = encodeFrame(c.data('oscar', 1, bytesOf('x')));
    valid[0] = 9;
    c.sendRaw(valid);
    await c.until(() => errors(c, 'unsupportedVersion').length === 1);
    c.sendRaw(new Uint8Array(MAX_FRAME_BYTES + 1000));
    await c.until(() => errors(c, 'frameTooLarge').length === 1);
    // Still connected and still served.
    c.send(c.data('oscar', 2, bytesOf('to myself')));
    await c.until(() => errors(c).length === 3 && c.closed === null);
    await c.close();
  });

  it('keeps serving everyone else through all of it', async () => {
    const res = await fetch(`${relay.http}/healthz`);
    expect(res.status).toBe(200);
    const a = await TestClient.connect(relay.url, 'peggy', 1);
    const b = await TestClient.connect(relay.url, 'quinn', 1);
    a.send(a.data('quinn', 5, bytesOf('fine')));
    await b.waitFor((f) => f.type === 'data');
    await a.close();
    await b.close();
    expect(relay.proc.exitCode).toBeNull();
  });
});

describe('backpressure', () => {
  it('pauses a sender instead of buffering without bound for a recipient that does not read', async () => {
    const slow = await TestClient.connect(relay.url, 'slow', 1);
    const fast = await TestClient.connect(relay.url, 'fast', 1);
    // The slow client stops reading: its kernel buffers fill, then the relay's queue.
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const payload = new Uint8Array(60_000);
    let sent = 0;
    // Push until the relay says it paused us, or 400 MB. (Waiting for our own send buffer to
    // back up is not the same thing: on a loaded machine a relay that is merely slow does it.)
    let stats = await relay.stats();
    while (stats.backpressure_pauses === 0 && sent < 6500) {
      for (let i = 0; i < 50; i++, sent++) fast.send(fast.data('slow', 10_000 + sent, payload));
      await new Promise<void>((resolve) => setImmediate(resolve));
      stats = await relay.stats();
    }
    expect(stats.backpressure_pauses).toBeGreaterThanOrEqual(1);
    // The relay holds at most a few send buffers (1 MiB here) for the slow client.
    expect(stats.pending_bytes_max).toBeLessThanOrEqual(4 * 1024 * 1024);
    // Once the slow client reads again, everything arrives, in order.
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await slow.until(() => slow.dataFrames().length === sent, 'every frame');
    expect(slow.dataFrames().map((f) => f.messageId)).toEqual(
      Array.from({ length: sent }, (_, i) => 10_000 + i),
    );
    await slow.close();
    await fast.close();
  });
});

describe('HTTP', () => {
  it('serves /metrics in the Prometheus text format', async () => {
    const res = await fetch(`${relay.http}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const declared = new Map<string, string>();
    let samples = 0;
    for (const line of text.trimEnd().split('\n')) {
      if (/^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.test(line)) continue;
      let m: RegExpExecArray | null;
      if (
        (m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(
          line,
        ))
      ) {
        declared.set(m[1]!, m[2]!);
        continue;
      }
      m =
        /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(
          line,
        );
      expect(m, `not a valid sample line: ${line}`).not.toBeNull();
      expect(declared.has(m![1]!), `sample before its TYPE: ${line}`).toBe(true);
      if (declared.get(m![1]!) === 'counter') expect(m![1]).toMatch(/_total$/);
      samples++;
    }
    expect(samples).toBeGreaterThan(20);
    for (const name of [
      'strata_relay_frames_in_total',
      'strata_relay_channel_lost_total',
      'strata_relay_channel_bits_flipped_total',
      'strata_relay_channel_corrected_total',
      'strata_relay_channel_uncorrectable_total',
      'strata_relay_channel_duplicated_total',
      'strata_relay_channel_delayed_total',
      'strata_relay_offline_queued_total',
      'strata_relay_connections',
    ]) {
      expect(declared.has(name), name).toBe(true);
    }
  });

  it('answers health, stats, unknown paths and plain GET / clearly', async () => {
    expect(await (await fetch(`${relay.http}/healthz`)).json()).toMatchObject({ status: 'ok' });
    const stats = (await (await fetch(`${relay.http}/api/stats`)).json()) as Record<
      string,
      unknown
    >;
    expect(typeof stats.connections).toBe('number');
    const missing = await fetch(`${relay.http}/nope`);
    expect(missing.status).toBe(404);
    // Errors carry a code for programs (and translations) next to their English text.
    expect(await missing.json()).toEqual({ code: 'notFound', error: 'no such endpoint: /nope' });
    const wrongMethod = await fetch(`${relay.http}/metrics`, { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toMatchObject({ code: 'methodNotAllowed' });
    expect((await fetch(`${relay.http}/`)).status).toBe(426);
  });
});

describe('command line', () => {
  const main = fileURLToPath(new URL('../relay/main.ts', import.meta.url));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 30_000 });

  it('prints help', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: npm run relay/);
    expect(r.stdout).toMatch(/--data-dir/);
  });

  it('rejects bad flags with a clear message and exit code 2', () => {
    for (const [args, msg] of [
      [['--bogus'], /unknown option --bogus/],
      [['--port', 'eighty'], /--port must be an integer/],
      [['--loss', '2'], /loss must be a probability/],
      [['--code', 'turbo'], /code must be one of/],
      [['--port'], /--port needs a value/],
    ] as const) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('says so when the port is taken', () => {
    const r = run('--port', String(relay.port), '--data-dir', relay.dataDir + '-other');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot listen/);
  });
});

describe('logs', () => {
  it('writes one debug line per frame, naming what the channel did, and an info summary', async () => {
    const r = await startRelay([
      '--log-level',
      'debug',
      '--summary-interval',
      '1',
      '--ber',
      '1',
      '--code',
      'hamming74',
    ]);
    const bob = await TestClient.connect(r.url, 'bob', 1);
    const alice = await TestClient.connect(r.url, 'alice', 1);
    alice.send(alice.data('bob', 77, bytesOf('logged'), 2, 5));
    await bob.waitFor((f) => f.type === 'data');
    const line = await r.waitForLog(/DEBUG data alice\/1 -> bob\/\* msg=77 seg=3\/5/);
    expect(line).toMatch(/-> bob\/1 channel: 1 bits flipped, 1 codewords corrected/);
    const summary = await r.waitForLog(/INFO {2}summary .*corrected=1/);
    expect(summary).toMatch(/flipped=1/);
    await alice.close();
    await bob.close();
    await r.stop();
  });
});

describe('shutdown', () => {
  it('stops cleanly on SIGTERM with clients connected, and remembers when they were last seen', async () => {
    const dir = tempDir();
    const r = await startRelay([], { dataDir: dir });
    const a = await TestClient.connect(r.url, 'ursula', 1);
    const b = await TestClient.connect(r.url, 'victor', 1);
    // They share a conversation: each may see the other's presence, after a restart too.
    b.send(b.data('ursula', 1, bytesOf('hi')));
    await a.waitFor((f) => f.type === 'data');
    const before = Date.now();
    expect(await r.stop('SIGTERM')).toBe(0);
    expect((await a.whenClosed()).code).toBe(1001);
    await b.whenClosed();
    const again = await startRelay([], { dataDir: dir });
    // The same relay (its id kept in the data folder): victor's key still signs his hello.
    const c = await TestClient.connect(again.url, 'victor', 1);
    c.send({
      type: 'watch',
      from: 'victor',
      fromDevice: 1,
      to: '',
      toDevice: 0,
      kind: 'set',
      users: ['ursula'],
    });
    const snapshot = await c.waitFor((f) => f.type === 'presence' && f.kind === 'snapshot');
    const ursula =
      snapshot.type === 'presence' ? snapshot.entries.find((e) => e.user === 'ursula') : undefined;
    expect(ursula?.online).toBe(false);
    expect(ursula?.lastSeen).toBeGreaterThanOrEqual(before);
    await c.close();
    expect(await again.stop('SIGTERM')).toBe(0);
  });
});
