// The browser host: serves the built renderer and carries the Host's API over a WebSocket, so
// that the very renderer of the desktop app runs in any browser (and under Playwright).
//
// It is a local server that can act for the user, so it trusts nothing by default:
//   - it binds to 127.0.0.1 unless told otherwise;
//   - every request needs the token, from `?token=` (the URL printed at start) or from the
//     HttpOnly, SameSite=Strict cookie set when the page is opened with it;
//   - the Host header must name this server by a loopback name (no DNS rebinding), and a
//     WebSocket's Origin must be this very server (no other site can drive the API);
//   - files are served only from the renderer's folder, with the renderer's strict CSP.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { errorBody, type HostEvent, type WireResponse } from '../../shared/contract.ts';
import type { Host } from './host.ts';

export interface WebServerOptions {
  host: Pick<Host, 'call' | 'on' | 'off'>;
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
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return text(res, 405, 'Only GET and HEAD are served here.');
    }
    if (!authorised(req)) {
      return text(
        res,
        401,
        'Strata browser host: open the address with its token, as printed when the host started.',
      );
    }
    const url = new URL(req.url ?? '/', 'http://host');
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
      res.end(req.method === 'HEAD' ? undefined : indexHtml);
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

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(body + '\n');
}
