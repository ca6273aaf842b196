// The relay's HTTP API as the host reads it: its address from the WebSocket's, its stats as
// the network view's channel counters, its channel settings in the view's flat shape, and the
// requests themselves, pinned to the relay's certificate over https.
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import type { ChannelSettingsView, RelayCounters } from '../../shared/contract.ts';
import { peerFingerprint } from '../relay-pin.ts';

/** The relay's channel field behind each flattened Gilbert-Elliott field of the view. */
const GE_FIELDS = {
  geGoodToBad: 'pGoodToBad',
  geBadToGood: 'pBadToGood',
  geLossGood: 'lossGood',
  geLossBad: 'lossBad',
} as const;

/** The view's patch in the relay's shape: the `ge*` fields go into `gilbertElliott`. */
export function relayChannelPatch(patch: Partial<ChannelSettingsView>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ge: Record<string, number> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (Object.hasOwn(GE_FIELDS, key))
      ge[GE_FIELDS[key as keyof typeof GE_FIELDS]] = value as number;
    else out[key] = value;
  }
  if (Object.keys(ge).length > 0) out['gilbertElliott'] = ge;
  return out;
}

/** The relay's GET/PUT /api/channel answer as the view. */
export function channelView(body: Record<string, unknown>): ChannelSettingsView {
  const ge = (
    typeof body['gilbertElliott'] === 'object' && body['gilbertElliott'] !== null
      ? body['gilbertElliott']
      : {}
  ) as Record<string, unknown>;
  return {
    loss: Number(body['loss']),
    lossModel: body['lossModel'] === 'gilbert-elliott' ? 'gilbert-elliott' : 'bernoulli',
    geGoodToBad: Number(ge['pGoodToBad']),
    geBadToGood: Number(ge['pBadToGood']),
    geLossGood: Number(ge['lossGood']),
    geLossBad: Number(ge['lossBad']),
    ber: Number(body['ber']),
    burstBits: Number(body['burstBits']),
    code: String(body['code']),
    delayMs: Number(body['delayMs']),
    jitterMs: Number(body['jitterMs']),
    duplicate: Number(body['duplicate']),
    reorder: Number(body['reorder']),
  };
}

/** The relay's HTTP base from its WebSocket address (same host and port). */
export function httpBase(relayUrl: string): URL {
  const u = new URL(relayUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  u.search = '';
  u.hash = '';
  return u;
}

/** Picks the channel-layer counters out of the relay's /api/stats. */
export function relayCounters(stats: unknown): RelayCounters {
  const s = (typeof stats === 'object' && stats !== null ? stats : {}) as Record<string, unknown>;
  const n = (name: string): number => {
    const v = s[name];
    if (typeof v === 'number') return v;
    if (typeof v === 'object' && v !== null) {
      return Object.values(v).reduce<number>((sum, x) => sum + (typeof x === 'number' ? x : 0), 0);
    }
    return 0;
  };
  return {
    framesIn: n('frames_in'),
    framesOut: n('frames_out'),
    bytesIn: n('bytes_in'),
    bytesOut: n('bytes_out'),
    lost: n('channel_lost'),
    flipped: n('channel_bits_flipped'),
    corrected: n('channel_corrected'),
    uncorrectable: n('channel_uncorrectable'),
    duplicated: n('channel_duplicated'),
    reordered: n('channel_reordered'),
    delayed: n('channel_delayed'),
  };
}

/** An answer of the relay's HTTP API. */
export interface RelayAnswer {
  status: number;
  body: unknown;
}

/**
 * A request to the relay's HTTP API. Over https the certificate must be the one `pin` names,
 * checked once TLS is up and before anything (a token) is written; with a null pin any
 * certificate is accepted, for requests that carry nothing secret (the login's probe, before
 * the engine has pinned the relay). Node's fetch can do neither.
 */
export async function relayRequest(
  url: URL,
  pin: string | null,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number },
): Promise<RelayAnswer> {
  const options: RequestOptions = {
    method: init.method ?? 'GET',
    headers: init.headers ?? {},
    timeout: init.timeoutMs,
  };
  const tls = url.protocol === 'https:';
  // Without an agent, the request goes over the socket createConnection gives it.
  if (tls) {
    const socket = await pinnedSocket(url, pin, init.timeoutMs);
    options.createConnection = () => socket;
  } else options.agent = false;
  return new Promise<RelayAnswer>((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let body: unknown = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          // Not JSON: the status says enough.
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${init.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A TLS connection to `url`'s host whose certificate is the pinned one (any, for null). */
function pinnedSocket(url: URL, pin: string | null, timeoutMs: number): Promise<TLSSocket> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise<TLSSocket>((resolve, reject) => {
    const socket = connectTls({
      host,
      port: Number(url.port || 443),
      ...(isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: false,
    });
    const timer = setTimeout(
      () => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const got = peerFingerprint(socket);
      if (pin !== null && got !== pin) {
        socket.destroy();
        reject(
          new Error(
            `the relay's certificate changed: expected sha256 ${pin}, got ${got ?? 'none'}`,
          ),
        );
        return;
      }
      resolve(socket);
    });
  });
}
