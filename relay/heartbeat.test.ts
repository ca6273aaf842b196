// The relay's heartbeat against real WebSocket clients on loopback, with a 50 ms interval:
// a client that answers (with pongs, or with frames of its own) stays; one that answers
// nothing is dropped, and counted.
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { startHeartbeat } from './heartbeat.ts';
import { createLogger } from './log.ts';
import { Metrics } from './metrics.ts';

const INTERVAL_MS = 50;

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

async function server() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const metrics = new Metrics();
  const connections = new Set<{ ws: WebSocket; label: string }>();
  /** The server's side of each connection, in the order they came. */
  const accepted: WebSocket[] = [];
  wss.on('connection', (ws) => {
    accepted.push(ws);
    const c = { ws, label: 'a client' };
    connections.add(c);
    ws.once('close', () => connections.delete(c));
  });
  const timers = startHeartbeat(connections, INTERVAL_MS, createLogger('error'), metrics);
  const clients: WebSocket[] = [];
  cleanup = async () => {
    for (const t of timers) clearInterval(t);
    for (const c of clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
  const connect = async (autoPong: boolean) => {
    const ws = new WebSocket(url, { autoPong });
    clients.push(ws);
    await new Promise((resolve) => ws.once('open', resolve));
    // The server's side is accepted by the time the client's opens; pause it in the same turn.
    return { ws, server: accepted[clients.length - 1]! };
  };
  return { metrics, connect };
}

/** Resolves once `ws` has been pinged `n` times. */
function pinged(ws: WebSocket, n: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    ws.on('ping', () => {
      if (++seen === n) resolve();
    });
  });
}

it('keeps connections that answer pings, or that send frames instead, for many intervals', async () => {
  const { metrics, connect } = await server();
  const ponging = (await connect(true)).ws;
  const talking = (await connect(false)).ws;
  talking.on('ping', () => talking.send('still here'));
  await Promise.all([pinged(ponging, 6), pinged(talking, 6)]);
  expect(ponging.readyState).toBe(WebSocket.OPEN);
  expect(talking.readyState).toBe(WebSocket.OPEN);
  expect(metrics.value('heartbeat_timeouts')).toBe(0);
});

it('drops a connection that answers nothing, without a close handshake', async () => {
  const { metrics, connect } = await server();
  const silent = (await connect(false)).ws;
  const code = await new Promise<number>((resolve) => silent.once('close', resolve));
  expect(code).toBe(1006);
  expect(metrics.value('heartbeat_timeouts')).toBe(1);
});

it('does not drop a connection while the relay is not reading it', async () => {
  const { metrics, connect } = await server();
  const clock = (await connect(true)).ws;
  const { ws: silent, server: paused } = await connect(false);
  paused.pause();
  await pinged(clock, 5);
  expect(silent.readyState).toBe(WebSocket.OPEN);
  // Read again and still silent: dropped.
  paused.resume();
  await new Promise((resolve) => silent.once('close', resolve));
  expect(metrics.value('heartbeat_timeouts')).toBe(1);
});
