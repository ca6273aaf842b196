// Abuse limits of the relay, tried against the real relay process: per user (frames and
// bytes across its devices), per source address (new names, connections, greetings), and
// the HTTP server's own timeouts. docs/relay.md, section 9.
import { afterEach, describe, expect, it } from 'vitest';
import { connect as tcpConnect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { decodeFrame, encodeFrame, type Frame } from '../src/shared/protocol/index.ts';
import { TestClient, bytesOf } from './helpers/client.ts';
import { rawAccounts } from '../src/node/raw-accounts.ts';
import { startRelay, type RelayProcess } from './helpers/relay-process.ts';

const relays: RelayProcess[] = [];
const clients: TestClient[] = [];
const raw: (WebSocket | Socket)[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const w of raw.splice(0)) {
    if (w instanceof WebSocket) w.terminate();
    else w.destroy();
  }
  for (const r of relays.splice(0)) await r.stop();
});

async function relayWith(args: string[]): Promise<RelayProcess> {
  const r = await startRelay(args);
  relays.push(r);
  return r;
}

async function connect(
  r: RelayProcess,
  user: string,
  device = 1,
  localAddress?: string,
): Promise<TestClient> {
  const c = await TestClient.connect(r.url, user, device, localAddress ? { localAddress } : {});
  clients.push(c);
  return c;
}

function isError(code: string) {
  return (f: Frame) => f.type === 'error' && f.code === code;
}

async function rejected(r: RelayProcess, reason: string): Promise<number> {
  const stats = await r.stats();
  return (stats.frames_rejected as Record<string, number>)[reason] ?? 0;
}

async function refusedConnections(r: RelayProcess, reason: string): Promise<number> {
  const stats = await r.stats();
  return (stats.connections_refused as Record<string, number>)[reason] ?? 0;
}

/**
 * One connection from `localAddress`, as an attacker would open it: says hello as `name`
 * (unless `hello` is false). Resolves once the relay has answered: `welcome`, `open` (a
 * WebSocket, no hello sent) or `refused` (an HTTP error, a reset, a close).
 */
function attempt(
  r: RelayProcess,
  name: string,
  localAddress: string,
  hello = true,
): Promise<'welcome' | 'open' | 'refused'> {
  const ws = new WebSocket(r.url, { perMessageDeflate: false, localAddress });
  raw.push(ws);
  return new Promise((resolve) => {
    ws.on('open', () => {
      if (!hello) resolve('open');
    });
    ws.on('message', (data: Buffer) => {
      const d = decodeFrame(new Uint8Array(data));
      // The relay's first frame is its challenge: the hello answers it.
      if (d.ok && d.frame.type === 'challenge' && hello) {
        const h = rawAccounts.hello(name, 1, d.frame);
        if (h) ws.send(encodeFrame(h));
      }
      if (d.ok && d.frame.type === 'welcome') resolve('welcome');
    });
    ws.on('unexpected-response', () => resolve('refused'));
    ws.on('error', () => resolve('refused'));
    ws.on('close', () => resolve('refused'));
  });
}

function tally(outcomes: string[]): { welcome: number; open: number; refused: number } {
  const out = { welcome: 0, open: 0, refused: 0 } as Record<string, number> & {
    welcome: number;
    open: number;
    refused: number;
  };
  for (const o of outcomes) out[o] = (out[o] ?? 0) + 1;
  return out;
}

describe('frames and bytes per user', () => {
  it('holds all devices of one user to one frame budget, whatever each connection may send', async () => {
    const r = await relayWith(['--user-frames-per-sec', '40', '--max-frames-per-sec', '1000']);
    const bob = await connect(r, 'bob');
    const phone = await connect(r, 'alice', 1);
    const laptop = await connect(r, 'alice', 2);
    // Each device alone stays far within its connection's 1,000 frames/s; together they
    // send 100 at once, over the user's 40.
    for (let i = 0; i < 50; i++) {
      phone.send(phone.data('bob', 1 + i, bytesOf('p')));
      laptop.send(laptop.data('bob', 100 + i, bytesOf('l')));
    }
    await Promise.all([phone.flushed(), laptop.flushed()]);
    await bob.flushed();
    const refused = await rejected(r, 'user-frame-rate');
    expect(refused).toBeGreaterThanOrEqual(50);
    // What passed is what the budget allows (40, and what refilled meanwhile), not 100.
    expect(bob.dataFrames().length).toBe(100 - refused);
    await Promise.race([
      phone.waitFor(isError('rateLimited')),
      laptop.waitFor(isError('rateLimited')),
    ]);
    // Another user is not touched by alice's budget.
    const carol = await connect(r, 'carol');
    carol.send(carol.data('bob', 7, bytesOf('hi')));
    await bob.until(() => bob.dataFrames().some((f) => f.from === 'carol'));
  });

  it('holds one user to a byte budget across its devices', async () => {
    const r = await relayWith(['--user-bytes-per-sec', '200000']);
    const bob = await connect(r, 'bob');
    const phone = await connect(r, 'alice', 1);
    const laptop = await connect(r, 'alice', 2);
    const big = new Uint8Array(60_000);
    for (let i = 0; i < 4; i++) {
      phone.send(phone.data('bob', 1 + i, big));
      laptop.send(laptop.data('bob', 10 + i, big));
    }
    await Promise.all([phone.flushed(), laptop.flushed()]);
    await bob.flushed();
    // 480,000 bytes sent against 200,000 a second: at most four frames (and one refilled).
    expect(bob.dataFrames().length).toBeLessThanOrEqual(4);
    expect(await rejected(r, 'user-byte-rate')).toBe(8 - bob.dataFrames().length);
  });
});

describe('new names per address', () => {
  it('lets one address bring only so many names never seen before, but known names still come', async () => {
    const r = await relayWith(['--max-new-names-per-hour', '3']);
    for (const name of ['n1', 'n2', 'n3']) await connect(r, name, 1, '127.0.0.3');
    const fourth = await TestClient.open(r.url, 'n4', 1, { localAddress: '127.0.0.3' });
    clients.push(fourth);
    fourth.send(rawAccounts.hello('n4', 1, await fourth.challenge())!);
    await fourth.waitFor(isError('rateLimited'));
    expect((await fourth.whenClosed()).code).toBe(1008);
    expect(fourth.frames().some((f) => f.type === 'welcome')).toBe(false);
    expect(await rejected(r, 'new-name-limit')).toBe(1);
    // A name the relay knows is no new name: it comes back from the same address.
    for (const c of clients.splice(0, 3)) await c.close();
    await connect(r, 'n1', 1, '127.0.0.3');
    // Another address has its own allowance.
    await connect(r, 'n5', 1, '127.0.0.4');
  });
});

describe('connections per source address', () => {
  it('400 sockets from 127.0.0.2 against --max-connections 200 do not keep a client on 127.0.0.1 out', async () => {
    const r = await relayWith([
      '--max-connections',
      '200',
      // Only the share of the relay is tried here: names, attempt rates and greetings (each
      // tried on its own below) are let through, so that the outcome does not depend on how
      // many hellos the relay had answered when the burst came.
      '--max-new-names-per-hour',
      '100000',
      '--connects-per-sec-per-address',
      '100000',
      '--max-greeting-per-address',
      '100000',
    ]);
    const first = tally(
      await Promise.all(Array.from({ length: 400 }, (_, i) => attempt(r, `bot${i}`, '127.0.0.2'))),
    );
    // One address holds at most half the relay.
    expect(first).toEqual({ welcome: 100, open: 0, refused: 300 });
    // A second heavy address gets in only until the relay is three quarters full.
    const second = tally(
      await Promise.all(
        Array.from({ length: 400 }, (_, i) => attempt(r, `bot-b${i}`, '127.0.0.3')),
      ),
    );
    expect(second.welcome).toBeLessThanOrEqual(50);
    expect(second.welcome).toBeGreaterThanOrEqual(40);
    // Both still hold their connections, and a client on 127.0.0.1 gets in and is served.
    const alice = await connect(r, 'alice', 1, '127.0.0.1');
    const bob = await connect(r, 'bob', 1, '127.0.0.1');
    alice.send(alice.data('bob', 1, bytesOf('through the crowd')));
    await bob.waitFor((f) => f.type === 'data');
    // Each refusal is counted, by the limit that made it.
    expect(await refusedConnections(r, 'address-connections')).toBe(300);
    expect(await refusedConnections(r, 'address-share')).toBe(400 - second.welcome);
  });

  it('holds connections that have not said hello to --max-greeting-per-address', async () => {
    const r = await relayWith(['--max-greeting-per-address', '10']);
    const silent = tally(
      await Promise.all(Array.from({ length: 30 }, () => attempt(r, '', '127.0.0.2', false))),
    );
    expect(silent).toEqual({ welcome: 0, open: 10, refused: 20 });
    expect(await refusedConnections(r, 'address-greeting')).toBe(20);
    // Another address is not affected.
    await connect(r, 'carol', 1, '127.0.0.5');
  });

  it('refuses an address that opens connections faster than --connects-per-sec-per-address', async () => {
    const r = await relayWith(['--connects-per-sec-per-address', '5']);
    // A burst of four seconds' worth (20) passes; the rest of 60 at once does not.
    const burst = tally(
      await Promise.all(Array.from({ length: 60 }, (_, i) => attempt(r, `b${i}`, '127.0.0.2'))),
    );
    expect(burst.refused).toBeGreaterThanOrEqual(35);
    expect(burst.welcome).toBeGreaterThanOrEqual(20);
    expect(await refusedConnections(r, 'address-rate')).toBe(burst.refused);
    await connect(r, 'dave', 1, '127.0.0.1');
  });
});

describe('connections of the relay', () => {
  it('holds no more TCP connections than --max-connections and 64 for HTTP, from any addresses', async () => {
    const r = await relayWith(['--max-connections', '8', '--log-level', 'debug']);
    // Twenty addresses with four silent sockets each (an address may hold half of 8): 80
    // sockets against 8 + 64.
    let refused = 0;
    let wake = () => {};
    const allRefused = new Promise<void>((resolve) => (wake = resolve));
    for (let host = 10; host < 30; host++) {
      for (let i = 0; i < 4; i++) {
        const socket = tcpConnect({
          host: '127.0.0.1',
          port: r.port,
          localAddress: `127.0.1.${host}`,
        });
        raw.push(socket);
        socket.on('error', () => {});
        socket.once('data', (d: Buffer) => {
          if (d.toString().startsWith('HTTP/1.1 503') && ++refused === 8) wake();
        });
        await new Promise((resolve) => socket.once('connect', resolve));
      }
    }
    await allRefused;
    // (The relay is full for HTTP too now: its log tells why, not /api/stats.)
    await r.waitForLog(/refusing a connection from 127\.0\.1\.\d+: relay-full/, 8);
    expect(r.log.filter((l) => /: relay-full/.test(l))).toHaveLength(8);
  });
});

describe('slow HTTP clients', () => {
  it('closes 200 slowloris sockets within the header timeout, and serves others meanwhile', async () => {
    // The limits per address are lifted so that the header timeout is what closes them.
    const r = await relayWith([
      '--max-greeting-per-address',
      '1000',
      '--max-connections-per-address',
      '1000',
      '--connects-per-sec-per-address',
      '100000',
    ]);
    const opened = performance.now();
    const closedAfter: Promise<number>[] = [];
    const dribbles: ReturnType<typeof setInterval>[] = [];
    for (let i = 0; i < 200; i++) {
      const socket = tcpConnect({ host: '127.0.0.1', port: r.port, localAddress: '127.0.0.2' });
      raw.push(socket);
      socket.on('error', () => {});
      closedAfter.push(
        new Promise((resolve) => socket.once('close', () => resolve(performance.now() - opened))),
      );
      if (i % 2 === 0) continue; // half send nothing at all
      // The other half send a request header a byte at a time, never finishing it.
      const header = 'GET / HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nX-Slow: ';
      let at = 0;
      socket.once('connect', () => {
        dribbles.push(
          setInterval(() => {
            if (!socket.destroyed) socket.write(header[at++] ?? 'a');
          }, 200),
        );
      });
    }
    // While they are held, a client connects and is served.
    const erin = await connect(r, 'erin', 1, '127.0.0.1');
    const frank = await connect(r, 'frank', 1, '127.0.0.1');
    erin.send(erin.data('frank', 1, bytesOf('past the slow ones')));
    await frank.waitFor((f) => f.type === 'data');
    const times = await Promise.all(closedAfter);
    for (const d of dribbles) clearInterval(d);
    // The default header timeout is 10 s: all of them are gone well before 45 s.
    expect(Math.max(...times)).toBeLessThan(20_000);
    expect(await refusedConnections(r, 'header-timeout')).toBe(200);
  }, 60_000);
});

describe('quotas per sender', () => {
  it('six fake recipients do not fill the store for others', async () => {
    const r = await relayWith([
      '--store-max-bytes',
      '200000',
      '--store-max-total-bytes',
      '1000000',
      '--store-max-sender-bytes',
      '300000',
    ]);
    const fakes = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'];
    // Every recipient is a known name, away now.
    for (const name of [...fakes, 'yara']) await (await connect(r, name)).close();
    const x = await connect(r, 'xavier');
    const payload = new Uint8Array(20_000);
    let id = 1;
    // Within each recipient's quota (8 frames of 20 kB against 200 kB), not within one
    // sender's (300 kB).
    for (const to of fakes) for (let i = 0; i < 8; i++) x.send(x.data(to, id++, payload));
    await x.waitFor(isError('quotaExceeded'));
    await x.flushed();
    // Another sender's frames for another user who is away are still held.
    const y = await connect(r, 'yves');
    for (let i = 0; i < 5; i++) y.send(y.data('yara', 1000 + i, payload));
    // Custody answers every frame it took: held, or refused.
    await y.waitFor((f) => f.type === 'held' || f.type === 'error');
    expect(y.frames().filter((f) => f.type === 'error')).toEqual([]);
    const yara = await connect(r, 'yara');
    await yara.until(() => yara.dataFrames().length === 5, 'every frame yves sent');
    // xavier was stopped by its own quota, not by a full store.
    const texts = x.frames().flatMap((f) => (f.type === 'error' ? [f.text] : []));
    expect(texts.every((t) => /from xavier|from this sender/.test(t))).toBe(true);
    expect(await r.stats()).toMatchObject({
      custody_refused: { 'sender-quota': expect.any(Number) },
    });
  });
});
