// HTTP on the relay's port: health, metrics, statistics, and the admin API that changes the
// channel at run time. The admin API needs `Authorization: Bearer <token>`; wrong tokens are
// answered slowly (admin-guard.ts); a relay embedded without a token refuses it altogether.
// Metrics, statistics and the admin API may live on an address of their own (--admin-listen).
// Every error answer carries a machine-readable `code` (for programs and translations) next
// to its English `error` text.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeChannel } from './channel/config.ts';
import { addressKey } from './admin-guard.ts';
import type { Relay } from './relay.ts';

/**
 * What one server answers: everything (the main port of a loopback relay), all but the
 * admin endpoints (the main port when they have their own address), or those and /healthz.
 */
export type Endpoints = 'all' | 'public' | 'admin';

/** The endpoints --admin-listen moves off the main port. */
const ADMIN_PATHS: ReadonlySet<string> = new Set(['/metrics', '/api/stats', '/api/channel']);

/** The largest request body accepted (PUT /api/channel takes a small JSON object). */
const MAX_BODY_BYTES = 64 * 1024;

export function handleHttp(
  relay: Relay,
  req: IncomingMessage,
  res: ServerResponse,
  endpoints: Endpoints = 'all',
): void {
  // A fault in one request answers 500 and is logged; it never takes the relay down.
  const fail = (e: unknown) => {
    relay.log.error(`internal error on ${req.method} ${req.url}: ${(e as Error).stack ?? e}`);
    if (!res.headersSent) fault(res, 500, 'internal', 'internal error');
    else res.destroy();
  };
  try {
    route(relay, req, res, fail, endpoints);
  } catch (e) {
    fail(e);
  }
}

function route(
  relay: Relay,
  req: IncomingMessage,
  res: ServerResponse,
  fail: (e: unknown) => void,
  endpoints: Endpoints,
): void {
  const url = new URL(req.url ?? '/', 'http://relay');
  const method = req.method ?? 'GET';
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  const admin = ADMIN_PATHS.has(url.pathname);
  if (endpoints === 'public' && admin)
    return fault(res, 404, 'notFound', `${url.pathname} is served on the relay's admin address`);
  if (endpoints === 'admin' && !admin && url.pathname !== '/healthz')
    return fault(res, 404, 'notFound', `no such endpoint on the admin address: ${url.pathname}`);
  const route = `${method} ${url.pathname}`;
  switch (route) {
    case 'GET /':
      res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
      res.end('This is a Strata relay. Connect with a WebSocket; see /healthz and /metrics.\n');
      return;
    case 'GET /healthz':
      return json(res, 200, { status: 'ok', uptimeSeconds: Math.round(relay.uptimeMs / 1000) });
    case 'GET /metrics':
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(relay.metrics.prometheus());
      return;
    case 'GET /api/stats':
      return json(res, 200, relay.metrics.json());
    case 'GET /api/channel':
      if (!authorised(relay, req, res)) return;
      return json(res, 200, describeChannel(relay.channel.settings, Date.now()));
    case 'PUT /api/channel':
      if (!authorised(relay, req, res)) return;
      readJson(
        req,
        res,
        (body) => {
          const result = relay.channel.update(body);
          if (!result.ok)
            return fault(res, 400, 'invalidSettings', 'invalid channel settings', {
              details: result.errors,
            });
          relay.log.info(`channel set: ${JSON.stringify(body)}`);
          json(res, 200, describeChannel(result.config, Date.now()));
        },
        fail,
      );
      return;
  }
  const known = ['/', '/healthz', '/metrics', '/api/stats', '/api/channel'];
  if (known.includes(url.pathname))
    return fault(res, 405, 'methodNotAllowed', `${method} is not allowed here`);
  fault(res, 404, 'notFound', `no such endpoint: ${url.pathname}`);
}

/** The codes of the HTTP API's error answers. */
export type HttpErrorCode =
  | 'internal'
  | 'invalidSettings'
  | 'methodNotAllowed'
  | 'notFound'
  | 'adminDisabled'
  | 'unauthorized'
  | 'tooManyAttempts'
  | 'bodyTooLarge'
  | 'badJson';

function fault(
  res: ServerResponse,
  status: number,
  code: HttpErrorCode,
  error: string,
  more: Record<string, unknown> = {},
): void {
  json(res, status, { code, error, ...more });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body) + '\n');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function authorised(relay: Relay, req: IncomingMessage, res: ServerResponse): boolean {
  const token = relay.options.adminToken;
  if (token === null) {
    fault(
      res,
      403,
      'adminDisabled',
      'the admin API is disabled: start the relay with --admin-token',
    );
    return false;
  }
  const address = addressKey(req.socket.remoteAddress);
  const guard = relay.adminGuard;
  if (!guard.mayTry(address)) {
    res.setHeader('Retry-After', String(Math.ceil(guard.limits.maxDelayMs / 1000)));
    fault(
      res,
      429,
      'tooManyAttempts',
      'too many wrong admin tokens from this address: wait for their answers first',
    );
    return false;
  }
  const header = req.headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice(7) : '';
  // Comparing digests keeps the comparison constant-time whatever the lengths.
  if (!given || !timingSafeEqual(digest(given), digest(token))) {
    // The request's body is not needed: stop reading it while the answer waits.
    req.resume();
    guard.failed(address, (delayMs) => {
      res.setHeader('WWW-Authenticate', 'Bearer realm="strata-relay"');
      fault(
        res,
        401,
        'unauthorized',
        'a valid admin token is required (Authorization: Bearer <token>)',
        { delayedMs: delayMs },
      );
    });
    return false;
  }
  guard.succeeded(address);
  return true;
}

function readJson(
  req: IncomingMessage,
  res: ServerResponse,
  then: (body: unknown) => void,
  fail: (e: unknown) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES && !failed) {
      failed = true;
      fault(res, 413, 'bodyTooLarge', `request body over ${MAX_BODY_BYTES} bytes`);
      req.destroy();
      return;
    }
    if (!failed) chunks.push(chunk);
  });
  req.on('end', () => {
    if (failed) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      fault(res, 400, 'badJson', 'the body is not valid JSON');
      return;
    }
    try {
      then(body);
    } catch (e) {
      fail(e);
    }
  });
  req.on('error', () => {
    failed = true;
  });
}
