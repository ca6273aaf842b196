// The browser host: serves the built renderer and carries the Host's API over a WebSocket, so
// that the very renderer of the desktop app runs in any browser (and under Playwright).
//
// It is a local server that can act for the user, so it trusts nothing by default:
//   - it binds to 127.0.0.1 unless told otherwise;
//   - every request needs the token, from `?token=` (the URL printed at start) or from the
//     HttpOnly, SameSite=Strict cookie set when the page is opened with it;
//   - the Host header must name this server by a loopback name (no DNS rebinding), and a
//     WebSocket's Origin must be this very server (no other site can drive the API);
//   - files are served only from the renderer's folder, with the renderer's strict CSP;
//   - uploads (POST /upload) must come from this server's own page (Origin), and the files of
//     messages (GET /files/<key>) are served by message key only, as downloads unless they are
//     raster images asked for inline.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { errorBody, type HostEvent, type WireResponse } from '../../shared/contract.ts';
import { OCTET_STREAM } from '../files/media-type.ts';
import { isPreviewableImage } from '../../shared/preview.ts';
import { sanitizeFileName } from '../files/names.ts';
import type { Host } from './host.ts';
import { UploadError, Uploads } from './uploads.ts';

export interface WebServerOptions {
  /** The Host it carries; the server fills its `uploads` hook while it runs. */
  host: Pick<Host, 'call' | 'on' | 'off' | 'profileDir' | 'session' | 'offeredFile' | 'uploads'>;
  /** The built renderer (out/renderer). */
  staticDir: string;
  port?: number;
  /** The interface to bind; loopback unless the user asks otherwise. */
  bind?: string;
  /** The access token; a random one when not given. */
  token?: string;
}

export interface WebServer {
  /** The page address with its token: what the user opens. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/**
 * The cookie that remembers the token. Browsers do not keep cookies apart by port, so each
 * server names its own: two hosts on 127.0.0.1 (Alice's and Bob's) opened in one browser must
 * not overwrite each other's token.
 */
const cookieName = (port: number): string => `strata_token_${port}`;
/** The largest API request accepted (a message is at most 100,000 characters). */
const MAX_REQUEST_BYTES = 1024 * 1024;
/** A client that lets this much pile up unread is dropped rather than buffered forever. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export class WebServerError extends Error {
  override name = 'WebServerError';
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const root = resolve(options.staticDir);
  // Read at start (to fail early) and again for each page load, so that a rebuilt renderer
  // is served without a restart.
  let { indexHtml, csp } = loadIndex(root);
  const token = options.token ?? randomBytes(24).toString('base64url');
  if (token.length < 16 || !/^[A-Za-z0-9_-]+$/.test(token)) {
    throw new WebServerError('the token must be at least 16 characters of A-Z, a-z, 0-9, _ or -');
  }
  const tokenDigest = digest(token);
  const bind = options.bind ?? '127.0.0.1';

  const server = createServer();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST_BYTES });
  let port = 0;

  const allowedHosts = (): Set<string> =>
    new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${bind}:${port}`]);
  const tokenOf = (req: IncomingMessage): string | null => {
    const q = new URL(req.url ?? '/', 'http://host').searchParams.get('token');
    if (q !== null) return q;
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === cookieName(port)) return v.join('=');
    }
    return null;
  };
  const authorised = (req: IncomingMessage): boolean => {
    const given = tokenOf(req);
    return given !== null && timingSafeEqual(digest(given), tokenDigest);
  };

  server.on('request', (req, res) => {
    try {
      serve(req, res);
    } catch (e) {
      if (!res.headersSent) text(res, 500, `internal error: ${(e as Error).message}`);
      else res.destroy();
    }
  });

  function serve(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    if (!allowedHosts().has(req.headers.host ?? '')) {
      return text(res, 421, 'This server answers only to its loopback address.');
    }
    const url = new URL(req.url ?? '/', 'http://host');
    if (url.pathname === '/upload') {
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        return json(res, 405, { error: 'send the file with POST' });
      }
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return text(res, 405, 'Only GET and HEAD are served here.');
    }
    if (!authorised(req)) {
      if (url.pathname === '/upload') return json(res, 401, { error: 'the token is missing' });
      return text(
        res,
        401,
        'Strata browser host: open the address with its token, as printed when the host started.',
      );
    }
    if (url.pathname === '/upload') {
      // The cookie goes along with requests from any page on 127.0.0.1, whatever its port:
      // only this server's own page may upload (browsers always send Origin on a POST).
      const fetchSite = req.headers['sec-fetch-site'];
      if (
        req.headers.origin !== `http://${req.headers.host}` ||
        (fetchSite !== undefined && fetchSite !== 'same-origin')
      ) {
        return json(res, 403, { error: 'uploads are accepted only from this page' });
      }
      void receiveUpload(req, res);
      return;
    }
    if (url.pathname.startsWith('/files/')) {
      // Downloads and previews are for this page; a link followed from elsewhere ('cross-site',
      // or 'same-site' from another port of this machine) is refused.
      const fetchSite = req.headers['sec-fetch-site'];
      if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
        return text(res, 403, 'Files are served only to this page.');
      }
      void serveMessageFile(req, res, url);
      return;
    }
    if (url.searchParams.has('token')) {
      // Remember the token for the page's own requests (scripts, styles, the API socket).
      res.setHeader(
        'Set-Cookie',
        `${cookieName(port)}=${tokenOf(req)}; HttpOnly; SameSite=Strict; Path=/`,
      );
    }
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return text(res, 400, 'Bad path.');
    }
    if (path === '/' || path === '/index.html') {
      ({ indexHtml, csp } = loadIndex(root));
      res.writeHead(200, {
        'Content-Type': TYPES['.html']!,
        'Content-Security-Policy': csp,
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : withLanguage(indexHtml, options.host));
      return;
    }
    const file = resolve(root, `.${path}`);
    if (!file.startsWith(root + sep) || path.includes('\0')) return text(res, 404, 'Not found.');
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) return text(res, 404, 'Not found.');
      size = st.size;
    } catch {
      return text(res, 404, 'Not found.');
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': size,
      'Content-Security-Policy': csp,
      // Vite names assets by content hash, so they never change under their name.
      'Cache-Control': path.startsWith('/assets/') ? 'max-age=31536000, immutable' : 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  }

  const uploads = new Uploads(options.host.profileDir);
  options.host.uploads = uploads;

  async function receiveUpload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Past the answer the connection closes: whatever the client still sends is not read.
    res.setHeader('Connection', 'close');
    const limit = options.host.session.files?.maxFileBytes;
    if (limit === undefined) return json(res, 409, { error: 'log in before sending files' });
    const length = req.headers['content-length'];
    const header = req.headers['x-file-name'];
    try {
      const upload = await uploads.receive(
        req,
        Array.isArray(header) ? header[0] : header,
        limit,
        length === undefined ? null : Number(length),
      );
      json(res, 200, { upload: upload.id, name: upload.name, size: upload.size });
    } catch (e) {
      if (!(e instanceof UploadError)) {
        json(res, 500, { error: `the upload failed: ${(e as Error).message}` });
      } else if (e.status === 499) {
        res.destroy(); // nobody is left to answer
      } else {
        json(res, e.status, { error: e.message });
      }
    }
  }

  /** GET /files/<encodeURIComponent(key)>: the file of a message, by key only. */
  async function serveMessageFile(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<void> {
    let key: string;
    try {
      key = decodeURIComponent(url.pathname.slice('/files/'.length));
    } catch {
      return text(res, 400, 'Bad message key.');
    }
    const offered = options.host.offeredFile(key);
    if (offered === null) return text(res, 404, 'No such file.');
    const { path, file } = offered;
    let handle;
    try {
      handle = await open(path, 'r');
    } catch {
      return text(res, 404, 'The file is no longer there.');
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) return text(res, 404, 'No such file.');
      const image = isPreviewableImage(file.type ?? '');
      const name = sanitizeFileName(file.name ?? basename(path));
      const inline = image && url.searchParams.get('inline') === '1';
      res.writeHead(200, {
        'Content-Type': image ? file.type! : OCTET_STREAM,
        'Content-Length': st.size,
        'Content-Disposition': `${inline ? 'inline' : 'attachment'}; ${dispositionName(name)}`,
        // The page's policy, and no script or plugin even if a file were ever rendered.
        'Content-Security-Policy': `${csp}; sandbox`,
        'Cache-Control': 'no-store',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      await pipeline(handle.createReadStream({ autoClose: false }), res);
    } catch {
      // The client went away mid-download, or the file could not be read on: end the response.
      res.destroy();
    } finally {
      await handle.close();
    }
  }

  server.on('upgrade', (req, socket, head) => {
    // Past the upgrade event Node no longer handles this socket's errors: a peer that resets
    // the connection after being refused would otherwise throw an unhandled 'error' event.
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, why: string) => {
      socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const host = req.headers.host ?? '';
    if (!allowedHosts().has(host)) return refuse(421, 'Misdirected Request');
    // Browsers always send Origin on WebSocket handshakes: only this server's own page may.
    if (req.headers.origin !== `http://${host}`) return refuse(403, 'Forbidden');
    // Any process can send a request target that is no URL (`GET http://[ HTTP/1.1`); a throw
    // here would escape the event handler and end the host.
    if (URL.parse(req.url ?? '/', 'http://host') === null) return refuse(400, 'Bad Request');
    if (new URL(req.url ?? '/', 'http://host').pathname !== '/api') {
      return refuse(404, 'Not Found');
    }
    if (!authorised(req)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  const clients = new Set<WebSocket>();
  const onEvent = (event: HostEvent) => {
    const data = JSON.stringify({ event } satisfies WireResponse);
    for (const ws of clients) send(ws, data);
  };
  options.host.on('event', onEvent);

  function send(ws: WebSocket, data: string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      ws.close(1008, 'too far behind');
      return;
    }
    ws.send(data);
  }

  function attach(ws: WebSocket): void {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('error', () => clients.delete(ws));
    ws.on('message', (raw, isBinary) => {
      let request: { id?: unknown; method?: unknown; params?: unknown };
      try {
        if (isBinary) throw new Error('binary');
        request = JSON.parse(raw.toString()) as typeof request;
        if (typeof request !== 'object' || request === null) throw new Error('not an object');
      } catch {
        ws.close(1003, 'requests are JSON objects');
        return;
      }
      const id = request.id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
        ws.close(1003, 'a request needs a numeric id');
        return;
      }
      options.host.call(request.method, request.params).then(
        (result) => send(ws, JSON.stringify({ id, result: result ?? null })),
        (e: unknown) => send(ws, JSON.stringify({ id, error: errorBody(e) })),
      );
    });
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        new WebServerError(
          e.code === 'EADDRINUSE'
            ? `port ${options.port} is in use: choose another with --port`
            : `cannot listen on ${bind}:${options.port ?? 0}: ${e.message}`,
        ),
      ),
    );
    server.listen(options.port ?? 0, bind, () => ok());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = bind.includes(':') ? `[${bind}]` : bind;

  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    async close() {
      options.host.off('event', onEvent);
      if (options.host.uploads === uploads) options.host.uploads = null;
      for (const ws of clients) ws.terminate();
      wss.close();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** The built index.html and the Content-Security-Policy of its meta tag, which every response carries. */
function loadIndex(root: string): { indexHtml: string; csp: string } {
  let indexHtml: string;
  try {
    indexHtml = readFileSync(join(root, 'index.html'), 'utf8');
  } catch {
    throw new WebServerError(
      `the renderer is not built (no ${join(root, 'index.html')}): run \`npm run build\` first`,
    );
  }
  const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(indexHtml)?.[1];
  if (csp === undefined) throw new WebServerError('index.html carries no Content-Security-Policy');
  return { indexHtml, csp };
}

/**
 * The page in the profile's language, so that its first paint already speaks it (the renderer
 * reads data-language before it has the session). Only the contract's language codes get in.
 */
export function withLanguage(indexHtml: string, host: Pick<Host, 'session'>): string {
  const language = host.session.preferences.language;
  if (language === null) return indexHtml;
  return indexHtml.replace(
    /<html lang="[a-z]*">/,
    `<html lang="${language}" data-language="${language}">`,
  );
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

/**
 * The filename parameters of a Content-Disposition (RFC 6266): `filename*` in UTF-8 for the
 * real name, and a plain ASCII `filename` for clients that know no better.
 */
function dispositionName(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(body + '\n');
}
