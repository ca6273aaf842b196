// The relay: the channel layer of Strata. This module is its server: the HTTP server and its
// WebSocket upgrade, the metrics, and the modules that do the work, wired together:
// admission.ts (connections, hello, limits), accounts.ts (who a hello may claim to be, and
// the account frames), routing.ts (frames to devices, through the
// channel emulator), offline-queue.ts (frames for devices away), custody.ts (the relay's
// durable copy of every data frame) and presence.ts (who is online, and who hears of it).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { encodeAccountMessage } from '../src/shared/protocol/account.ts';
import { MAX_WATCHED_USERS, type Frame } from '../src/shared/protocol/index.ts';
import '../src/node/native-crc32.ts';
import { AdminGuard } from './admin-guard.ts';
import { AddressGuard } from './address-guard.ts';
import { Accounts } from './accounts.ts';
import { Admission, CLOSE } from './admission.ts';
import { ChannelEmulator } from './channel/emulator.ts';
import { relayCounters, type RelayCounters } from './counters.ts';
import { Custody } from './custody.ts';
import { startHeartbeat } from './heartbeat.ts';
import { handleHttp, type Endpoints } from './http-api.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { adminAddress, servesTls, type RelayOptions } from './options.ts';
import { Presence } from './presence.ts';
import { Router, fromRelay } from './routing.ts';
import type { Session } from './session.ts';
import { relayIdentity } from './relay-id.ts';
import { RelayStore } from './store.ts';
import { relayTls, type RelayTls } from './tls-cert.ts';

const EXPIRE_INTERVAL_MS = 60_000;

/** What a relay may be given instead of making it itself. */
export interface RelayDeps {
  /**
   * The relay's identity every hello signs (relay-id.ts): the TLS setup passes the SHA-256 of
   * its certificate; without it, the id kept in the data folder.
   */
  relayId?: Uint8Array;
  /** The accounts' clock (link codes expire by it); tests move it. */
  now?: () => number;
}

export class Relay {
  readonly options: RelayOptions;
  readonly log: Logger;
  readonly metrics = new Metrics();
  readonly channel: ChannelEmulator;
  readonly store: RelayStore;
  readonly custody: Custody;
  private readonly router: Router;
  private readonly admission: Admission;
  private readonly presence: Presence;
  /** The certificate served (wss:// and https://), or null: plain ws:// and http://. */
  readonly tls: RelayTls | null;
  /** Slows down and counts wrong admin tokens. */
  readonly adminGuard: AdminGuard;
  readonly accounts: Accounts;
  /** The 32 bytes every hello to this relay signs. */
  readonly relayId: Uint8Array;
  private readonly http: Server;
  /** The admin endpoints' own server (--admin-listen), or null: on the main port. */
  private readonly adminHttp: Server | null;
  private readonly guard: AddressGuard;
  private readonly wss: WebSocketServer;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  /** Set by close(): nothing touches the store after it. */
  private closing = false;
  private readonly startedAt = Date.now();
  private readonly count: RelayCounters;

  constructor(
    options: RelayOptions,
    log: Logger = createLogger(options.logLevel),
    deps: RelayDeps = {},
  ) {
    this.options = options;
    this.log = log;
    this.store = new RelayStore(options.dataDir, options.store);
    try {
      this.tls = servesTls(options) ? relayTls(options) : null;
      // Over TLS the id is the certificate's SHA-256, which a client checks against the
      // certificate it saw: a signature made through a man in the middle names the wrong relay.
      this.relayId =
        deps.relayId ??
        (this.tls
          ? new Uint8Array(Buffer.from(this.tls.fingerprint, 'hex'))
          : relayIdentity(options.dataDir));
    } catch (e) {
      void this.store.close();
      throw e;
    }
    this.adminGuard = new AdminGuard(this.metrics);
    this.channel = new ChannelEmulator(this.metrics, options.channel);
    this.count = relayCounters(this.metrics);
    const router = new Router(options, this.store, this.channel, log, this.count);
    this.router = router;
    this.presence = new Presence(this.store, router, (what, fn) => this.safely(what, fn));
    this.custody = new Custody(
      this.store,
      {
        devicesOf: (user, device) => router.devicesOf(user, device, null),
        sendControl: (target, frame) => router.sendControl(target, frame),
        sendError: (target, code, messageId, text) =>
          router.sendError(target, code, messageId, text),
        resend: (target, bytes, sender) =>
          router.forward(target, bytes, { type: 'data', sender }, null),
        ready: (target) => !target.draining && target.pending < this.options.sendBufferBytes,
      },
      log,
      this.metrics,
    );
    const now = deps.now ?? Date.now;
    this.accounts = new Accounts(
      this.store,
      {
        sessionsOf: (user, device = 0) => router.devicesOf(user, device, null),
        send: (s, m) =>
          router.sendControl(s, {
            type: 'account',
            ...fromRelay(s),
            body: encodeAccountMessage(m),
          }),
        refuse: (s, code, text, strike) =>
          strike
            ? this.admission.reject(s, code, 'account-refused', text, 0)
            : router.sendError(s, code, 0, text),
        evict: (s, code, text, closeCode) => this.admission.evict(s, code, text, closeCode),
        watchersOf: (user) => this.presence.audienceOf(user),
        now,
      },
      this.relayId,
      this.metrics,
    );
    this.admission = new Admission(
      options,
      router,
      {
        greet: (s) => this.greet(s),
        hello: (s, hello) => this.accounts.hello(s, hello),
        opened: (s) => this.opened(s),
        frame: (s, frame, bytes) => this.onFrame(s, frame, bytes),
        left: (s, gone) => {
          this.safely('recording the device last seen', () => this.accounts.seen(s, Date.now()));
          this.presence.disconnected(s.user, gone, Date.now());
        },
        closed: (s) => {
          this.accounts.closed(s);
          this.presence.closed(s);
        },
      },
      log,
      this.count,
    );
    const m = this.metrics;
    m.gauge('connections', 'Open WebSocket connections.', () => router.sessions.size);
    m.gauge('users_online', 'Users with at least one connected device.', () => router.byUser.size);
    m.gauge('offline_frames', 'Frames held for offline devices.', () => this.store.frames);
    m.gauge('offline_bytes', 'Bytes held for offline devices.', () => this.store.bytes);
    m.gauge('channel_held_frames', 'Frames held back by the channel.', () => router.held.frames);
    m.gauge('channel_held_bytes', 'Bytes held back by the channel.', () => router.held.bytes);
    m.gauge('pending_bytes_max', 'Largest queue towards one connection, in bytes.', () => {
      let max = 0;
      for (const s of router.sessions) max = Math.max(max, s.pending);
      return max;
    });

    const serve = (endpoints: Endpoints) => {
      const handler = (req: IncomingMessage, res: ServerResponse) =>
        handleHttp(this, req, res, endpoints);
      return this.tls
        ? createTlsServer({ cert: this.tls.cert, key: this.tls.key }, handler)
        : createServer(handler);
    };
    const admin = adminAddress(options);
    this.http = serve(admin === null ? 'all' : 'public');
    this.adminHttp = admin === null ? null : serve('admin');
    this.guard = new AddressGuard(
      options.limits,
      options.maxConnections,
      (reason) => this.count.connectionsRefused(reason),
      log,
    );
    this.guard.attach(this.http);
    this.wss = new WebSocketServer({
      noServer: true,
      // ws closes anything far beyond the limit itself; frames just over it get an error frame.
      maxPayload: options.maxFrameBytes + 1024 * 1024,
      perMessageDeflate: false,
    });
    this.http.on('upgrade', (req, socket, head) => {
      const path = new URL(req.url ?? '/', 'http://relay').pathname;
      if (path !== '/') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      if (router.sessions.size >= options.maxConnections) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
        this.count.rejected('connection-limit');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const s = this.admission.accept(
          ws,
          `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`,
        );
        this.guard.upgraded(req.socket, s);
      });
    });
  }

  get uptimeMs(): number {
    return Date.now() - this.startedAt;
  }

  /** Starts listening (and the admin server, if it has its own); resolves with the address. */
  async listen(): Promise<AddressInfo> {
    await listenOn(this.http, this.options);
    const admin = adminAddress(this.options);
    if (this.adminHttp && admin) {
      try {
        await listenOn(this.adminHttp, admin);
      } catch (e) {
        throw new Error(
          `the admin address ${admin.host}:${admin.port} (--admin-listen): ${(e as Error).message}`,
          { cause: e },
        );
      }
    }
    const expire = setInterval(() => this.expireStored(), EXPIRE_INTERVAL_MS);
    this.timers.push(expire);
    this.expireStored();
    this.custody.start();
    this.timers.push(
      ...startHeartbeat(this.router.sessions, this.options.heartbeatMs, this.log, this.metrics),
    );
    if (this.options.summaryIntervalMs > 0) {
      let last = '';
      this.timers.push(
        setInterval(() => {
          const line = this.summary();
          if (line !== last) this.log.info(line);
          last = line;
        }, this.options.summaryIntervalMs),
      );
    }
    return this.http.address() as AddressInfo;
  }

  /** Where the admin endpoints listen on their own, or null: on the main port. */
  get adminAddressInfo(): AddressInfo | null {
    return (this.adminHttp?.address() as AddressInfo | null | undefined) ?? null;
  }

  /** One line of the counters the course's demonstration watches. */
  summary(): string {
    const v = (n: string) => this.metrics.value(n);
    return (
      `summary connections=${v('connections')} online=${v('users_online')} ` +
      `in=${v('frames_in')} out=${v('frames_out')} lost=${v('channel_lost')} ` +
      `flipped=${v('channel_bits_flipped')} corrected=${v('channel_corrected')} ` +
      `uncorrectable=${v('channel_uncorrectable')} duplicated=${v('channel_duplicated')} ` +
      `delayed=${v('channel_delayed')} stored=${v('offline_frames')} ` +
      `custody=${v('custody_frames')}`
    );
  }

  /** Stops accepting, keeps what the channel still held, closes every connection. */
  async close(): Promise<void> {
    if (this.closing) return;
    for (const t of this.timers) clearInterval(t);
    // What custody still had pending is committed (and answered) before anything closes.
    this.custody.close();
    // Frames the channel was still delaying are kept for their recipients, not dropped.
    this.router.keepHeld();
    this.presence.close(Date.now());
    this.closing = true;
    this.admission.closing = true;
    this.router.queue.close();
    const sessions = this.router.sessions;
    for (const s of sessions) s.ws.close(CLOSE.goingAway, 'relay shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const s of sessions) s.ws.terminate();
    this.adminGuard.close();
    this.guard.close();
    await Promise.all(
      [this.http, this.adminHttp].map(
        (server) =>
          new Promise<void>((resolve) =>
            server?.listening ? server.close(() => resolve()) : resolve(),
          ),
      ),
    );
    await this.store.close();
  }

  /** A new connection: its challenge, which its hello must sign. */
  private greet(s: Session): void {
    const challenge = this.accounts.challenge();
    s.challenge = challenge;
    this.router.sendControl(s, { type: 'challenge', ...fromRelay(s), ...challenge });
  }

  /** A device said hello: welcome it, tell its watchers, deliver what waited for it. */
  private opened(s: Session): void {
    const now = Date.now();
    this.safely('recording the device last seen', () => this.accounts.seen(s, now));
    const queued = this.router.queue.waitingFor(s.user, s.device);
    this.router.sendControl(s, {
      type: 'welcome',
      ...fromRelay(s),
      serverTime: now,
      maxFrameBytes: this.options.maxFrameBytes,
      queued,
    });
    this.guard.greeted(s);
    this.safely('counting the prekeys', () => this.accounts.prekeys.welcomed(s));
    this.presence.connected(s, now);
    if (queued > 0) void this.router.queue.drain(s);
  }

  /** A checked frame from a client: routed, then seen by custody. */
  private onFrame(s: Session, frame: Frame, bytes: Uint8Array): void {
    if (frame.type === 'account') {
      this.accounts.frame(s, frame);
      return;
    }
    if (frame.type === 'watch') {
      if (!this.presence.watch(s, frame)) {
        this.count.rejected('watch-limit');
        this.router.sendError(
          s,
          'watchLimit',
          0,
          `a connection may watch at most ${MAX_WATCHED_USERS} users`,
        );
      }
      return;
    }
    if (!this.presence.knows(frame.to)) {
      this.count.rejected('unknown-recipient');
      this.router.sendError(
        s,
        'unknownRecipient',
        frame.type === 'data' ? frame.messageId : 0,
        `no user "${frame.to}" has ever connected to this relay`,
      );
      return;
    }
    const routed = this.router.route(s, frame, bytes);
    // Delivery never waits for the disk: custody follows the routing. A frame for a recipient
    // who is away cannot be acknowledged soon: custody writes it at once.
    if (frame.type === 'data' && routed !== 'refused') {
      this.presence.exchanged(s.user, frame.to);
      this.custody.take(s, frame, bytes, routed === 'sent');
    } else if (frame.type === 'ack') this.custody.onAck(frame);
    else if (frame.type === 'receipt') this.custody.onReceipt(frame);
  }

  private expireStored(): void {
    this.safely('expiring stored frames', () => this.router.queue.expire(Date.now()));
    this.custody.expire(Date.now());
  }

  /**
   * Runs bookkeeping that may fail on a sick disk (full, read-only) without failing the
   * caller: routing goes on, the failure is logged and counted.
   */
  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.count.rejected('storage-error');
      this.log.error(`${what}: ${(e as Error).message}`);
    }
  }
}

function listenOn(server: Server, at: { host: string; port: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
