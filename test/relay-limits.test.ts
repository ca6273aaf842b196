// Abuse limits of the relay, tried against the real relay process: per user (frames and
// bytes across its devices), per source address (new names, connections, greetings), and
// the HTTP server's own timeouts. docs/relay.md, "Abuse limits".
import { afterEach, describe, expect, it } from 'vitest';
import type { Frame } from '../src/shared/protocol/index.ts';
import { TestClient, bytesOf, helloFrame } from './helpers/client.ts';
import { startRelay, type RelayProcess } from './helpers/relay-process.ts';

const relays: RelayProcess[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
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
    fourth.send(helloFrame('n4', 1));
    await fourth.waitFor(isError('rateLimited'));
    expect((await fourth.whenClosed()).code).toBe(1008);
    expect(fourth.frames().some((f) => f.type === 'welcome')).toBe(false);
    expect(await rejected(r, 'new-name-limit')).toBe(1);
    // A name the relay knows is no new name: it comes back from the same address.
    for (const c of clients.splice(0, 3)) await c.close();
    await connect(r, 'n1', 2, '127.0.0.3');
    // Another address has its own allowance.
    await connect(r, 'n4', 1, '127.0.0.4');
  });
});
