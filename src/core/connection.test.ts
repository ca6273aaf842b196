// The client's hello and heartbeat against stand-in relays on loopback: the hello waits for
// the relay's challenge and signs it, a refused device stops coming back, and the heartbeat
// keeps a link whose relay answers pings and drops one that answers nothing at all (as a
// relay behind a dead link looks).
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { KeyPair } from '../node/account-keys.ts';
import { deviceHello } from '../node/hello-proof.ts';
import { MAX_FRAME_BYTES, encodeFrame } from '../shared/protocol/index.ts';
import { RelayConnection, type HelloBuilder } from './connection.ts';
import { standInRelay } from './stand-in-relay.ts';

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
    const env = { from: '', fromDevice: 0, to: '', toDevice: 0 };
    ws.send(
      encodeFrame({ type: 'challenge', ...env, nonce: randomBytes(32), relayId: randomBytes(32) }),
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
  const key = KeyPair.generate();
  const conn = new RelayConnection(
    `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    (challenge) => deviceHello('alice', 1, key, challenge),
    Math.random,
    HEARTBEAT,
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

/** A connection to a stand-in relay that checks hellos against `key` (alice's device 1). */
async function signedStandIn(random: () => number = Math.random) {
  const key = KeyPair.generate();
  const relay = await standInRelay((user, device) =>
    user === 'alice' && device === 1 ? key.publicKey : null,
  );
  const hello: HelloBuilder = (challenge) => deviceHello('alice', 1, key, challenge);
  const conn = new RelayConnection(relay.url, hello, random, HEARTBEAT);
  cleanup = async () => {
    await conn.stop();
    await relay.close();
  };
  return { relay, conn };
}

it("answers the relay's challenge with a hello signed over it, and keeps the challenge", async () => {
  const { relay, conn } = await signedStandIn();
  const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
  const challenges: string[] = [];
  conn.on('challenge', (c) => challenges.push(hex(c.nonce)));
  conn.start();
  await new Promise((resolve) => conn.once('online', resolve));
  expect(relay.hellos).toHaveLength(1);
  const [taken] = relay.hellos;
  expect(taken!.hello.auth.scheme).toBe('device');
  expect(taken!.signed).toBe(true);
  expect(challenges).toEqual([hex(taken!.challenge.nonce)]);
  // Kept for the TLS check: the relay's id as this connection's challenge gave it.
  expect(hex(conn.challenge?.relayId)).toBe(hex(taken!.challenge.relayId));
});

it('a device the relay refuses for good stops connecting and says why', async () => {
  // random 0: a reconnect would come after RECONNECT_MIN_MS / 2.
  const { relay, conn } = await signedStandIn(() => 0);
  relay.answer = () => ({ code: 'deviceRemoved', text: 'this device was removed' });
  const refused = new Promise<string[]>((resolve) =>
    conn.once('refused', (code, text) => resolve([code, text])),
  );
  const offline = new Promise<string>((resolve) => conn.once('offline', resolve));
  conn.start();
  expect(await refused).toEqual(['deviceRemoved', 'this device was removed']);
  expect(await offline).toMatch(/this device was removed/);
  // The link went down for good: no reconnect is even scheduled.
  expect(conn.retrying).toBe(false);
  expect(relay.connections).toBe(1);
  expect(conn.refusal).toEqual({ code: 'deviceRemoved', text: 'this device was removed' });
});

it('an ordinary relay error before the welcome is not final: the device comes back', async () => {
  const { relay, conn } = await signedStandIn(() => 0);
  let answers = 0;
  relay.answer = () => (answers++ === 0 ? { code: 'overloaded', text: 'try later' } : 'welcome');
  const offline = new Promise((resolve) => conn.once('offline', resolve));
  const online = new Promise((resolve) => conn.once('online', resolve));
  conn.start();
  await offline;
  expect(conn.retrying).toBe(true);
  await online;
  expect(relay.connections).toBe(2);
});
