// Transport security against the real relay process: what a machine on the path sees (a TCP
// proxy that records every byte), a relay whose certificate changes under clients that pinned
// it, and plain ws:// off loopback refused by both the relay and the engine.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { decodeFrame } from '../src/shared/protocol/index.ts';
import { rawAccounts } from '../src/node/raw-accounts.ts';
import { RelayConnection } from '../src/core/connection.ts';
import { Host } from '../src/core/host/host.ts';
import { relayRequest } from '../src/core/host/relay-admin.ts';
import type { SessionView } from '../src/shared/contract.ts';
import type { MessengerEvent } from '../src/shared/api.ts';
import { certificateFingerprint, createSelfSigned } from '../relay/tls-cert.ts';
import { TestEngine } from './helpers/engine.ts';
import { ADMIN_TOKEN, startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

const BIN = fileURLToPath(new URL('../bin/strata.js', import.meta.url));
const strata = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

const relays: RelayProcess[] = [];
const engines: TestEngine[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  for (const r of relays.splice(0)) await r.stop();
  for (const s of servers.splice(0)) {
    s.close();
    s.emit('stop');
  }
});

async function relay(...args: Parameters<typeof startRelay>): Promise<RelayProcess> {
  const r = await startRelay(...args);
  relays.push(r);
  return r;
}

function engine(url: string, user: string, profileDir = tempDir(`strata-${user}-`)): TestEngine {
  const e = TestEngine.start(url, user, { profileDir }, ['alice', 'bob']);
  engines.push(e);
  return e;
}

/** A certificate and key in PEM files, as an operator passes them with --tls-cert/--tls-key. */
function certificateFiles(): { args: string[]; fingerprint: string } {
  const dir = tempDir('strata-cert-');
  const pair = createSelfSigned({ commonName: 'relay.test', names: ['localhost', '127.0.0.1'] });
  writeFileSync(join(dir, 'cert.pem'), pair.cert);
  writeFileSync(join(dir, 'key.pem'), pair.key, { mode: 0o600 });
  return {
    args: ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')],
    fingerprint: certificateFingerprint(pair.cert),
  };
}

/** A machine on the path: forwards TCP to `port` and keeps every byte, both directions. */
async function recordingProxy(port: number): Promise<{ port: number; seen: () => Buffer }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (d: Buffer) => {
        chunks.push(Buffer.from(d));
        to.write(d);
      });
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => to.destroy());
    }
  });
  server.on('stop', () => {
    for (const s of sockets) s.destroy();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { port: address.port, seen: () => Buffer.concat(chunks) };
}

/** The engine's offline events, as the app shows them. */
const offlineDetails = (e: TestEngine): string[] =>
  e.events.flatMap((ev: MessengerEvent) =>
    ev.type === 'connection' && ev.state === 'offline' ? [ev.detail ?? ''] : [],
  );

describe('a machine between client and relay', () => {
  /**
   * Alice sends bob a message and a file through the proxy, and the admin API is used through
   * it with the token: returns everything the proxy saw.
   */
  async function conversationThroughProxy(tls: boolean, secrets: Record<string, string>) {
    const cert = certificateFiles();
    const r = await relay(tls ? cert.args : []);
    const proxy = await recordingProxy(r.port);
    const url = tls
      ? `wss://127.0.0.1:${proxy.port}/#sha256=${cert.fingerprint}`
      : `ws://127.0.0.1:${proxy.port}/`;
    const alice = engine(url, 'alice');
    const bob = engine(url, 'bob');
    await Promise.all([alice.online(), bob.online()]);
    // Bob knows alice: her file downloads by itself.
    bob.m.setContact('alice', 'accept');
    alice.m.send('bob', secrets.text!);
    const file = join(tempDir('strata-src-'), secrets.fileName!);
    writeFileSync(file, randomBytes(4096));
    const sent = await alice.m.sendFile('bob', file);
    await bob.until(() => bob.received('alice').length === 1);
    expect(bob.received('alice')[0]!.text).toBe(secrets.text);
    // Delivered: bob has the whole file and checked its SHA-256.
    await alice.until(() => alice.m.message(sent.key)?.status === 'delivered');
    const answer = await relayRequest(
      new URL(`${tls ? 'https' : 'http'}://127.0.0.1:${proxy.port}/api/channel`),
      tls ? cert.fingerprint : null,
      { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, timeoutMs: 30_000 },
    );
    expect(answer.status).toBe(200);
    return proxy.seen();
  }

  it('sees no text, file name or admin token over wss:// and https://; over plain ws://, the token but still no text or file name', async () => {
    const secrets = {
      text: 'the plan for thursday is under the blue stone',
      fileName: 'salaries-2026-confidential.xlsx',
      token: ADMIN_TOKEN,
    };
    const overTls = await conversationThroughProxy(true, secrets);
    for (const engine of engines.splice(0)) await engine.close();
    for (const r of relays.splice(0)) await r.stop();
    const plain = await conversationThroughProxy(false, secrets);
    // The proxy saw the whole conversation both times...
    expect(overTls.length).toBeGreaterThan(4096);
    // ...the admin token in the clear without TLS (so this test would catch its absence), but
    // the text and the file name sealed end to end even then...
    expect(plain.includes(secrets.token)).toBe(true);
    expect(plain.includes(secrets.text)).toBe(false);
    expect(plain.includes(secrets.fileName)).toBe(false);
    // ...and none of it with TLS.
    for (const secret of Object.values(secrets)) expect(overTls.includes(secret)).toBe(false);
  });
});

describe('a relay whose certificate changed', () => {
  it('is refused, for good and with the reason, by a client that pinned it in the URL and by one that trusted it on first use', async () => {
    const first = certificateFiles();
    const dataDir = tempDir('strata-relay-');
    const before = await relay(first.args, { dataDir });
    const port = before.port;
    const pinnedUrl = `wss://127.0.0.1:${port}/#sha256=${first.fingerprint}`;
    const tofuUrl = `wss://127.0.0.1:${port}/`;
    const pinnedProfile = tempDir('strata-pinned-');
    const tofuProfile = tempDir('strata-tofu-');
    const pinned = engine(pinnedUrl, 'alice', pinnedProfile);
    const tofu = engine(tofuUrl, 'bob', tofuProfile);
    await Promise.all([pinned.online(), tofu.online()]);
    expect(tofu.m.relayFingerprint).toBe(first.fingerprint);
    for (const e of engines.splice(0)) await e.close();
    await before.stop();
    relays.splice(0);

    // The same address, another certificate: an impostor, or a relay re-keyed.
    const second = certificateFiles();
    const after = await relay(second.args, { dataDir, port });
    const again = [engine(pinnedUrl, 'alice', pinnedProfile), engine(tofuUrl, 'bob', tofuProfile)];
    for (const e of again) {
      await e.until(() => e.m.connectionFailure !== null);
      expect(e.m.online).toBe(false);
      const said = new RegExp(
        `^the relay's certificate changed: expected sha256 ${first.fingerprint} .*got ${second.fingerprint}\\.`,
      );
      expect(e.m.connectionFailure).toMatch(said);
      expect(offlineDetails(e).at(-1)).toMatch(said);
    }
    // Neither said hello to the impostor: it never learned who they are.
    const stats = await after.stats();
    expect((stats.frames_in as Record<string, number>).hello ?? 0).toBe(0);

    // The CLI says the same, and exits 4.
    const cli = strata('--profile', tofuProfile, '--relay', tofuUrl, 'send', 'alice', 'hi');
    expect(cli.status).toBe(4);
    expect(cli.stderr).toMatch(/^strata: the relay's certificate changed: expected sha256 /);
    // The relay's new URL, with its pin, is accepted (and kept from then on).
    const renewed = engine(
      `wss://127.0.0.1:${port}/#sha256=${second.fingerprint}`,
      'bob',
      tofuProfile,
    );
    await renewed.online();
  });
});

describe('a link that met another certificate', () => {
  it('stops trying (no reconnect is even scheduled), where a link that merely dropped retries', async () => {
    const real = createSelfSigned({ commonName: 'real', names: ['127.0.0.1'] });
    const impostor = createSelfSigned({ commonName: 'impostor', names: ['127.0.0.1'] });
    const server = createHttpsServer({ cert: impostor.cert, key: impostor.key });
    let upgrades = 0;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      upgrades++;
      // It accepts the upgrade and hangs up at once, as a relay that went away; by hand, so
      // that no WebSocket timer of its own runs in this process.
      const accept = createHash('sha1')
        .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest('base64');
      socket.end(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    // Only the link's own timers are faked: the reconnect would be one of them.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      const attempt = async (pin: string) => {
        const conn = new RelayConnection(
          `wss://127.0.0.1:${port}/#sha256=${pin}`,
          (c) => rawAccounts.hello('alice', 1, c)!,
          () => 0,
          { intervalMs: 0, timeoutMs: 10_000 },
        );
        const offline = new Promise<string>((resolve) => conn.once('offline', resolve));
        conn.start();
        const why = await offline;
        // What is pending once the link is down: a reconnect, or nothing at all.
        const pending = vi.getTimerCount();
        await conn.stop();
        return { why, pending, failure: conn.failure };
      };
      const changed = await attempt(certificateFingerprint(real.cert));
      expect(changed.failure).toMatch(/^the relay's certificate changed: /);
      expect(changed.why).toBe(changed.failure);
      expect(changed.pending).toBe(0);
      // The control: the right pin, a relay that just closes: the link will try again.
      const dropped = await attempt(certificateFingerprint(impostor.cert));
      expect(dropped.failure).toBeNull();
      expect(dropped.why).toMatch(/^1006/);
      expect(dropped.pending).toBe(1);
      expect(upgrades).toBe(2);
    } finally {
      vi.useRealTimers();
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('the app host', () => {
  it('logs in to a wss:// relay, shows its fingerprint, and sends the admin token only to it', async () => {
    const cert = certificateFiles();
    const r = await relay(cert.args);
    const profileDir = tempDir('strata-host-');
    const host = await Host.open({ profileDir, kind: 'browser' });
    try {
      const sessions: SessionView[] = [];
      host.on('event', (e) => {
        if (e.type === 'session') sessions.push(e.session);
      });
      const url = `wss://127.0.0.1:${r.port}/`;
      await host.call('login', { user: 'alice', relayUrl: url });
      await new Promise<void>((resolve) => {
        const check = () => sessions.some((s) => s.relayFingerprint !== null) && resolve();
        host.on('event', check);
        check();
      });
      const session = (await host.call('session', {})) as SessionView;
      expect(session).toMatchObject({ relayUrl: url, relayFingerprint: cert.fingerprint });
      expect(await host.call('getChannel', { token: ADMIN_TOKEN })).toMatchObject({ loss: 0 });
      expect(await host.call('relayStats', {})).toMatchObject({ reachable: true });
      // Plain ws:// off loopback is refused before anything is sent.
      const other = await Host.open({ profileDir: tempDir('strata-host-'), kind: 'browser' });
      await expect(
        other.call('login', { user: 'bob', relayUrl: 'ws://192.0.2.55:7000/' }),
      ).rejects.toThrow(/is plain ws:\/\/: .*--insecure/);
      await other.close();
    } finally {
      await host.close();
    }
    // Another relay at the address, with another certificate: the token is not sent to it.
    await r.stop();
    relays.splice(0);
    await relay(certificateFiles().args, { port: r.port });
    const again = await Host.open({ profileDir, kind: 'browser' });
    try {
      const failed = new Promise<void>((resolve) => {
        again.on('event', (e) => {
          if (e.type === 'connection' && /certificate changed/.test(e.detail ?? '')) resolve();
        });
      });
      await failed;
      // The impostor has the same token: had it been sent, the answer would be the channel.
      await expect(again.call('getChannel', { token: ADMIN_TOKEN })).rejects.toThrow(
        /certificate changed|certificate is unknown/,
      );
    } finally {
      await again.close();
    }
  });
});

describe('plain ws:// off loopback', () => {
  const lanAddress = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && !a.internal && a.family === 'IPv4')?.address;

  it('is not served by a relay bound to the network without --insecure: it serves wss://', async () => {
    const r = await relay(['--host', '0.0.0.0']);
    expect(r.url).toMatch(/^wss:\/\/0\.0\.0\.0:\d+\/#sha256=[0-9a-f]{64}$/);
    expect(r.out).toContainEqual(
      expect.stringMatching(/^certificate sha256 [0-9a-f]{64} \(self-signed, made now in /),
    );
    // A plain WebSocket client gets no connection at all.
    const plain = new WebSocket(`ws://127.0.0.1:${r.port}/`);
    const outcome = await new Promise<string>((resolve) => {
      plain.on('open', () => resolve('open'));
      plain.on('error', (e) => resolve(`error: ${e.message}`));
    });
    expect(outcome).toMatch(/^error: /);
    // With --insecure it is served, with a warning.
    const insecure = await relay(['--host', '0.0.0.0', '--insecure']);
    expect(insecure.url).toMatch(/^ws:\/\/0\.0\.0\.0:\d+\/$/);
    await insecure.waitForLog(/WARN .*--insecure/);
  });

  it('is refused by the engine without --insecure, before it connects', async () => {
    expect(lanAddress).toBeDefined();
    const r = await relay(['--host', '0.0.0.0', '--insecure']);
    const url = `ws://${lanAddress}:${r.port}/`;
    const refused = strata('--profile', tempDir(), '--relay', url, 'login', 'alice');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/is plain ws:\/\/: anyone on the network .* or --insecure/);
    const allowed = strata('--profile', tempDir(), '--relay', url, '--insecure', 'login', 'alice');
    expect(allowed.stderr).toBe('');
    expect(allowed.status).toBe(0);
    // The refused one never reached the relay: one connection, the allowed one's.
    const stats = await r.stats();
    expect(stats.connections_opened).toBe(1);
  });
});

describe('a man in the middle the client was made to trust', () => {
  it('gets no hello from the client: the relay it relays names itself in its challenge', async () => {
    const cert = certificateFiles();
    const real = await relay(cert.args);
    // The impostor terminates TLS with its own certificate (which a first-use client, or a
    // user tricked into its URL, accepted) and relays every frame to the real relay and back.
    const own = createSelfSigned({ commonName: 'impostor', names: ['127.0.0.1'] });
    const https = createHttpsServer({ cert: own.cert, key: own.key });
    const wss = new WebSocketServer({ server: https });
    let welcomes = 0;
    wss.on('connection', (client) => {
      const upstream = new WebSocket(real.url.replace(/#.*$/, ''), { rejectUnauthorized: false });
      const early: Buffer[] = [];
      upstream.on('open', () => early.splice(0).forEach((d) => upstream.send(d)));
      upstream.on('message', (d: Buffer) => {
        const decoded = decodeFrame(new Uint8Array(d));
        if (decoded.ok && decoded.frame.type === 'welcome') welcomes++;
        client.send(d);
      });
      client.on('message', (d: Buffer) =>
        upstream.readyState === WebSocket.OPEN ? upstream.send(d) : early.push(d),
      );
      client.on('close', () => upstream.close());
      upstream.on('close', () => client.close());
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    servers.push(https as unknown as Server);
    const port = (https.address() as { port: number }).port;
    const e = engine(
      `wss://127.0.0.1:${port}/#sha256=${certificateFingerprint(own.cert)}`,
      'mallory-victim',
    );
    await e.until(() => e.m.connectionFailure !== null);
    expect(e.m.connectionFailure).toMatch(/challenge names another relay/);
    expect(welcomes).toBe(0);
    const stats = await real.stats();
    expect((stats.frames_in as Record<string, number>).hello ?? 0).toBe(0);
    wss.close();
    https.closeAllConnections();
  });
});
