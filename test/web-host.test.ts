// The browser host as a local server that can act for its user: what it refuses matters as
// much as what it serves. These tests speak raw HTTP and WebSocket to it, as an attacker's
// page or process on the same machine would.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Host } from '../src/core/host/host.ts';
import { startWebServer, WebServerError, type WebServer } from '../src/core/host/web-server.ts';
import { METHOD_NAMES } from '../src/shared/contract.ts';
import { staticFixture } from './helpers/static-fixture.ts';
import { startRelay, tempDir } from './helpers/relay-process.ts';

const CLI = fileURLToPath(new URL('../src/cli/strata.ts', import.meta.url));

/** A raw GET with full control of the Host header (fetch does not allow setting it). */
function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { Host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket and resolves with the HTTP status it was refused with, or 101. */
function handshake(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
    ws.on('error', () => undefined);
  });
}

describe('the browser host server', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  const serve = async (): Promise<{ server: WebServer; host: Host }> => {
    const host = await Host.open({ profileDir: tempDir('strata-web-'), kind: 'browser' });
    const server = await startWebServer({ host, staticDir: staticFixture() });
    cleanup.push(
      () => host.close(),
      () => server.close(),
    );
    return { server, host };
  };

  it('binds to loopback and serves the page only with the token, then by cookie', async () => {
    const { server } = await serve();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{16,}$/);
    expect((await get(server.port, '/')).status).toBe(401);
    expect((await get(server.port, '/?token=wrong-token-123456')).status).toBe(401);
    const page = await get(server.port, `/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const asset = await get(server.port, '/assets/app.js', { Cookie: cookie.split(';')[0]! });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
  });

  it('keeps its cookie apart from another host on the same machine', async () => {
    // Cookies are shared by all ports of 127.0.0.1: Alice's and Bob's hosts in one browser.
    const [alice, bob] = [(await serve()).server, (await serve()).server];
    const cookieOf = async (s: WebServer) =>
      String((await get(s.port, `/?token=${s.token}`)).headers['set-cookie']).split(';')[0]!;
    const [aliceCookie, bobCookie] = [await cookieOf(alice), await cookieOf(bob)];
    expect(aliceCookie.split('=')[0]).not.toBe(bobCookie.split('=')[0]);
    // The browser sends both to each: each host finds its own.
    const both = { Cookie: `${aliceCookie}; ${bobCookie}` };
    expect((await get(alice.port, '/assets/app.js', both)).status).toBe(200);
    expect((await get(bob.port, '/assets/app.js', both)).status).toBe(200);
  });

  it('answers only to loopback host names (no DNS rebinding)', async () => {
    const { server } = await serve();
    const rebound = await get(server.port, `/?token=${server.token}`, {
      Host: `evil.example:${server.port}`,
    });
    expect(rebound.status).toBe(421);
    const localhost = await get(server.port, `/?token=${server.token}`, {
      Host: `localhost:${server.port}`,
    });
    expect(localhost.status).toBe(200);
  });

  it('never serves a file outside the renderer folder', async () => {
    const { server } = await serve();
    const auth = { Cookie: `strata_token_${server.port}=${server.token}` };
    for (const path of [
      '/../package.json',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/assets/..%2f..%2fetc%2fpasswd',
      '/%00',
      '/assets',
    ]) {
      const res = await get(server.port, path, auth);
      expect([400, 404]).toContain(res.status);
      expect(res.body).not.toMatch(/root:|"name"/);
    }
  });

  it('holds uploads and file downloads to the same Host check, and uploads to POST', async () => {
    const { server } = await serve();
    const auth = { Cookie: `strata_token_${server.port}=${server.token}` };
    const rebound = { ...auth, Host: `evil.example:${server.port}` };
    expect((await get(server.port, '/files/alice%2F1%2F1', rebound)).status).toBe(421);
    expect((await get(server.port, '/upload', rebound)).status).toBe(421);
    const wrongMethod = await get(server.port, '/upload', auth);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers['allow']).toBe('POST');
    // No user logged in yet: no message, so no file, whatever the key.
    expect((await get(server.port, '/files/alice%2F1%2F1', auth)).status).toBe(404);
    expect((await get(server.port, '/files/%E0%A4%A', auth)).status).toBe(400);
    const refused = await get(server.port, '/files/alice%2F1%2F1');
    expect(refused.status).toBe(401);
  });

  it('lets only its own page open the API socket, with the token', async () => {
    const { server } = await serve();
    const api = `ws://127.0.0.1:${server.port}/api`;
    const origin = `http://127.0.0.1:${server.port}`;
    expect(await handshake(`${api}?token=${server.token}`, { Origin: origin })).toBe(101);
    expect(
      await handshake(`${api}?token=${server.token}`, { Origin: 'https://evil.example' }),
    ).toBe(403);
    expect(await handshake(`${api}?token=${server.token}`, {})).toBe(403);
    expect(await handshake(api, { Origin: origin })).toBe(401);
    expect(
      await handshake(api, {
        Origin: origin,
        Cookie: `strata_token_${server.port}=${server.token}`,
      }),
    ).toBe(101);
    expect(
      await handshake(`ws://127.0.0.1:${server.port}/other?token=${server.token}`, {
        Origin: origin,
      }),
    ).toBe(404);
  });

  it('survives handshakes that are no URL, or that are cut off after being refused', async () => {
    const { server } = await serve();
    const origin = `http://127.0.0.1:${server.port}`;
    /** Sends a raw handshake; resolves with the status line, then resets the connection. */
    const rawHandshake = (target: string, headers: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect(server.port, '127.0.0.1', () => {
          socket.write(
            `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n${headers}` +
              'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
              'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
          );
        });
        socket.on('error', reject);
        socket.once('data', (data) => {
          // An abrupt reset, as a killed client or a hostile one leaves it.
          socket.resetAndDestroy();
          resolve(String(data).split('\r\n')[0]!);
        });
      });
    expect(await rawHandshake('http://[/api', `Origin: ${origin}\r\n`)).toBe(
      'HTTP/1.1 400 Bad Request',
    );
    expect(await rawHandshake('/api', 'Origin: https://evil.example\r\n')).toBe(
      'HTTP/1.1 403 Forbidden',
    );
    expect(await rawHandshake(`/api?token=${server.token}`, `Origin: ${origin}\r\n`)).toBe(
      'HTTP/1.1 101 Switching Protocols',
    );
    // Still up, still refusing strangers and serving its page.
    expect((await get(server.port, '/')).status).toBe(401);
    expect((await get(server.port, `/?token=${server.token}`)).status).toBe(200);
  });

  it('drops a client that sends garbage, and keeps serving the others', async () => {
    const { server } = await serve();
    const url = `ws://127.0.0.1:${server.port}/api?token=${server.token}`;
    const origin = `http://127.0.0.1:${server.port}`;
    const bad = new WebSocket(url, { origin });
    await new Promise((r) => bad.once('open', r));
    const closed = new Promise<number>((r) => bad.once('close', (code) => r(code)));
    bad.send('{not json');
    expect(await closed).toBe(1003);

    const good = new WebSocket(url, { origin });
    await new Promise((r) => good.once('open', r));
    const reply = new Promise<unknown>((r) =>
      good.once('message', (d) => r(JSON.parse(String(d)))),
    );
    good.send(JSON.stringify({ id: 7, method: 'session', params: {} }));
    expect(await reply).toMatchObject({ id: 7, result: { user: null, host: 'browser' } });
    const invalid = new Promise<unknown>((r) =>
      good.once('message', (d) => r(JSON.parse(String(d)))),
    );
    good.send(JSON.stringify({ id: 8, method: 'send', params: { to: 'x', text: 1 } }));
    expect(await invalid).toMatchObject({ id: 8, error: { code: 'invalid' } });
    good.close();
  });

  it('lets no client with the token point the downloads folder anywhere, by any API message', async () => {
    // The attack: a page (or any local process) holding the token redirects received files
    // into a folder whose files run at the next login.
    const relay = await startRelay();
    cleanup.push(() => relay.stop());
    const downloads = tempDir('strata-web-dl-');
    const home = tempDir('strata-web-home-');
    const autostart = join(home, '.config', 'autostart');
    const host = await Host.open({
      profileDir: tempDir('strata-web-'),
      kind: 'browser',
      relayUrl: relay.url,
      user: 'wendy',
      downloadsDir: downloads,
    });
    const server = await startWebServer({ host, staticDir: staticFixture() });
    cleanup.push(
      () => host.close(),
      () => server.close(),
    );
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, {
      origin: `http://127.0.0.1:${server.port}`,
    });
    await new Promise((r) => ws.once('open', r));
    const replies = new Map<number, (reply: unknown) => void>();
    ws.on('message', (data) => {
      const reply = JSON.parse(String(data)) as { id?: number };
      if (reply.id !== undefined) replies.get(reply.id)?.(reply);
    });
    let nextId = 1;
    const call = (method: string, params: unknown) =>
      new Promise<{ result?: unknown; error?: { code: string; message: string } }>((resolve) => {
        const id = nextId++;
        replies.set(id, resolve as (reply: unknown) => void);
        ws.send(JSON.stringify({ id, method, params }));
      });

    const named = await call('updateFileSettings', { patch: { downloadsDir: autostart } });
    expect(named.error).toMatchObject({ code: 'invalid' });
    const picked = await call('chooseDownloadsDir', {});
    expect(picked.error).toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/strata web --downloads DIR/),
    });
    // Every method, with the folder in every place a parameter could carry it.
    const shapes = [
      { downloadsDir: autostart },
      { path: autostart },
      { dir: autostart },
      { patch: { downloadsDir: autostart } },
      { patch: { downloadsDir: autostart, maxFileBytes: 1024 } },
      { files: { downloadsDir: autostart } },
    ];
    for (const method of METHOD_NAMES) {
      for (const params of shapes) expect((await call(method, params)).error).toBeDefined();
    }
    expect(host.session.files?.downloadsDir).toBe(downloads);
    expect(existsSync(autostart)).toBe(false);
    ws.close();
  });

  it('refuses to start without a built renderer, or with a weak token', async () => {
    const host = await Host.open({ profileDir: tempDir('strata-web-'), kind: 'browser' });
    cleanup.push(() => host.close());
    await expect(startWebServer({ host, staticDir: tempDir('empty-') })).rejects.toThrow(
      /renderer is not built .* run `npm run build` first/,
    );
    await expect(
      startWebServer({ host, staticDir: staticFixture(), token: 'short' }),
    ).rejects.toThrow(WebServerError);
  });
});

describe('strata web', () => {
  it('prints its address first, logs in as asked, serves the page, and stops on SIGTERM', async () => {
    const relay = await startRelay();
    try {
      const child = spawn(
        process.execPath,
        [
          CLI,
          'web',
          '--profile',
          tempDir('strata-cli-web-'),
          '--relay',
          relay.url,
          '--user',
          'zoe',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => {
          out += c;
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        void exited.then((code) => reject(new Error(`strata web exited with ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<div id="root">/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await relay.stop();
    }
  });

  it('refuses bad flags with exit code 2 and a clear line', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'web', ...args], { stdio: 'pipe' });
        let err = '';
        child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
        child.once('exit', (code) => resolve({ code, err }));
      });
    const profile = tempDir('strata-cli-web-');
    expect(await run(['--profile', profile, '--port', 'eighty'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--port must be a whole number/),
    });
    expect(await run(['--profile', profile, '--user', 'amy'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--user needs --relay/),
    });
    expect(await run(['--profile', profile, '--token', 'weak'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/token must be at least 16 characters/),
    });
  });
});
