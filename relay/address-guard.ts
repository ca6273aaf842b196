// Limits per source address on the relay's TCP connections, before HTTP or WebSocket spends
// anything on them: how many one address holds, how many of those have not said hello yet
// (or are plain HTTP), how fast it opens new ones, and how long any connection may take to
// send a whole request header or upgrade. And a share of the relay for light addresses: once
// it is three quarters full, an address already holding a sixteenth of it gets no more, so
// that the last quarter stays for everyone else. docs/relay.md, section 9.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from './log.ts';
import { KeyedBuckets, addressKey } from './limits.ts';
import type { AbuseLimits } from './options.ts';

/** HTTP connections (metrics, stats, the admin API) allowed beyond --max-connections. */
export const HTTP_HEADROOM = 64;
/** Seconds of connection attempts an address may make in one burst. */
const BURST_SECONDS = 4;

export type ConnectionRefusal =
  | 'address-connections'
  | 'address-greeting'
  | 'address-rate'
  | 'address-share'
  | 'relay-full'
  | 'header-timeout';

interface AddressUse {
  open: number;
  greeting: number;
}

interface Tracked {
  key: string;
  greeting: boolean;
  timer: ReturnType<typeof setTimeout> | null;
}

export class AddressGuard {
  private readonly limits: AbuseLimits;
  private readonly maxConnections: number;
  private readonly refused: (reason: ConnectionRefusal) => void;
  private readonly log: Logger;
  private readonly attempts: KeyedBuckets;
  private readonly byAddress = new Map<string, AddressUse>();
  private readonly sockets = new Map<Socket, Tracked>();
  private readonly ofSession = new WeakMap<object, Socket>();

  constructor(
    limits: AbuseLimits,
    maxConnections: number,
    refused: (reason: ConnectionRefusal) => void,
    log: Logger,
  ) {
    this.limits = limits;
    this.maxConnections = maxConnections;
    this.refused = refused;
    this.log = log;
    const rate = limits.connectsPerSecPerAddress;
    this.attempts = new KeyedBuckets(rate * BURST_SECONDS, rate);
  }

  /** The most connections one address may hold: its flag, and never half the relay. */
  get perAddress(): number {
    return Math.min(this.limits.connectionsPerAddress, Math.max(1, this.maxConnections >> 1));
  }

  /** Watches every connection `server` accepts, and bounds its HTTP timeouts. */
  attach(server: Server): void {
    const t = this.limits.headerTimeoutMs;
    server.headersTimeout = t;
    server.requestTimeout = 3 * t;
    server.on('connection', (socket: Socket) => this.connected(socket));
    server.on('request', (req, res) => {
      // A whole header arrived: the request is under requestTimeout now. The next request on
      // the same connection has a header timeout of its own.
      this.disarm(req.socket);
      res.once('finish', () => this.arm(req.socket));
    });
  }

  /** `session` is the WebSocket that `socket` was upgraded to. */
  upgraded(socket: Socket, session: object): void {
    this.disarm(socket);
    this.ofSession.set(session, socket);
  }

  /** `session` said hello: its connection no longer counts as greeting. */
  greeted(session: object): void {
    const socket = this.ofSession.get(session);
    const t = socket && this.sockets.get(socket);
    if (!t?.greeting) return;
    t.greeting = false;
    this.byAddress.get(t.key)!.greeting--;
  }

  /** Closes what never became a WebSocket (the relay is closing). */
  close(): void {
    for (const [socket, t] of this.sockets) if (t.greeting) socket.destroy();
  }

  private connected(socket: Socket): void {
    const key = addressKey(socket.remoteAddress);
    const use = this.byAddress.get(key) ?? { open: 0, greeting: 0 };
    const refusal = this.check(key, use);
    if (refusal) {
      this.refuse(socket, key, refusal);
      return;
    }
    use.open++;
    use.greeting++;
    this.byAddress.set(key, use);
    this.sockets.set(socket, { key, greeting: true, timer: null });
    this.arm(socket);
    socket.once('close', () => this.closed(socket));
  }

  private check(key: string, use: AddressUse): ConnectionRefusal | null {
    if (this.sockets.size >= this.maxConnections + HTTP_HEADROOM) return 'relay-full';
    if (!this.attempts.take(key)) return 'address-rate';
    if (use.open >= this.perAddress) return 'address-connections';
    if (use.greeting >= this.limits.greetingPerAddress) return 'address-greeting';
    const crowded = this.sockets.size >= (this.maxConnections * 3) / 4;
    if (crowded && use.open >= Math.max(4, this.maxConnections >> 4)) return 'address-share';
    return null;
  }

  private refuse(socket: Socket, key: string, reason: ConnectionRefusal): void {
    this.refused(reason);
    this.log.debug(`refusing a connection from ${key}: ${reason}`);
    const status = reason === 'address-rate' ? '429 Too Many Requests' : '503 Service Unavailable';
    socket.on('error', () => {});
    socket.end(
      `HTTP/1.1 ${status}\r\nConnection: close\r\nRetry-After: 10\r\nContent-Length: 0\r\n\r\n`,
    );
    // Whatever the other side does, the socket goes once the answer is written.
    socket.once('finish', () => socket.destroy());
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private closed(socket: Socket): void {
    const t = this.sockets.get(socket);
    if (!t) return;
    this.sockets.delete(socket);
    if (t.timer) clearTimeout(t.timer);
    const use = this.byAddress.get(t.key)!;
    use.open--;
    if (t.greeting) use.greeting--;
    if (use.open === 0) this.byAddress.delete(t.key);
  }

  /** Gives `socket` the header timeout to send a whole request header or upgrade. */
  private arm(socket: Socket): void {
    const t = this.sockets.get(socket);
    if (!t || t.timer || socket.destroyed) return;
    t.timer = setTimeout(() => {
      t.timer = null;
      this.refused('header-timeout');
      this.log.debug(`closing a connection from ${t.key}: no complete request in time`);
      socket.destroy();
    }, this.limits.headerTimeoutMs);
  }

  private disarm(socket: Socket): void {
    const t = this.sockets.get(socket);
    if (t?.timer) clearTimeout(t.timer);
    if (t) t.timer = null;
  }
}
