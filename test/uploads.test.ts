// Files through the browser host: a page uploads the bytes (POST /upload), sends them by the
// upload's id over the API, and downloads or previews received files (GET /files/<key>). What
// the server refuses matters as much: other pages, other origins, files over the limit, names
// that try to leave the uploads folder, and inline rendering of anything but raster images.
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Host } from '../src/core/host/host.ts';
import { UploadError, Uploads } from '../src/core/host/uploads.ts';
import { startWebServer, type WebServer } from '../src/core/host/web-server.ts';
import { WsApiClient, type SocketLike } from '../src/renderer/src/api/ws-client.ts';
import { ApiError, type HostEvent } from '../src/shared/contract.ts';
import { TestEngine } from './helpers/engine.ts';
import { staticFixture } from './helpers/static-fixture.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  randomBytes(200),
]);
const SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n',
);

interface Browser {
  host: Host;
  server: WebServer;
  api: WsApiClient;
  /** This page's origin, cookie and upload endpoint. */
  origin: string;
  cookie: string;
  events: HostEvent[];
  until(test: () => boolean): Promise<void>;
}

let relay: RelayProcess;
const cleanup: (() => Promise<unknown>)[] = [];
// A relay per test: a name belongs to the first account that takes it, and the tests log in as
// the same people.
beforeEach(async () => {
  relay = await startRelay();
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  await relay.stop();
});

/** A browser host for user (logged in), with a page's API client connected to it. */
async function browser(user?: string, downloadsDir?: string): Promise<Browser> {
  const host = await Host.open({
    profileDir: tempDir('strata-upload-'),
    kind: 'browser',
    ...(user === undefined ? {} : { relayUrl: relay.url, user }),
    // As `strata web --downloads DIR` gives it: the page cannot change it.
    ...(downloadsDir === undefined ? {} : { downloadsDir }),
  });
  const server = await startWebServer({ host, staticDir: staticFixture() });
  const origin = `http://127.0.0.1:${server.port}`;
  const api = new WsApiClient({
    url: `ws://127.0.0.1:${server.port}/api?token=${server.token}`,
    createSocket: (u) => new WebSocket(u, { origin }) as unknown as SocketLike,
  });
  await api.connect();
  const events: HostEvent[] = [];
  const waiters: (() => void)[] = [];
  host.on('event', (e) => {
    events.push(e);
    for (const w of waiters.splice(0)) w();
  });
  cleanup.push(
    () => host.close(),
    () => server.close(),
    async () => api.close(),
  );
  return {
    host,
    server,
    api,
    origin,
    cookie: `strata_token_${server.port}=${server.token}`,
    events,
    async until(test) {
      while (!test()) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

async function peer(user: string): Promise<TestEngine> {
  const e = TestEngine.start(relay.url, user, { downloadsDir: tempDir(`strata-${user}-dl-`) }, [
    'alice',
    'bob',
    'carol',
  ]);
  cleanup.push(() => e.close());
  await e.online();
  return e;
}

function upload(
  b: Browser,
  body: Uint8Array,
  name: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${b.origin}/upload`, {
    method: 'POST',
    headers: {
      Origin: b.origin,
      Cookie: b.cookie,
      'X-File-Name': encodeURIComponent(name),
      'Content-Type': 'application/octet-stream',
      ...headers,
    },
    body,
  });
}

function uploadsDir(b: Browser): string {
  return join(b.host.profileDir, 'uploads');
}

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected the call to fail');
}

describe('POST /upload', () => {
  it('stores the bytes, and sendFile by upload id delivers them identical to a peer', async () => {
    const bob = await peer('bob');
    const alice = await browser('alice');
    const bytes = randomBytes(300 * 1024 + 7);
    const res = await upload(alice, bytes, 'Relevé 2026 ✓.bin');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { upload: string; name: string; size: number };
    expect(body).toEqual({
      upload: expect.stringMatching(/^[A-Za-z0-9_-]{16,64}$/),
      name: 'Relevé 2026 ✓.bin',
      size: bytes.length,
    });
    const stored = join(uploadsDir(alice), body.upload, body.name);
    expect(sha256(readFileSync(stored))).toBe(sha256(bytes));

    const sent = await alice.api.call('sendFile', { to: 'bob', upload: body.upload });
    expect(sent.file).toMatchObject({ name: 'Relevé 2026 ✓.bin', size: bytes.length });
    await bob.until(() => bob.m.message(sent.key)?.file?.state === 'done');
    const arrived = bob.m.message(sent.key)!.file!;
    expect(arrived.name).toBe('Relevé 2026 ✓.bin');
    expect(sha256(readFileSync(arrived.path!))).toBe(sha256(bytes));
  });

  it('refuses requests without the token or from another page', async () => {
    const alice = await browser('alice');
    const bytes = randomBytes(100);
    expect((await upload(alice, bytes, 'a.bin', { Cookie: '' })).status).toBe(401);
    const cross = await upload(alice, bytes, 'a.bin', { Origin: 'https://evil.example' });
    expect(cross.status).toBe(403);
    expect(await cross.json()).toEqual({ error: 'uploads are accepted only from this page' });
    // Another port of 127.0.0.1 is another origin, though the browser sends the cookie along.
    const otherPort = await upload(alice, bytes, 'a.bin', { Origin: 'http://127.0.0.1:1' });
    expect(otherPort.status).toBe(403);
    const sameSite = await upload(alice, bytes, 'a.bin', { 'Sec-Fetch-Site': 'same-site' });
    expect(sameSite.status).toBe(403);
    const get = await fetch(`${alice.origin}/upload`, { headers: { Cookie: alice.cookie } });
    expect(get.status).toBe(405);
    expect(readdirSync(uploadsDir(alice))).toEqual([]);
  });

  it('refuses a file over the limit, announced or streamed, and keeps nothing of it', async () => {
    const alice = await browser('alice');
    await alice.api.call('updateFileSettings', { patch: { maxFileBytes: 1000 } });
    const announced = await upload(alice, randomBytes(1001), 'big.bin');
    expect(announced.status).toBe(413);
    expect(await announced.json()).toEqual({
      error: 'big.bin is 1001 bytes, over the limit of 1000 bytes (Settings)',
    });
    // Chunked: no Content-Length, so the count while streaming must catch it.
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${alice.origin}/upload`, {
        method: 'POST',
        headers: { Origin: alice.origin, Cookie: alice.cookie, 'X-File-Name': 'big.bin' },
      });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write(randomBytes(600));
      req.write(randomBytes(600));
      req.end();
    });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toEqual({
      error: 'big.bin is 1200 bytes, over the limit of 1000 bytes (Settings)',
    });
    expect(readdirSync(uploadsDir(alice))).toEqual([]);
    expect((await upload(alice, randomBytes(1000), 'fits.bin')).status).toBe(200);
  });

  it('keeps names inside the uploads folder, and needs one', async () => {
    const alice = await browser('alice');
    const res = await upload(alice, Buffer.from('x'), '../../x');
    const body = (await res.json()) as { upload: string; name: string };
    expect(body.name).toBe('x');
    expect(readdirSync(join(uploadsDir(alice), body.upload))).toEqual(['x']);
    expect(existsSync(join(alice.host.profileDir, 'x'))).toBe(false);
    const hidden = (await (await upload(alice, Buffer.from('y'), '.bashrc')).json()) as {
      name: string;
    };
    expect(hidden.name).toBe('_.bashrc');
    const none = await upload(alice, Buffer.from('z'), '', { 'X-File-Name': '' });
    expect(none.status).toBe(400);
    const badEncoding = await upload(alice, Buffer.from('z'), '', { 'X-File-Name': '%E0%A4%A' });
    expect(badEncoding.status).toBe(400);
    expect(await badEncoding.json()).toEqual({
      error: 'X-File-Name must be percent-encoded UTF-8',
    });
  });

  it('refuses uploads before login, and sendFile of an id it never gave', async () => {
    const nobody = await browser();
    const early = await upload(nobody, Buffer.from('x'), 'x.txt');
    expect(early.status).toBe(409);
    expect(readdirSync(uploadsDir(nobody))).toEqual([]);

    await peer('bob');
    const alice = await browser('alice');
    const unknown = await apiError(
      alice.api.call('sendFile', { to: 'bob', upload: 'AAAAAAAAAAAAAAAAAAAAAAAA' }),
    );
    expect(unknown).toMatchObject({ code: 'invalid', message: expect.stringMatching(/upload/) });
  });
});

describe('GET /files/<key>', () => {
  it('serves received files as downloads, raster images inline on request, never SVG', async () => {
    const downloads = tempDir('strata-alice-dl-');
    const alice = await browser('alice', downloads);
    const carol = await peer('carol');
    // A contact's files download by themselves; a message request's would wait.
    await alice.api.call('setContact', { peer: 'carol', action: 'accept' });
    const srcDir = tempDir('strata-src-');
    const send = async (name: string, bytes: Buffer) => {
      const path = join(srcDir, name);
      writeFileSync(path, bytes);
      const sent = await carol.m.sendFile('alice', path);
      await alice.until(() => alice.host.engine?.message(sent.key)?.file?.state === 'done');
      return sent.key;
    };
    const png = await send('photo.png', PNG);
    const svg = await send('logo.svg', SVG);
    const files = (key: string, query = '', headers: Record<string, string> = {}) =>
      fetch(`${alice.origin}/files/${encodeURIComponent(key)}${query}`, {
        headers: { Cookie: alice.cookie, ...headers },
      });

    const download = await files(png);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe(
      `attachment; filename="photo.png"; filename*=UTF-8''photo.png`,
    );
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    expect(download.headers.get('content-security-policy')).toMatch(/default-src 'none'.*sandbox/);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(PNG);

    const preview = await files(png, '?inline=1');
    expect(preview.headers.get('content-type')).toBe('image/png');
    expect(preview.headers.get('content-disposition')).toMatch(/^inline;/);
    await preview.arrayBuffer();

    for (const query of ['', '?inline=1']) {
      const res = await files(svg, query);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment;/);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(SVG);
    }

    expect((await files('carol/1/AAAA')).status).toBe(404);
    expect((await files(png, '', { Cookie: '' })).status).toBe(401);
    expect((await files(png, '', { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await files(png, '', { 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
  });

  it('serves a sent upload back to its page, and nothing to a host with no user', async () => {
    const bob = await peer('bob');
    const alice = await browser('alice');
    const res = (await (
      await upload(alice, Buffer.from('plan "B".txt'), 'plan "B".txt')
    ).json()) as {
      upload: string;
    };
    const sent = await alice.api.call('sendFile', { to: 'bob', upload: res.upload });
    const own = await fetch(`${alice.origin}/files/${encodeURIComponent(sent.key)}`, {
      headers: { Cookie: alice.cookie },
    });
    expect(own.status).toBe(200);
    expect(own.headers.get('content-disposition')).toBe(
      `attachment; filename="plan _B_.txt"; filename*=UTF-8''plan%20_B_.txt`,
    );
    await bob.until(() => bob.m.message(sent.key)?.file?.state === 'done');

    const nobody = await browser();
    const none = await fetch(`${nobody.origin}/files/${encodeURIComponent(sent.key)}`, {
      headers: { Cookie: nobody.cookie },
    });
    expect(none.status).toBe(404);
  });
});

describe('Uploads', () => {
  const out = (fail: (written: number) => NodeJS.ErrnoException | null) => {
    let written = 0;
    return new Writable({
      write(chunk: Buffer, _enc, done) {
        written += chunk.length;
        done(fail(written));
      },
    });
  };

  it('answers a full disk with 507 and removes the partial upload', async () => {
    const dir = tempDir('strata-uploads-');
    const enospc = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const uploads = new Uploads(dir, { openOutput: () => out((n) => (n > 100 ? enospc : null)) });
    const body = new PassThrough();
    const received = uploads.receive(body, 'a.bin', 10_000, null);
    body.write(randomBytes(100));
    body.end(randomBytes(100));
    const error = await received.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ status: 507, message: expect.stringMatching(/no room on disk/) });
    expect(readdirSync(uploads.dir)).toEqual([]);
  });

  it('removes an upload the client cuts off', async () => {
    const uploads = new Uploads(tempDir('strata-uploads-'));
    const body = new PassThrough();
    const received = uploads.receive(body, 'a.bin', 10_000, 5000);
    body.write(randomBytes(100));
    body.destroy();
    await expect(received).rejects.toMatchObject({ status: 499 });
    expect(readdirSync(uploads.dir)).toEqual([]);
  });

  it('resolves only ids it created, and clears old and unfinished uploads at start', async () => {
    const profile = tempDir('strata-uploads-');
    const first = new Uploads(profile);
    const body = new PassThrough();
    const received = first.receive(body, 'a.txt', 100, null);
    body.end('hello');
    const { id, path } = await received;
    expect(first.pathOf(id)).toBe(path);
    expect(first.pathOf('../../etc/passwd')).toBeNull();
    expect(first.pathOf('AAAAAAAAAAAAAAAAAAAAAAAA')).toBeNull();

    const dir = join(profile, 'uploads');
    mkdirSync(join(dir, 'BBBBBBBBBBBBBBBBBBBBBBBB.part'));
    mkdirSync(join(dir, 'CCCCCCCCCCCCCCCCCCCCCCCC'));
    const eightDaysAgo = (Date.now() - 8 * 24 * 3600 * 1000) / 1000;
    utimesSync(join(dir, 'CCCCCCCCCCCCCCCCCCCCCCCC'), eightDaysAgo, eightDaysAgo);
    const second = new Uploads(profile);
    // The file stays (a transfer may still stream from it), but the id was the first run's.
    expect(readdirSync(dir)).toEqual([id]);
    expect(second.pathOf(id)).toBeNull();
  });
});
