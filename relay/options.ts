// The relay's settings from command-line flags and RELAY_* environment variables (flags
// win). One table describes every option once: its flag, its variable, its parser and its
// help line. Channel options are checked by the same schema as PUT /api/channel.
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { readArgs, tokenConfig } from '../src/shared/args.ts';
import { isLoopbackHost } from '../src/shared/loopback.ts';
import { MAX_FRAME_BYTES } from '../src/shared/protocol/index.ts';
import { applyChannelPatch, defaultChannelConfig, type ChannelConfig } from './channel/config.ts';
import { isLogLevel, type LogLevel } from './log.ts';
import type { StoreLimits } from './store.ts';

export interface RelayOptions {
  host: string;
  port: number;
  dataDir: string;
  /** The admin API's bearer token; main.ts makes one when none is given. */
  adminToken: string | null;
  /** PEM files of the TLS certificate and its key: both or neither. */
  tlsCert: string | null;
  tlsKey: string | null;
  /** Plain ws:// and http:// on an address other than loopback (else a self-signed cert). */
  insecure: boolean;
  /**
   * Where /metrics, /api/stats and /api/channel are served: `main` (the main port), an
   * address of their own, or null for the default (see adminAddress()).
   */
  adminListen: 'main' | ListenAddress | null;
  logLevel: LogLevel;
  maxFrameBytes: number;
  /** Bytes queued in memory towards one connection; beyond them its frames go to the store. */
  sendBufferBytes: number;
  maxConnections: number;
  maxFramesPerSec: number;
  helloTimeoutMs: number;
  /** Ping every connection this often; one silent since the last ping is dropped (0: off). */
  heartbeatMs: number;
  summaryIntervalMs: number;
  store: StoreLimits;
  channel: ChannelConfig;
  /** Abuse limits per source address and per user (docs/relay.md, section 9). */
  limits: AbuseLimits;
}

export interface AbuseLimits {
  /** Connections (WebSocket or HTTP) one address may hold; never more than half the relay's. */
  connectionsPerAddress: number;
  /** Connections of one address that have not said hello yet (or are plain HTTP). */
  greetingPerAddress: number;
  /** New connections per second one address may open (a bucket of four seconds' worth). */
  connectsPerSecPerAddress: number;
  /** Time a connection has to send a complete HTTP request header or WebSocket upgrade. */
  headerTimeoutMs: number;
  /** Frames per second one user may send, all of its devices together. */
  userFramesPerSec: number;
  /** Bytes per second one user may send, all of its devices together. */
  userBytesPerSec: number;
  /** Names never seen before that one address may bring, per hour. */
  newNamesPerHour: number;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export class OptionsError extends Error {
  override name = 'OptionsError';
}

const MiB = 1024 * 1024;

export function defaultOptions(): RelayOptions {
  return {
    host: '127.0.0.1',
    port: 7000,
    dataDir: './relay-data',
    adminToken: null,
    tlsCert: null,
    tlsKey: null,
    insecure: false,
    adminListen: null,
    logLevel: 'info',
    maxFrameBytes: MAX_FRAME_BYTES,
    sendBufferBytes: 8 * MiB,
    maxConnections: 10_000,
    maxFramesPerSec: 50_000,
    helloTimeoutMs: 10_000,
    heartbeatMs: 15_000,
    summaryIntervalMs: 10_000,
    store: {
      maxFramesPerUser: 200_000,
      maxBytesPerUser: 1024 * MiB,
      maxBytesTotal: 8 * 1024 * MiB,
      maxAgeMs: 7 * 24 * 3600 * 1000,
      maxFramesPerSender: 200_000,
      maxBytesPerSender: 1024 * MiB,
    },
    channel: defaultChannelConfig(randomInt(0, 0xffff_ffff)),
    limits: {
      connectionsPerAddress: 256,
      greetingPerAddress: 64,
      connectsPerSecPerAddress: 50,
      headerTimeoutMs: 10_000,
      userFramesPerSec: 100_000,
      userBytesPerSec: 1024 * MiB,
      newNamesPerHour: 100,
    },
  };
}

type Setter = (o: RelayOptions, value: string, channel: Record<string, unknown>) => void;

interface OptionSpec {
  flag: string;
  /** The value's name in the help; '' for a flag that takes none. */
  arg: string;
  help: string;
  set: Setter;
}

/** The shortest admin token accepted: 128 bits written as hex. */
export const MIN_ADMIN_TOKEN_CHARS = 32;

/** Plain decimal notation only: `0x10` or `1e3` for a port is more likely a mistake. */
const INTEGER = /^\d+$/;
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)$/;

function int(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!INTEGER.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new OptionsError(`--${name} must be an integer from ${min} to ${max}, not "${value}"`);
  }
  return n;
}

function num(name: string, value: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(n)) {
    throw new OptionsError(`--${name} must be a number, not "${value}"`);
  }
  return n;
}

/** A flag without a value on the command line; in the environment 1/true or 0/false. */
function bool(name: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new OptionsError(`--${name} is true or false (1 or 0), not "${value}"`);
}

/** `HOST:PORT`, with an IPv6 host in brackets (`[::1]:7001`). */
function listenAddress(name: string, value: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(value);
  if (!m) throw new OptionsError(`--${name} must be HOST:PORT (or [IPv6]:PORT), not "${value}"`);
  return { host: m[1] ?? m[2]!, port: int(name, m[3]!, 0, 65535) };
}

/** A channel option: parsed here for its type, range-checked by the channel schema. */
function channel(
  flag: string,
  key: string,
  kind: 'number' | 'string',
  help: string,
  arg = 'N',
): OptionSpec {
  return {
    flag,
    arg,
    help,
    set: (_o, v, ch) => {
      ch[key] = kind === 'number' ? num(flag, v) : v;
    },
  };
}

function geChannel(flag: string, key: string, help: string): OptionSpec {
  return {
    flag,
    arg: 'P',
    help,
    set: (_o, v, ch) => {
      const ge = (ch.gilbertElliott ??= {}) as Record<string, number>;
      ge[key] = num(flag, v);
    },
  };
}

const OPTIONS: OptionSpec[] = [
  {
    flag: 'host',
    arg: 'ADDR',
    help: 'address to listen on (default 127.0.0.1; 0.0.0.0 for a LAN)',
    set: (o, v) => (o.host = v),
  },
  {
    flag: 'port',
    arg: 'PORT',
    help: 'port for WebSocket and HTTP (default 7000; 0 picks a free one)',
    set: (o, v) => (o.port = int('port', v, 0, 65535)),
  },
  {
    flag: 'data-dir',
    arg: 'DIR',
    help: 'where the relay keeps its database (default ./relay-data)',
    set: (o, v) => (o.dataDir = v),
  },
  {
    flag: 'admin-token',
    arg: 'TOKEN',
    help: `bearer token for /api/channel, at least ${MIN_ADMIN_TOKEN_CHARS} characters (default: a random one, printed at start)`,
    set: (o, v) => {
      if (v.length < MIN_ADMIN_TOKEN_CHARS)
        throw new OptionsError(
          `--admin-token must be at least ${MIN_ADMIN_TOKEN_CHARS} characters (128 bits as hex: ` +
            `openssl rand -hex 16), not ${v.length}`,
        );
      o.adminToken = v;
    },
  },
  {
    flag: 'tls-cert',
    arg: 'FILE',
    help: 'serve wss:// and https:// with this PEM certificate (with --tls-key)',
    set: (o, v) => (o.tlsCert = v),
  },
  {
    flag: 'tls-key',
    arg: 'FILE',
    help: 'the PEM private key of --tls-cert',
    set: (o, v) => (o.tlsKey = v),
  },
  {
    flag: 'insecure',
    arg: '',
    help: 'plain ws:// and http:// on an address other than loopback (default there: TLS with a self-signed certificate)',
    set: (o, v) => (o.insecure = bool('insecure', v)),
  },
  {
    flag: 'admin-listen',
    arg: 'HOST:PORT',
    help: 'serve /metrics, /api/stats and /api/channel there, or "main" for the main port (default: the main port on loopback, else 127.0.0.1 on the next port)',
    set: (o, v) => (o.adminListen = v === 'main' ? 'main' : listenAddress('admin-listen', v)),
  },
  {
    flag: 'log-level',
    arg: 'LEVEL',
    help: 'error, warn, info (default) or debug (one line per frame)',
    set: (o, v) => {
      if (!isLogLevel(v))
        throw new OptionsError(`--log-level must be error, warn, info or debug, not "${v}"`);
      o.logLevel = v;
    },
  },
  {
    flag: 'max-frame-bytes',
    arg: 'N',
    help: `largest frame accepted (default and maximum ${MAX_FRAME_BYTES})`,
    set: (o, v) => (o.maxFrameBytes = int('max-frame-bytes', v, 64, MAX_FRAME_BYTES)),
  },
  {
    flag: 'send-buffer-bytes',
    arg: 'N',
    help: 'bytes queued in memory towards one connection before its frames go to the store (default 8 MiB)',
    set: (o, v) => (o.sendBufferBytes = int('send-buffer-bytes', v, 64 * 1024, 1024 * MiB)),
  },
  {
    flag: 'max-connections',
    arg: 'N',
    help: 'connections accepted at once (default 10000)',
    set: (o, v) => (o.maxConnections = int('max-connections', v, 1, 1_000_000)),
  },
  {
    flag: 'max-frames-per-sec',
    arg: 'N',
    help: 'frames per second one connection may send (default 50000)',
    set: (o, v) => (o.maxFramesPerSec = int('max-frames-per-sec', v, 1, 10_000_000)),
  },
  {
    flag: 'heartbeat',
    arg: 'SEC',
    help: 'seconds between pings; a connection silent since the last one is dropped (default 15; 0: off)',
    set: (o, v) => (o.heartbeatMs = int('heartbeat', v, 0, 3600) * 1000),
  },
  {
    flag: 'summary-interval',
    arg: 'SEC',
    help: 'seconds between summary log lines (default 10; 0 turns them off)',
    set: (o, v) => (o.summaryIntervalMs = int('summary-interval', v, 0, 86_400) * 1000),
  },
  {
    flag: 'store-max-frames',
    arg: 'N',
    help: 'frames held per offline user (default 200000)',
    set: (o, v) => (o.store.maxFramesPerUser = int('store-max-frames', v, 1, 100_000_000)),
  },
  {
    flag: 'store-max-bytes',
    arg: 'N',
    help: 'bytes held per offline user (default 1 GiB)',
    set: (o, v) =>
      (o.store.maxBytesPerUser = int('store-max-bytes', v, 1024, Number.MAX_SAFE_INTEGER)),
  },
  {
    flag: 'store-max-total-bytes',
    arg: 'N',
    help: 'bytes held for all offline users (default 8 GiB)',
    set: (o, v) =>
      (o.store.maxBytesTotal = int('store-max-total-bytes', v, 1024, Number.MAX_SAFE_INTEGER)),
  },
  {
    flag: 'store-max-age',
    arg: 'SEC',
    help: 'seconds a frame is held for an offline user (default 7 days)',
    set: (o, v) => (o.store.maxAgeMs = int('store-max-age', v, 1, 10 * 365 * 86_400) * 1000),
  },
  {
    flag: 'store-max-sender-frames',
    arg: 'N',
    help: 'frames held from one sender, for all its recipients (default 200000)',
    set: (o, v) => (o.store.maxFramesPerSender = int('store-max-sender-frames', v, 1, 100_000_000)),
  },
  {
    flag: 'store-max-sender-bytes',
    arg: 'N',
    help: 'bytes held from one sender, for all its recipients (default 1 GiB)',
    set: (o, v) =>
      (o.store.maxBytesPerSender = int('store-max-sender-bytes', v, 1024, Number.MAX_SAFE_INTEGER)),
  },
  {
    flag: 'max-connections-per-address',
    arg: 'N',
    help: 'connections one source address may hold (default 256; at most half of --max-connections)',
    set: (o, v) =>
      (o.limits.connectionsPerAddress = int('max-connections-per-address', v, 1, 1_000_000)),
  },
  {
    flag: 'max-greeting-per-address',
    arg: 'N',
    help: 'connections of one address not yet past their hello (default 64)',
    set: (o, v) => (o.limits.greetingPerAddress = int('max-greeting-per-address', v, 1, 1_000_000)),
  },
  {
    flag: 'connects-per-sec-per-address',
    arg: 'N',
    help: 'new connections per second from one address, in bursts of four seconds (default 50)',
    set: (o, v) =>
      (o.limits.connectsPerSecPerAddress = int('connects-per-sec-per-address', v, 1, 1_000_000)),
  },
  {
    flag: 'header-timeout',
    arg: 'SEC',
    help: 'seconds a connection has to send a whole HTTP request header or upgrade (default 10)',
    set: (o, v) => (o.limits.headerTimeoutMs = int('header-timeout', v, 1, 3600) * 1000),
  },
  {
    flag: 'user-frames-per-sec',
    arg: 'N',
    help: 'frames per second one user may send, all devices together (default 100000)',
    set: (o, v) => (o.limits.userFramesPerSec = int('user-frames-per-sec', v, 1, 100_000_000)),
  },
  {
    flag: 'user-bytes-per-sec',
    arg: 'N',
    help: 'bytes per second one user may send, all devices together (default 1 GiB)',
    set: (o, v) =>
      (o.limits.userBytesPerSec = int('user-bytes-per-sec', v, 1024, Number.MAX_SAFE_INTEGER)),
  },
  {
    flag: 'max-new-names-per-hour',
    arg: 'N',
    help: 'names never seen before one source address may bring per hour (default 100)',
    set: (o, v) => (o.limits.newNamesPerHour = int('max-new-names-per-hour', v, 1, 1_000_000)),
  },
  channel('loss', 'loss', 'number', 'probability R that a frame is lost (0..1)', 'R'),
  channel(
    'loss-model',
    'lossModel',
    'string',
    'bernoulli (default) or gilbert-elliott (bursts)',
    'MODEL',
  ),
  geChannel(
    'ge-good-to-bad',
    'pGoodToBad',
    'Gilbert-Elliott: chance per frame of entering the bad state',
  ),
  geChannel(
    'ge-bad-to-good',
    'pBadToGood',
    'Gilbert-Elliott: chance per frame of leaving the bad state',
  ),
  geChannel('ge-loss-good', 'lossGood', 'Gilbert-Elliott: loss probability in the good state'),
  geChannel('ge-loss-bad', 'lossBad', 'Gilbert-Elliott: loss probability in the bad state'),
  channel('ber', 'ber', 'number', 'probability P that a frame takes a bit error (0..1)', 'P'),
  channel('burst-bits', 'burstBits', 'number', 'adjacent bits flipped by one error (default 1)'),
  channel('code', 'code', 'string', 'none, hamming74, hamming1511, cyclic74 or cyclic1511', 'CODE'),
  channel(
    'on-uncorrectable',
    'onUncorrectable',
    'string',
    'drop (default) or pass a frame the code cannot repair',
    'WHAT',
  ),
  channel(
    'delay-ms',
    'delayMs',
    'number',
    'delay added to every frame, in ms (up to 600000)',
    'MS',
  ),
  channel('jitter-ms', 'jitterMs', 'number', 'random +/- variation of the delay, in ms', 'MS'),
  channel('duplicate', 'duplicate', 'number', 'probability that a frame is delivered twice', 'P'),
  channel(
    'reorder',
    'reorder',
    'number',
    'probability that a frame is held back and overtaken',
    'P',
  ),
  channel(
    'reorder-delay-ms',
    'reorderDelayMs',
    'number',
    'how long a reordered frame is held back (default 20)',
    'MS',
  ),
  channel(
    'rate',
    'rateBytesPerSec',
    'number',
    'bytes per second towards each connection (0: unlimited)',
    'BPS',
  ),
  channel(
    'queue-bytes',
    'queueBytes',
    'number',
    'rate limiter queue per connection (default 4 MiB)',
  ),
  channel(
    'seed',
    'seed',
    'number',
    'seed for every random choice of the channel (default: random, shown at start)',
  ),
];

export function helpText(): string {
  const rows = OPTIONS.map((o) => [`  --${o.flag}${o.arg ? ` ${o.arg}` : ''}`, o.help]);
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return [
    'Strata relay: routes frames between users, holds them for offline users and emulates a',
    'noisy channel (loss, bit errors with error-correcting codes, delay, reordering, ...).',
    '',
    'Usage: npm run relay -- [options]',
    '',
    'Options (each also from the environment: --data-dir is RELAY_DATA_DIR, and so on):',
    ...rows.map(([a, b]) => `${a!.padEnd(width)}  ${b}`),
    `${'  --help'.padEnd(width)}  this text`,
    '',
    'On loopback the relay serves ws:// and http://; on any other address wss:// and https://',
    '(--tls-cert and --tls-key, or a self-signed certificate it makes in the data directory),',
    'unless --insecure. HTTP on the same port: GET /healthz; GET /metrics, GET /api/stats, GET',
    'and PUT /api/channel (Authorization: Bearer <admin token>) there or on --admin-listen.',
  ].join('\n');
}

function envName(flag: string): string {
  return 'RELAY_' + flag.toUpperCase().replace(/-/g, '_');
}

export type ParseResult = { help: true } | { help: false; options: RelayOptions };

/** Parses `argv` (without node and script) over `env`. Throws OptionsError with a clear message. */
export function parseOptions(argv: string[], env: Record<string, string | undefined>): ParseResult {
  // Help is always available, however broken the rest of the command line or environment.
  if (argv.includes('--help') || argv.includes('-h')) return { help: true };
  const o = defaultOptions();
  const byFlag = new Map(OPTIONS.map((s) => [s.flag, s]));
  // Channel settings are range-checked by the channel schema; each variable on its own first,
  // so that an error names the variable that caused it.
  for (const spec of OPTIONS) {
    const name = envName(spec.flag);
    const v = env[name];
    if (v === undefined || v === '') continue;
    try {
      const one: Record<string, unknown> = {};
      spec.set(o, v, one);
      applyChannel(o, one);
    } catch (e) {
      throw new OptionsError(`${name}: ${(e as Error).message}`);
    }
  }
  const ch: Record<string, unknown> = {};
  const types = Object.fromEntries(
    OPTIONS.map((spec) => [spec.flag, spec.arg ? ('string' as const) : ('boolean' as const)]),
  );
  for (const a of readArgs(parseArgs(tokenConfig(argv, types)).tokens, argv, types)) {
    if (a.kind === 'word') throw new OptionsError(`unexpected argument "${a.value}" (see --help)`);
    if (a.kind === 'unknown') throw new OptionsError(`unknown option --${a.name} (see --help)`);
    const spec = byFlag.get(a.name)!;
    if (a.kind === 'missing') throw new OptionsError(`--${a.name} needs a value (${spec.arg})`);
    if (a.kind === 'value') spec.set(o, a.value, ch);
    if (a.kind === 'flag') spec.set(o, 'true', ch);
  }
  applyChannel(o, ch);
  checkTransport(o);
  return { help: false, options: o };
}

/** The TLS options make sense together. */
function checkTransport(o: RelayOptions): void {
  if ((o.tlsCert === null) !== (o.tlsKey === null))
    throw new OptionsError('--tls-cert and --tls-key go together: give both or neither');
  if (o.insecure && o.tlsCert !== null)
    throw new OptionsError('--insecure serves plain ws://: it does not go with --tls-cert');
}

/** Whether the relay serves TLS: with a certificate given, or on anything but loopback. */
export function servesTls(o: RelayOptions): boolean {
  return o.tlsCert !== null || (!isLoopbackHost(o.host) && !o.insecure);
}

/**
 * Where the admin endpoints are served: null for the main port (a loopback relay, or
 * `--admin-listen main`), else their own address (default 127.0.0.1 on the port after the
 * main one, any free port when the main one is picked by the system).
 */
export function adminAddress(o: RelayOptions): ListenAddress | null {
  if (o.adminListen === 'main') return null;
  if (o.adminListen !== null) return o.adminListen;
  if (isLoopbackHost(o.host)) return null;
  return { host: '127.0.0.1', port: o.port === 0 || o.port === 65535 ? 0 : o.port + 1 };
}

function applyChannel(o: RelayOptions, patch: Record<string, unknown>): void {
  if (Object.keys(patch).length === 0) return;
  const result = applyChannelPatch(o.channel, patch, Date.now());
  if (!result.ok) throw new OptionsError(`channel: ${result.errors.join('; ')}`);
  o.channel = result.config;
}
