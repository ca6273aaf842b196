// The relay: the channel layer of Strata. It accepts WebSocket connections, learns who each
// one is from its hello, routes frames to every connected device of their recipient (and a
// copy of outgoing data to the sender's other devices), holds frames for offline devices in
// SQLite, takes custody of every data frame (custody.ts), and passes data and
// acknowledgement frames through the channel emulator.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  MAX_PRESENCE_ENTRIES,
  decodeFrame,
  encodeFrame,
  type Envelope,
  type ErrorCodeName,
  type Frame,
  type FrameTypeName,
  type PresenceEntry,
} from '../src/shared/protocol/index.ts';
import '../src/core/native-crc32.ts';
import { DelayLine } from './channel/delay-line.ts';
import { ChannelEmulator, type Fate } from './channel/emulator.ts';
import { Custody } from './custody.ts';
import { startHeartbeat } from './heartbeat.ts';
import { handleHttp } from './http-api.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import type { RelayOptions } from './options.ts';
import { Session } from './session.ts';
import { RelayStore, type FrameRoute } from './store.ts';

/** Frames the channel impairs: the transport's own. Control frames pass clean. */
const IMPAIRED: ReadonlySet<FrameTypeName> = new Set(['data', 'ack']);
/** Frames held for offline recipients. Typing indicators are transient and are not. */
const STORED: ReadonlySet<FrameTypeName> = new Set(['data', 'ack', 'receipt']);
/** Frames a client may send after its hello. */
const FROM_CLIENT: ReadonlySet<FrameTypeName> = new Set(['data', 'ack', 'typing', 'receipt']);

/** Protocol violations tolerated within STRIKE_WINDOW_MS before the connection is closed. */
const MAX_STRIKES = 20;
const STRIKE_WINDOW_MS = 30_000;
/** Stored frames fetched from SQLite per step while a device catches up. */
const DRAIN_BATCH = 256;
/** A queue this many times the send buffer drops frames instead of growing further. */
const HARD_LIMIT_FACTOR = 4;
const EXPIRE_INTERVAL_MS = 60_000;

/** WebSocket close codes (RFC 6455 section 7.4.1, and the private range for our own). */
const CLOSE = { goingAway: 1001, policy: 1008, internalError: 1011, replaced: 4000 } as const;

interface Delayed {
  target: Session;
  bytes: Uint8Array;
  route: FrameRoute;
}

export class Relay {
  readonly options: RelayOptions;
  readonly log: Logger;
  readonly metrics = new Metrics();
  readonly channel: ChannelEmulator;
  readonly store: RelayStore;
  readonly custody: Custody;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<Session>();
  private readonly byUser = new Map<string, Set<Session>>();
  private readonly knownUsers = new Set<string>();
  private readonly delayLine: DelayLine<Delayed>;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private nextSessionId = 1;
  /** Set by close(): nothing touches the store after it. */
  private closing = false;
  private readonly startedAt = Date.now();
  private readonly count;

  constructor(options: RelayOptions, log: Logger = createLogger(options.logLevel)) {
    this.options = options;
    this.log = log;
    this.store = new RelayStore(options.dataDir, options.store);
    for (const u of this.store.users()) this.knownUsers.add(u.name);
    this.channel = new ChannelEmulator(this.metrics, options.channel);
    this.delayLine = new DelayLine((d) => this.deliverDelayed(d));
    this.custody = new Custody(
      this.store,
      {
        devicesOf: (user, device) => this.devicesOf(user, device, null),
        sendControl: (target, frame) => this.sendControl(target, frame),
        sendError: (target, code, messageId, text) => this.sendError(target, code, messageId, text),
        resend: (target, bytes, sender) =>
          this.forward(target, bytes, { type: 'data', sender }, null),
        ready: (target) => !target.draining && target.pending < this.options.sendBufferBytes,
      },
      log,
      this.metrics,
    );
    const m = this.metrics;
    this.count = {
      framesIn: m.counter('frames_in', 'Frames received from clients, by type.', 'type'),
      framesOut: m.counter('frames_out', 'Frames written to clients, by type.', 'type'),
      bytesIn: m.counter('bytes_in', 'Bytes received from clients.'),
      bytesOut: m.counter('bytes_out', 'Bytes written to clients.'),
      rejected: m.counter('frames_rejected', 'Frames refused, by reason.', 'reason'),
      stored: m.counter('offline_queued', 'Frames stored for offline devices.'),
      storedDelivered: m.counter('offline_delivered', 'Stored frames delivered on reconnect.'),
      expired: m.counter('offline_expired', 'Stored frames discarded at the age limit.'),
      paused: m.counter('backpressure_pauses', 'Times a sender was paused for a slow recipient.'),
      connections: m.counter('connections_opened', 'WebSocket connections accepted.'),
      closedForAbuse: m.counter('connections_closed_abuse', 'Connections closed for abuse.'),
    };
    m.gauge('connections', 'Open WebSocket connections.', () => this.sessions.size);
    m.gauge('users_online', 'Users with at least one connected device.', () => this.byUser.size);
    m.gauge('offline_frames', 'Frames held for offline devices.', () => this.store.frames);
    m.gauge('offline_bytes', 'Bytes held for offline devices.', () => this.store.bytes);
    m.gauge('channel_held_frames', 'Frames held back by the channel.', () => this.delayLine.size);
    m.gauge('channel_held_bytes', 'Bytes held back by the channel.', () => this.delayLine.bytes);
    m.gauge('pending_bytes_max', 'Largest queue towards one connection, in bytes.', () => {
      let max = 0;
      for (const s of this.sessions) max = Math.max(max, s.pending);
      return max;
    });

    this.http = createServer((req, res) => handleHttp(this, req, res));
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
      if (this.sessions.size >= options.maxConnections) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
        this.count.rejected('connection-limit');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.accept(ws, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`);
      });
    });
  }

  get uptimeMs(): number {
    return Date.now() - this.startedAt;
  }

  /** Starts listening; resolves with the bound address. */
  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const expire = setInterval(() => this.expireStored(), EXPIRE_INTERVAL_MS);
    this.timers.push(expire);
    this.expireStored();
    this.custody.start();
    this.timers.push(
      ...startHeartbeat(this.sessions, this.options.heartbeatMs, this.log, this.metrics),
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
    for (const d of this.delayLine.drain())
      this.storeFor(d.target.user, d.target.device, d.bytes, d.route);
    const now = Date.now();
    this.safely('recording last seen', () => {
      for (const user of this.byUser.keys()) this.store.touchUser(user, now);
    });
    this.closing = true;
    for (const s of this.sessions) s.ws.close(CLOSE.goingAway, 'relay shutting down');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const s of this.sessions) s.ws.terminate();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.store.close();
  }

  // ---------------------------------------------------------------------------------------
  // Connections

  private accept(ws: WebSocket, remote: string): void {
    const o = this.options;
    const s = new Session(
      this.nextSessionId++,
      ws,
      remote,
      o.sendBufferBytes / 2,
      o.maxFramesPerSec,
    );
    this.sessions.add(s);
    this.count.connections();
    this.log.debug(`connection ${s.label} opened (protocol upgrade to websocket)`);
    const helloTimer = setTimeout(() => {
      if (s.state === 'greeting') this.closeSession(s, CLOSE.policy, 'no hello received in time');
    }, o.helloTimeoutMs);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = toBytes(data);
      this.count.bytesIn('', bytes.length);
      if (!isBinary) {
        this.reject(s, 'malformed', 'text', 'frames are binary; text messages are not accepted', 0);
        return;
      }
      try {
        this.onFrame(s, bytes);
      } catch (e) {
        // A fault in handling one frame must not take the relay down for everyone.
        this.count.rejected('internal-error');
        this.log.error(
          `internal error on a frame from ${s.label}: ${(e as Error).stack ?? String(e)}`,
        );
        this.closeSession(s, CLOSE.internalError, 'internal error');
      }
    });
    ws.on('close', (code, reason) => {
      clearTimeout(helloTimer);
      this.onClose(s, code, reason.toString());
    });
    ws.on('error', (err) => this.log.warn(`connection ${s.label}: ${err.message}`));
  }

  private onClose(s: Session, code: number, reason: string): void {
    const wasOpen = s.state === 'open' && !this.closing;
    s.state = 'closed';
    this.sessions.delete(s);
    this.channel.forgetLink(s.id);
    s.drained();
    for (const slow of s.pausedBy) slow.blockedSources.delete(s);
    s.pausedBy.clear();
    this.log.debug(`connection ${s.label} closed (${code}${reason ? ` ${reason}` : ''})`);
    if (!wasOpen) return;
    const devices = this.byUser.get(s.user);
    devices?.delete(s);
    const now = Date.now();
    if (devices && devices.size === 0) {
      this.byUser.delete(s.user);
      this.safely('recording last seen', () => this.store.touchUser(s.user, now));
    }
    this.broadcastPresence(s.user, now);
  }

  private closeSession(s: Session, code: number, reason: string): void {
    // Once closing, further reasons (say, more strikes in flight) change nothing.
    if (s.state === 'closed' || s.ws.readyState !== s.ws.OPEN) return;
    this.log.info(`closing ${s.label}: ${reason}`);
    s.ws.close(code, reason);
  }

  // ---------------------------------------------------------------------------------------
  // Frames from clients

  private onFrame(s: Session, bytes: Uint8Array): void {
    if (s.state === 'closed') return;
    const decoded = decodeFrame(bytes, { maxFrameBytes: this.options.maxFrameBytes });
    if (!decoded.ok) {
      const { kind, message } = decoded.error;
      const code: ErrorCodeName =
        kind === 'oversized'
          ? 'frameTooLarge'
          : kind === 'unsupported-version'
            ? 'unsupportedVersion'
            : 'malformed';
      this.reject(s, code, kind, message, 0);
      return;
    }
    const frame = decoded.frame;
    this.count.framesIn(frame.type);
    if (s.state === 'greeting') {
      if (frame.type !== 'hello') {
        this.reject(s, 'notAuthenticated', 'before-hello', 'send a hello frame first', 0);
        this.closeSession(s, CLOSE.policy, 'frame before hello');
        return;
      }
      this.onHello(s, frame);
      return;
    }
    if (!FROM_CLIENT.has(frame.type)) {
      this.reject(s, 'notAllowed', 'not-allowed', `clients may not send ${frame.type} frames`, 0);
      return;
    }
    const messageId = frame.type === 'data' ? frame.messageId : 0;
    if (frame.from !== s.user || frame.fromDevice !== s.device) {
      this.reject(
        s,
        'senderMismatch',
        'sender-mismatch',
        `this connection is ${s.user}/${s.device}`,
        messageId,
      );
      return;
    }
    if (!this.takeToken(s)) return;
    if (!this.knownUsers.has(frame.to)) {
      this.count.rejected('unknown-recipient');
      this.sendError(
        s,
        'unknownRecipient',
        messageId,
        `no user "${frame.to}" has ever connected to this relay`,
      );
      return;
    }
    const routed = this.route(s, frame, bytes);
    // Delivery never waits for the disk: custody follows the routing. A frame for a recipient
    // who is away cannot be acknowledged soon: custody writes it at once.
    if (frame.type === 'data' && routed !== 'refused') {
      this.custody.take(s, frame, bytes, routed === 'sent');
    } else if (frame.type === 'ack') this.custody.onAck(frame);
    else if (frame.type === 'receipt') this.custody.onReceipt(frame);
  }

  private onHello(s: Session, hello: Frame & { type: 'hello' }): void {
    if (hello.auth.scheme !== 'none') {
      this.reject(s, 'badHello', 'bad-hello', 'unsupported authentication scheme', 0);
      this.closeSession(s, CLOSE.policy, 'bad hello');
      return;
    }
    const now = Date.now();
    const devices = this.byUser.get(hello.from) ?? new Set<Session>();
    for (const other of devices) {
      if (other.device === hello.fromDevice) {
        this.sendError(other, 'replaced', 0, 'another connection logged in as this device');
        this.closeSession(other, CLOSE.replaced, 'replaced by a newer connection');
        devices.delete(other);
        other.state = 'closed';
        this.sessions.delete(other);
      }
    }
    s.user = hello.from;
    s.device = hello.fromDevice;
    s.agent = hello.agent;
    s.state = 'open';
    devices.add(s);
    this.byUser.set(s.user, devices);
    this.knownUsers.add(s.user);
    this.safely('remembering the user', () => this.store.rememberUser(s.user, now));
    this.log.info(`hello ${s.label} from ${s.remote} (${s.agent || 'unknown agent'})`);

    const queued = this.store.countPending(s.user, s.device);
    this.sendControl(s, {
      type: 'welcome',
      ...this.fromRelay(s),
      serverTime: now,
      maxFrameBytes: this.options.maxFrameBytes,
      queued,
    });
    this.sendPresenceSnapshot(s);
    this.broadcastPresence(s.user, now);
    if (queued > 0) void this.drainStored(s);
  }

  /** Counts a frame against the connection's rate; refuses it when over. */
  private takeToken(s: Session): boolean {
    const rate = this.options.maxFramesPerSec;
    const now = performance.now();
    s.tokens = Math.min(rate, s.tokens + ((now - s.tokensAt) / 1000) * rate);
    s.tokensAt = now;
    if (s.tokens >= 1) {
      s.tokens -= 1;
      return true;
    }
    this.count.rejected('rate-limited');
    // One error and one strike per second at most: a flood must not be answered by a flood.
    if (now - s.lastRateError > 1000) {
      s.lastRateError = now;
      this.sendError(s, 'rateLimited', 0, `more than ${rate} frames per second`);
      this.strike(s, 'frame rate limit exceeded');
    }
    return false;
  }

  private reject(
    s: Session,
    code: ErrorCodeName,
    reason: string,
    text: string,
    messageId: number,
  ): void {
    this.count.rejected(reason);
    this.log.debug(`reject ${s.label}: ${reason}: ${text}`);
    this.sendError(s, code, messageId, text);
    this.strike(s, `${reason}: ${text}`);
  }

  private strike(s: Session, why: string): void {
    if (s.ws.readyState !== s.ws.OPEN) return;
    const now = Date.now();
    s.strikes = s.strikes.filter((t) => now - t < STRIKE_WINDOW_MS);
    s.strikes.push(now);
    if (s.strikes.length > MAX_STRIKES) {
      this.count.closedForAbuse();
      this.closeSession(s, CLOSE.policy, `too many invalid frames (last: ${why})`.slice(0, 120));
    }
  }

  // ---------------------------------------------------------------------------------------
  // Routing

  /**
   * Routes a frame from a client: `sent` towards the recipient's devices, `stored` for a
   * recipient who is offline, or `refused` (the sender has been told): its recipient is
   * offline and the relay could not store it.
   */
  private route(source: Session, frame: Frame, bytes: Uint8Array): 'sent' | 'stored' | 'refused' {
    const route: FrameRoute = { type: frame.type, sender: frame.from };
    const recipients = this.devicesOf(frame.to, frame.toDevice, source);
    let outcome: 'sent' | 'stored' | 'refused' = 'sent';
    if (recipients.length === 0 && STORED.has(frame.type)) {
      const accepted = this.storeFor(frame.to, frame.toDevice, bytes, route, source, frame);
      outcome = accepted ? 'stored' : 'refused';
      this.log.debug(
        `${describe(frame)} ${accepted ? 'stored for offline recipient' : 'refused by quota'}`,
      );
    }
    for (const target of recipients) this.forward(target, bytes, route, source, frame);
    // Multi-device history: the sender's other devices see what it sent.
    if (frame.type === 'data' && frame.to !== frame.from) {
      for (const own of this.devicesOf(frame.from, 0, source))
        this.forward(own, bytes, route, source, frame);
    }
    return outcome;
  }

  private devicesOf(user: string, device: number, except: Session | null): Session[] {
    const all = this.byUser.get(user);
    if (!all) return [];
    const out: Session[] = [];
    for (const s of all) if (s !== except && (device === 0 || s.device === device)) out.push(s);
    return out;
  }

  /** Sends one frame towards one device: through the channel if it is impaired. */
  private forward(
    target: Session,
    bytes: Uint8Array,
    route: FrameRoute,
    source: Session | null,
    frame?: Frame,
  ): void {
    if (target.draining && STORED.has(route.type)) {
      // Stored frames are still being delivered; this one waits behind them to keep order.
      // (Transient frames such as typing are never stored: they go at once.)
      this.storeFor(target.user, target.device, bytes, route, source, frame);
      return;
    }
    if (!IMPAIRED.has(route.type)) {
      this.sendNow(target, bytes, route.type, source);
      return;
    }
    const fate = this.channel.transmit(bytes, {
      from: route.sender,
      to: target.user,
      link: target.id,
    });
    if (this.log.enabled('debug')) {
      this.log.debug(
        `${frame ? describe(frame) : `${route.type} from ${route.sender}`} -> ${target.label} ${describeFate(fate)}`,
      );
    }
    if (!fate.delivered) return;
    for (const copy of fate.copies) {
      if (copy.delayMs <= 0) this.sendNow(target, copy.bytes, route.type, source);
      else {
        target.held += copy.bytes.length;
        this.delayLine.schedule(
          { target, bytes: copy.bytes, route },
          copy.delayMs,
          copy.bytes.length,
        );
        this.applyBackpressure(target, source);
      }
    }
  }

  private deliverDelayed(d: Delayed): void {
    d.target.held -= d.bytes.length;
    // The device may have reconnected while the channel held the frame: use its new
    // connection. If it is still away, or still catching up, keep the frame for it.
    const { user, device } = d.target;
    const live = d.target.state === 'open' ? d.target : this.devicesOf(user, device, null)[0];
    if (live && !live.draining) this.sendNow(live, d.bytes, d.route.type, null);
    else this.storeFor(user, device, d.bytes, d.route);
  }

  private sendNow(
    target: Session,
    bytes: Uint8Array,
    type: FrameTypeName,
    source: Session | null,
  ): void {
    const hardLimit = this.options.sendBufferBytes * HARD_LIMIT_FACTOR;
    if (target.pending + bytes.length > hardLimit) {
      this.count.rejected('overloaded');
      if (source)
        this.sendError(source, 'overloaded', 0, `${target.user} is not keeping up; frame dropped`);
      return;
    }
    target.send(bytes);
    this.count.framesOut(type);
    this.count.bytesOut('', bytes.length);
    this.applyBackpressure(target, source);
  }

  private applyBackpressure(target: Session, source: Session | null): void {
    if (
      source &&
      source !== target &&
      target.pending > this.options.sendBufferBytes &&
      !source.pausedBy.has(target)
    ) {
      source.pauseFor(target);
      this.count.paused();
      this.log.debug(`backpressure: pausing ${source.label} until ${target.label} catches up`);
    }
  }

  /** The envelope of a frame the relay sends to `s`. */
  private fromRelay(s: Session): Envelope {
    return { from: '', fromDevice: 0, to: s.user, toDevice: s.device };
  }

  /** Sends a frame the relay itself composed (welcome, presence, errors). */
  private sendControl(target: Session, frame: Frame): void {
    this.sendNow(target, encodeFrame(frame), frame.type, null);
  }

  private sendError(s: Session, code: ErrorCodeName, messageId: number, text: string): void {
    if (s.state === 'closed') return;
    this.sendControl(s, {
      type: 'error',
      ...this.fromRelay(s),
      code,
      messageId,
      text: text.slice(0, 512),
    });
  }

  // ---------------------------------------------------------------------------------------
  // Store and forward

  /** Keeps a frame for a device that cannot take it now. Tells the sender when it cannot. */
  private storeFor(
    user: string,
    device: number,
    bytes: Uint8Array,
    route: FrameRoute,
    source?: Session | null,
    frame?: Frame,
  ): boolean {
    const result = this.store.enqueue(user, device, bytes, route, Date.now());
    if (result.ok) {
      this.count.stored();
      return true;
    }
    this.count.rejected('quota');
    const text = {
      'user-quota': `the relay holds too much for ${user} already`,
      'store-full': 'the relay store is full',
      'store-error': 'the relay cannot store frames right now (disk full or failing)',
    }[result.reason];
    this.log.warn(
      `not storing ${route.type} from ${route.sender} for ${user}: ${text}${result.detail ? ` (${result.detail})` : ''}`,
    );
    const sender = source ?? this.devicesOf(route.sender, 0, null)[0];
    if (sender)
      this.sendError(sender, 'quotaExceeded', frame?.type === 'data' ? frame.messageId : 0, text);
    return false;
  }

  /** Delivers a device's stored frames in order; live frames queue behind until done. */
  private async drainStored(s: Session): Promise<void> {
    s.draining = true;
    let after = 0;
    let delivered = 0;
    try {
      while (s.state === 'open') {
        const batch = this.store.pending(s.user, s.device, after, DRAIN_BATCH);
        if (batch.length === 0) break;
        let handed = 0;
        for (const row of batch) {
          // Never hand over more than the send buffer holds: a frame past the hard limit
          // would be dropped, and it must not be deleted from the store unsent.
          if (s.pending + row.frame.length > this.options.sendBufferBytes) {
            await s.whenDrained();
            if (s.state !== 'open' || this.closing) break;
          }
          s.draining = false; // let forward() send rather than store again
          this.forward(s, row.frame, row, null);
          s.draining = true;
          handed++;
        }
        await s.whenDrained();
        const done = batch.slice(0, handed);
        this.store.remove(done.map((r) => r.id));
        delivered += done.length;
        this.count.storedDelivered('', done.length);
        if (s.state !== 'open' || this.closing || handed < batch.length) break;
        after = batch[batch.length - 1]!.id;
      }
    } catch (e) {
      // The frames stay in the store; the device gets them on its next connection.
      this.log.error(`delivering stored frames to ${s.label} failed: ${(e as Error).message}`);
    } finally {
      s.draining = false;
    }
    this.log.info(`delivered ${delivered} stored frames to ${s.label}`);
  }

  private expireStored(): void {
    this.safely('expiring stored frames', () => {
      for (const [user, n] of this.store.expire(Date.now())) {
        this.count.expired('', n);
        this.log.warn(`discarded ${n} frames held too long for ${user}`);
      }
    });
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

  // ---------------------------------------------------------------------------------------
  // Presence

  private presenceOf(user: string, lastSeen: number): PresenceEntry {
    const devices = this.byUser.get(user)?.size ?? 0;
    return { user, online: devices > 0, devices, lastSeen };
  }

  private sendPresenceSnapshot(s: Session): void {
    const entries = this.store.users().map((u) => this.presenceOf(u.name, u.lastSeen));
    for (let i = 0; i === 0 || i < entries.length; i += MAX_PRESENCE_ENTRIES) {
      this.sendControl(s, {
        type: 'presence',
        ...this.fromRelay(s),
        kind: 'snapshot',
        entries: entries.slice(i, i + MAX_PRESENCE_ENTRIES),
      });
    }
  }

  private broadcastPresence(user: string, now: number): void {
    const entry = this.presenceOf(user, now);
    for (const s of this.sessions) {
      if (s.state !== 'open') continue;
      this.sendControl(s, {
        type: 'presence',
        ...this.fromRelay(s),
        kind: 'update',
        entries: [entry],
      });
    }
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function describe(f: Frame): string {
  const head = `${f.type} ${f.from}/${f.fromDevice} -> ${f.to}/${f.toDevice || '*'}`;
  switch (f.type) {
    case 'data':
      return `${head} msg=${f.messageId} seg=${f.segmentIndex + 1}/${f.segmentCount} tx=${f.transmission} len=${f.payload.length}`;
    case 'ack':
      return `${head} ranges=${f.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}`;
    default:
      return head;
  }
}

function describeFate(f: Fate): string {
  if (!f.delivered) return `channel: ${f.reason}${f.flipped ? ` (${f.flipped} bits flipped)` : ''}`;
  const parts: string[] = [];
  if (f.flipped) parts.push(`${f.flipped} bits flipped`);
  if (f.corrected) parts.push(`${f.corrected} codewords corrected`);
  if (f.corrupted) parts.push('passed on corrupted');
  if (f.reordered) parts.push('reordered');
  if (f.copies.length > 1) parts.push('duplicated');
  const delay = f.copies[0]!.delayMs;
  if (delay > 0) parts.push(`delayed ${delay.toFixed(1)} ms`);
  return `channel: ${parts.length ? parts.join(', ') : 'clean'}`;
}
