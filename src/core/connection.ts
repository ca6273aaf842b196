// The engine's link to the relay: one WebSocket that waits for the relay's challenge,
// answers it with a hello that proves who this device is, waits for the welcome, and comes
// back by itself after any failure (but not after the relay refused the account for good), with exponential backoff and full jitter
// (so that a relay restart is not met by every client at the same instant). A heartbeat
// finds the failures that TCP does not report: a link that dies silently (no FIN, no RST)
// looks open for as long as the engine only listens, and after an outage TCP would only
// try again at the next step of its retransmission back-off (tens of seconds).
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import '../node/native-crc32.ts';
import {
  MAX_FRAME_BYTES,
  RELAY_CLOSE_CODES,
  decodeFrame,
  encodeFrame,
  type ChallengeFrame,
  type ErrorCodeName,
  type Frame,
  type HelloFrame,
  type WelcomeFrame,
} from '../shared/protocol/index.ts';
import {
  checkRelayCertificate,
  relayTarget,
  type PinStore,
  type RelayTarget,
} from './relay-pin.ts';

export const RECONNECT_MIN_MS = 250;
export const RECONNECT_MAX_MS = 10_000;

/**
 * The heartbeat: a ping every `intervalMs` (0: none, only the pings that `confirmAlive()`
 * sends); a ping after which nothing at all comes from the relay for `timeoutMs` drops the
 * link. A connection attempt that is not welcomed within `timeoutMs` fails as well.
 */
export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
}

export const DEFAULT_HEARTBEAT: HeartbeatOptions = { intervalMs: 15_000, timeoutMs: 10_000 };

/** How the link checks the relay (relay-pin.ts). */
export interface LinkSecurity {
  /** Where fingerprints first seen are kept (trust on first use); null: only URL pins. */
  pins?: PinStore | null;
  /** Plain ws:// to a host other than this machine is allowed. */
  insecure?: boolean;
}
/** Builds this connection's hello as the answer to the relay's challenge. */
export type HelloBuilder = (challenge: ChallengeFrame) => HelloFrame;

/**
 * Relay errors that refuse this device for good: reconnecting would only be refused again.
 * authFailed and linkFailed count only before the welcome (they answer the hello).
 */
const FINAL_ERRORS: ReadonlySet<ErrorCodeName> = new Set(['nameTaken', 'deviceRemoved']);
const HELLO_ERRORS: ReadonlySet<ErrorCodeName> = new Set(['authFailed', 'linkFailed']);

export interface ConnectionEvents {
  online: [welcome: WelcomeFrame];
  offline: [reason: string];
  /** The relay's challenge on a new connection, before the hello answers it. */
  challenge: [challenge: ChallengeFrame];
  /** The relay refused this device for good: the connection has stopped. */
  refused: [code: ErrorCodeName, text: string];
  frame: [frame: Frame];
  /** A frame from the relay that did not decode: a damaged frame the channel passed on. */
  damaged: [reason: string];
  /** Written bytes drained: the transport may send more. */
  drain: [];
}

/** `generateMask` for `ws` clients that are not browsers: a zero key, so no masking pass. */
export function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/** Data frames with at least this much payload are encoded into reused buffers... */
const POOLED_PAYLOAD = 16 * 1024;
/** ...of which this many are kept (a window's worth in flight plus the socket's). */
const POOLED_BUFFERS = 64;

export class RelayConnection extends EventEmitter<ConnectionEvents> {
  readonly url: string;
  /** The URL checked and taken apart; null for no URL (a profile used offline). */
  private readonly target: RelayTarget | null;
  private readonly pins: PinStore | null;
  /** Why the link gave up for good (the relay is not the one meant); null while it tries. */
  private failureReason: string | null = null;
  /** The relay certificate's SHA-256, once one was accepted. */
  private fingerprintValue: string | null = null;
  private readonly buildHello: HelloBuilder;
  /**
   * The current connection's challenge (null before it came): what the hello signed, and the
   * relay's id that a TLS connection checks against the relay's certificate.
   */
  challenge: ChallengeFrame | null = null;
  /**
   * How long a connection waits for the welcome after its hello (default: the heartbeat's
   * timeout). A link hello waits for a person on the other device to say yes.
   */
  welcomeTimeoutMs: number;
  /** Why the relay refused this device for good, once it has. */
  refusal: { code: ErrorCodeName; text: string } | null = null;
  private ws: WebSocket | null = null;
  /** The current connection's TCP socket, corked while a burst of frames is sent. */
  private socket: Socket | null = null;
  private online = false;
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly random: () => number;
  private readonly heartbeat: HeartbeatOptions;
  private beat: ReturnType<typeof setInterval> | null = null;
  /** The unanswered ping: the timer that drops the link if nothing answers it. */
  private ping: { deadline: ReturnType<typeof setTimeout> } | null = null;
  /** Settled by the next answer (true) or by the link dropping first (false). */
  private aliveWaiters: ((alive: boolean) => void)[] = [];

  constructor(
    url: string,
    hello: HelloBuilder,
    random: () => number = Math.random,
    heartbeat: HeartbeatOptions = DEFAULT_HEARTBEAT,
    security: LinkSecurity = {},
  ) {
    super();
    this.url = url;
    this.target = url === '' ? null : relayTarget(url, security.insecure ?? false);
    this.pins = security.pins ?? null;
    this.buildHello = hello;
    this.random = random;
    this.welcomeTimeoutMs = heartbeat.timeoutMs;
    if (
      !(heartbeat.intervalMs >= 0 && heartbeat.timeoutMs > 0) ||
      !Number.isFinite(heartbeat.intervalMs + heartbeat.timeoutMs)
    ) {
      throw new RangeError('the heartbeat needs an interval >= 0 and a timeout > 0 (ms)');
    }
    this.heartbeat = heartbeat;
  }

  get isOnline(): boolean {
    return this.online;
  }

  /** Whether a reconnect is scheduled: the link will try again by itself. */
  get retrying(): boolean {
    return this.timer !== null;
  }

  /** Why the link stopped trying for good (a relay certificate that changed), or null. */
  get failure(): string | null {
    return this.failureReason;
  }

  /** The SHA-256 of the relay's certificate, once accepted (null for plain ws://). */
  get fingerprint(): string | null {
    return this.fingerprintValue;
  }

  /** Bytes handed to the socket and not yet written: the flow-control signal. */
  get buffered(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  start(): void {
    this.stopped = false;
    this.failureReason = null;
    this.refusal = null;
    this.connect();
  }

  /**
   * Buffers for large data frames, used again once ws has written them: a file's frames
   * would otherwise be a fresh 64 KiB each for the garbage collector.
   */
  private readonly frameBuffers: Uint8Array[] = [];

  /** Sends a frame if online; returns false (and sends nothing) otherwise. */
  send(frame: Frame): boolean {
    if (!this.online || !this.ws) return false;
    if (frame.type !== 'data' || frame.payload.length < POOLED_PAYLOAD) {
      this.ws.send(encodeFrame(frame), () => this.emit('drain'));
      return true;
    }
    const buffer = this.frameBuffers.pop() ?? new Uint8Array(MAX_FRAME_BYTES);
    const bytes = encodeFrame(frame, (size) => buffer.subarray(0, size));
    // The callback comes once the socket has taken the bytes (or failed to).
    this.ws.send(bytes, () => {
      if (this.frameBuffers.length < POOLED_BUFFERS) this.frameBuffers.push(buffer);
      this.emit('drain');
    });
    return true;
  }

  /**
   * Resolves true once the relay is heard from after a ping sent now (or the one already
   * out), false if the link drops first: whoever would give up on the relay asks this first,
   * so that a link that died silently is dropped (and comes back) rather than blamed on the
   * relay.
   */
  confirmAlive(): Promise<boolean> {
    const ws = this.ws;
    if (!this.online || !ws) return Promise.resolve(false);
    const answered = new Promise<boolean>((resolve) => this.aliveWaiters.push(resolve));
    this.sendPing(ws);
    return answered;
  }

  private sendPing(ws: WebSocket): void {
    if (this.ping) return;
    const deadline = setTimeout(() => {
      if (this.ws !== ws) return;
      this.deadReason = `no answer from the relay for ${this.heartbeat.timeoutMs / 1000} s`;
      // No close handshake: nothing on the other side of this link can take part in one.
      ws.terminate();
    }, this.heartbeat.timeoutMs);
    this.ping = { deadline };
    ws.ping();
  }

  /** Anything from the relay answers the ping: behind a queue of data, a pong may be late. */
  private heard(): void {
    if (!this.ping) return;
    clearTimeout(this.ping.deadline);
    this.ping = null;
    this.settleAlive(true);
  }

  private settleAlive(alive: boolean): void {
    const waiters = this.aliveWaiters;
    this.aliveWaiters = [];
    for (const w of waiters) w(alive);
  }

  /** Why the heartbeat dropped the current link, for the offline event. */
  private deadReason: string | null = null;

  private stopHeartbeat(): void {
    if (this.beat) clearInterval(this.beat);
    this.beat = null;
    if (this.ping) clearTimeout(this.ping.deadline);
    this.ping = null;
    this.settleAlive(false);
  }

  /**
   * Runs `fn` with the socket corked, so that the frames it sends leave in one write (one
   * system call for a burst of small segments and acks, not one each).
   */
  batch<T>(fn: () => T): T {
    const socket = this.socket;
    socket?.cork();
    try {
      return fn();
    } finally {
      socket?.uncork();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        // A relay that does not answer the close (a dead link) is not waited for longer.
        const deadline = setTimeout(() => ws.terminate(), this.heartbeat.timeoutMs);
        ws.once('close', () => {
          clearTimeout(deadline);
          resolve();
        });
        ws.close(1000, 'bye');
      });
    }
  }

  private connect(): void {
    if (this.stopped) return;
    const target = this.target;
    if (target === null) {
      this.failureReason = 'no relay URL was given';
      this.emit('offline', this.failureReason);
      return;
    }
    const ws = new WebSocket(target.connectUrl, {
      // The certificate is checked against its pin below, not against certificate authorities.
      ...(target.tls ? { rejectUnauthorized: false } : {}),
      perMessageDeflate: false,
      handshakeTimeout: this.heartbeat.timeoutMs,
      // A zero masking key: RFC 6455 masking protects proxies from scripts in a browser, and
      // this client is no browser; with a zero key neither end XORs the payload, which is a
      // quarter of the CPU a file costs on both the engine and the relay (docs/protocol.md).
      generateMask: zeroMask,
    });
    this.ws = ws;
    this.socket = null;
    ws.on('upgrade', (res) => {
      // Before anything is sent: the hello goes only to the relay the URL means.
      if (target.tls) {
        const verdict = checkRelayCertificate(target, this.pins, res.socket as TLSSocket);
        if (!verdict.ok) {
          this.failureReason = verdict.reason;
          ws.terminate();
          return;
        }
        this.fingerprintValue = verdict.fingerprint;
      }
      if (this.ws === ws) this.socket = res.socket;
    });
    let welcomed = false;
    this.deadReason = null;
    this.challenge = null;
    let welcomeTimer = setTimeout(() => {
      this.deadReason = `no challenge from the relay within ${this.heartbeat.timeoutMs / 1000} s`;
      ws.terminate();
    }, this.heartbeat.timeoutMs);
    ws.on('pong', () => this.heard());
    ws.on('message', (data: Buffer) => {
      this.heard();
      const result = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if (!result.ok) {
        this.emit('damaged', `${result.error.kind}: ${result.error.message}`);
        return;
      }
      const frame = result.frame;
      if (frame.type === 'error' && this.refuses(frame.code, welcomed)) {
        this.refusal = { code: frame.code, text: frame.text };
        this.deadReason = frame.text;
        this.stopped = true;
        this.emit('refused', frame.code, frame.text);
        return;
      }
      if (!welcomed) {
        if (frame.type === 'challenge' && this.challenge === null) {
          // Over TLS the relay's id is its certificate's SHA-256: a relay that names another
          // one is relaying someone else's challenge (a man in the middle), and gets no hello.
          const id = Buffer.from(frame.relayId).toString('hex');
          if (this.fingerprintValue !== null && id !== this.fingerprintValue) {
            this.failureReason =
              `the relay's challenge names another relay (${id}) than its certificate ` +
              `(${this.fingerprintValue}): something between here and the relay is relaying it`;
            ws.terminate();
            return;
          }
          this.challenge = frame;
          this.emit('challenge', frame);
          if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
          clearTimeout(welcomeTimer);
          welcomeTimer = setTimeout(() => {
            this.deadReason = `no welcome from the relay within ${this.welcomeTimeoutMs / 1000} s`;
            ws.terminate();
          }, this.welcomeTimeoutMs);
          ws.send(encodeFrame(this.buildHello(frame)));
          return;
        }
        // Before the welcome only the answer to a link hello (an account frame) means anything.
        if (frame.type === 'account' && this.challenge !== null) this.emit('frame', frame);
        if (frame.type !== 'welcome' || this.challenge === null) return;
        welcomed = true;
        clearTimeout(welcomeTimer);
        this.attempts = 0;
        this.online = true;
        if (this.heartbeat.intervalMs > 0)
          this.beat = setInterval(() => this.sendPing(ws), this.heartbeat.intervalMs);
        this.emit('online', frame);
        return;
      }
      this.emit('frame', frame);
    });
    ws.on('close', (code, reason) => {
      clearTimeout(welcomeTimer);
      const wasOnline = this.online;
      this.online = false;
      if (this.ws === ws) this.ws = null;
      this.stopHeartbeat();
      if (this.failureReason !== null) {
        // Trying again would meet the same certificate: stop until started again.
        this.stopped = true;
        this.emit('offline', this.failureReason);
        return;
      }
      const said = this.deadReason ?? reason.toString();
      const why = `${code}${said.length ? ` ${said}` : ''}`;
      // A device removed from its account is closed with this code: it must not come back.
      if (code === RELAY_CLOSE_CODES.removed && this.refusal === null) {
        this.refusal = { code: 'deviceRemoved', text: said };
        this.stopped = true;
        this.emit('refused', 'deviceRemoved', said);
      }
      if (wasOnline || this.attempts === 0) this.emit('offline', why);
      this.scheduleReconnect();
    });
    ws.on('error', () => {
      // 'close' follows and handles it; an unreachable relay is an ordinary state.
    });
  }

  private refuses(code: ErrorCodeName, welcomed: boolean): boolean {
    return FINAL_ERRORS.has(code) || (!welcomed && HELLO_ERRORS.has(code));
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer) return;
    const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.attempts);
    this.attempts++;
    const delay = RECONNECT_MIN_MS / 2 + this.random() * ceiling;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}
