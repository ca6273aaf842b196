// The client's heartbeat against a stand-in relay on loopback that welcomes every hello and
// then answers pings, or answers nothing at all (as a relay behind a dead link looks).
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { MAX_FRAME_BYTES, encodeFrame } from '../shared/protocol/index.ts';
import { RelayConnection } from './connection.ts';

const HEARTBEAT = { intervalMs: 100, timeoutMs: 1000 };

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

/** A relay that welcomes every hello; `answers` false: it then ignores pings and sends nothing. */
async function standIn(answers: boolean) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: answers });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  let pings = 0;
  let onPing = () => {};
  wss.on('connection', (ws) => {
    ws.send(
      encodeFrame({
        type: 'challenge',
        from: '',
        fromDevice: 0,
        to: '',
        toDevice: 0,
        nonce: new Uint8Array(32),
        relayId: new Uint8Array(32),
      }),
    );
    ws.on('ping', () => {
      pings++;
      onPing();
    });
    ws.once('message', () => {
      ws.send(
        encodeFrame({
          type: 'welcome',
          from: '',
          fromDevice: 0,
          to: 'alice',
          toDevice: 1,
          serverTime: Date.now(),
          maxFrameBytes: MAX_FRAME_BYTES,
          queued: 0,
        }),
      );
    });
  });
  const conn = new RelayConnection(
    `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    'alice',
    1,
    Math.random,
    HEARTBEAT,
    (c) => ({
      type: 'hello',
      from: 'alice',
      fromDevice: 1,
      to: '',
      toDevice: 0,
      auth: { scheme: 'device', data: c.nonce },
      agent: 'test',
    }),
  );
  cleanup = async () => {
    await conn.stop();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  conn.start();
  await new Promise((resolve) => conn.once('online', resolve));
  /** Resolves once the relay has been pinged `n` times in all. */
  const pinged = (n: number) =>
    new Promise<void>((resolve) => {
      onPing = () => pings >= n && resolve();
      onPing();
    });
  return { conn, pinged };
}

it('keeps a link whose relay answers its pings', async () => {
  const { conn, pinged } = await standIn(true);
  let offline = false;
  conn.on('offline', () => (offline = true));
  await pinged(6);
  expect(offline).toBe(false);
  expect(conn.isOnline).toBe(true);
  expect(await conn.confirmAlive()).toBe(true);
});

it('drops a link that answers nothing after a ping, and connects again', async () => {
  const { conn } = await standIn(false);
  const why = await new Promise<string>((resolve) => conn.once('offline', resolve));
  expect(why).toBe('1006 no answer from the relay for 1 s');
  await new Promise((resolve) => conn.once('online', resolve));
});

it('confirmAlive() settles false when the link that does not answer is dropped', async () => {
  const { conn } = await standIn(false);
  expect(await conn.confirmAlive()).toBe(false);
  expect(conn.isOnline).toBe(false);
});
