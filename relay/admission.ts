// Admission: a WebSocket connection from its upgrade to its close. It must say hello first
// (and in time), every frame must decode, be one a client may send and carry the
// connection's own name, and the connection must keep to its frame rate. Violations are
// answered with an error frame and counted as strikes; too many close the connection.
import type { RawData, WebSocket } from 'ws';
import {
  RELAY_CLOSE_CODES,
  decodeFrame,
  type ErrorCodeName,
  type Frame,
  type FrameTypeName,
  type HelloFrame,
} from '../src/shared/protocol/index.ts';
import type { RelayCounters } from './counters.ts';
import { NewNameLimit, UserBudgets } from './limits.ts';
import type { Logger } from './log.ts';
import type { RelayOptions } from './options.ts';
import type { HelloOutcome } from './accounts.ts';
import type { Router } from './routing.ts';
import { Session } from './session.ts';

/** Frames a client may send after its hello. */
const FROM_CLIENT: ReadonlySet<FrameTypeName> = new Set([
  'data',
  'ack',
  'typing',
  'receipt',
  'sealed',
  'watch',
  'account',
]);
/** Protocol violations tolerated within STRIKE_WINDOW_MS before the connection is closed. */
const MAX_STRIKES = 20;
const STRIKE_WINDOW_MS = 30_000;

/** WebSocket close codes (src/shared/protocol/constants.ts). */
export const CLOSE = RELAY_CLOSE_CODES;

/** What the relay does with a connection once it is admitted. */
export interface AdmissionHost {
  /** A connection opened: the relay sends it its challenge (accounts.ts). */
  greet(s: Session): void;
  /** Checks a hello (accounts.ts) before anything is spent on it. */
  hello(s: Session, hello: HelloFrame): HelloOutcome;
  /** A hello was accepted: the connection is open as `s.user`/`s.device`. */
  opened(s: Session): void;
  /** A frame from an open connection, checked: decoded, allowed, its own, within the rate. */
  frame(s: Session, frame: Frame, bytes: Uint8Array): void;
  /** An open connection closed; `gone` when its user has no device left. */
  left(s: Session, gone: boolean): void;
  /** Any connection closed, open or not. */
  closed(s: Session): void;
}

export class Admission {
  private readonly options: RelayOptions;
  private readonly router: Router;
  private readonly host: AdmissionHost;
  private readonly log: Logger;
  private readonly count: RelayCounters;
  private nextSessionId = 1;
  /** Frames and bytes per user, across its devices. */
  private readonly budgets: UserBudgets;
  /** New names per source address. */
  private readonly newNames: NewNameLimit;
  /** Set when the relay closes: connections closing then change no presence. */
  closing = false;

  constructor(
    options: RelayOptions,
    router: Router,
    host: AdmissionHost,
    log: Logger,
    count: RelayCounters,
  ) {
    this.options = options;
    this.router = router;
    this.host = host;
    this.log = log;
    this.count = count;
    this.budgets = new UserBudgets({
      framesPerSec: options.limits.userFramesPerSec,
      bytesPerSec: options.limits.userBytesPerSec,
    });
    this.newNames = new NewNameLimit(options.limits.newNamesPerHour);
  }

  /**
   * Whether the connection `s` may bring a name the relay has never seen: each source address
   * brings at most `--max-new-names-per-hour`. When it may not, the connection is told
   * (`rateLimited`) and closed. The registration path calls this before creating a name.
   */
  admitNewName(s: Session): boolean {
    if (this.newNames.take(addressOf(s.remote))) return true;
    this.count.rejected('new-name-limit');
    this.router.sendError(
      s,
      'rateLimited',
      0,
      `this address has brought ${this.newNames.perHour} new names in the last hour; try later`,
    );
    this.closeSession(s, CLOSE.policy, 'too many new names from this address');
    return false;
  }

  /** Takes a new WebSocket connection; it has helloTimeoutMs to say hello. */
  accept(ws: WebSocket, remote: string): Session {
    const o = this.options;
    const s = new Session(
      this.nextSessionId++,
      ws,
      remote,
      o.sendBufferBytes / 2,
      o.maxFramesPerSec,
    );
    this.router.sessions.add(s);
    this.count.connections();
    this.log.debug(`connection ${s.label} opened (protocol upgrade to websocket)`);
    this.host.greet(s);
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
    return s;
  }

  closeSession(s: Session, code: number, reason: string): void {
    // Once closing, further reasons (say, more strikes in flight) change nothing.
    if (s.state === 'closed' || s.ws.readyState !== s.ws.OPEN) return;
    this.log.info(`closing ${s.label}: ${reason}`);
    s.ws.close(code, reason);
  }

  /**
   * Ends a connection at once (its device was removed, its link is done): nothing more is
   * routed to it, and its watchers hear it left now rather than at its close.
   */
  evict(s: Session, code: ErrorCodeName | null, text: string, closeCode: number): void {
    if (code) this.router.sendError(s, code, 0, text);
    this.closeSession(s, closeCode, text);
    const wasOpen = s.state === 'open';
    s.state = 'closed';
    this.router.sessions.delete(s);
    if (wasOpen) this.host.left(s, this.router.leave(s));
  }

  /** Answers a bad frame with an error and a strike. */
  reject(s: Session, code: ErrorCodeName, reason: string, text: string, messageId: number): void {
    this.count.rejected(reason);
    this.log.debug(`reject ${s.label}: ${reason}: ${text}`);
    this.router.sendError(s, code, messageId, text);
    this.strike(s, `${reason}: ${text}`);
  }

  private onClose(s: Session, code: number, reason: string): void {
    const wasOpen = s.state === 'open' && !this.closing;
    s.state = 'closed';
    this.router.forget(s);
    s.drained();
    this.log.debug(`connection ${s.label} closed (${code}${reason ? ` ${reason}` : ''})`);
    this.host.closed(s);
    if (!wasOpen) return;
    this.host.left(s, this.router.leave(s));
  }

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
    if (s.state === 'linking') {
      this.reject(s, 'notAuthenticated', 'linking', 'this connection waits for its link', 0);
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
    if (!this.takeToken(s) || !this.withinBudget(s, bytes.length)) return;
    this.host.frame(s, frame, bytes);
  }

  private onHello(s: Session, hello: HelloFrame): void {
    // Every registration is a name the relay has never had: counted before any work on it.
    if (hello.auth.scheme === 'register' && !this.admitNewName(s)) return;
    const outcome = this.host.hello(s, hello);
    if (outcome.ok === 'linking') {
      s.state = 'linking';
      this.log.info(`link hello ${s.label} from ${s.remote} (device ${hello.fromDevice})`);
      return;
    }
    if (!outcome.ok) {
      this.log.info(
        `hello refused ${s.label} as ${hello.from}/${hello.fromDevice}: ${outcome.text}`,
      );
      this.router.sendError(s, outcome.code, 0, outcome.text);
      this.closeSession(s, CLOSE.policy, outcome.reason);
      // Nothing more this connection sends is read: it had its one try.
      s.state = 'closed';
      return;
    }
    s.user = hello.from;
    s.device = hello.fromDevice;
    s.agent = hello.agent;
    s.state = 'open';
    for (const other of this.router.join(s)) {
      this.router.sendError(other, 'replaced', 0, 'another connection logged in as this device');
      this.closeSession(other, CLOSE.replaced, 'replaced by a newer connection');
      other.state = 'closed';
      this.router.sessions.delete(other);
    }
    this.log.info(`hello ${s.label} from ${s.remote} (${s.agent || 'unknown agent'})`);
    this.host.opened(s);
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
    this.refuseRate(s, 'rate-limited', `more than ${rate} frames per second`);
    return false;
  }

  /** Counts a frame against its user's budgets (all of its devices); refuses it when over. */
  private withinBudget(s: Session, length: number): boolean {
    const over = this.budgets.take(s.user, length);
    if (over === null) return true;
    const { framesPerSec, bytesPerSec } = this.budgets.limits;
    if (over === 'frames')
      this.refuseRate(s, 'user-frame-rate', `${s.user} sends more than ${framesPerSec} frames/s`);
    else this.refuseRate(s, 'user-byte-rate', `${s.user} sends more than ${bytesPerSec} bytes/s`);
    return false;
  }

  /** Refuses a frame over a rate: counted, answered with `rateLimited` and a strike. */
  private refuseRate(s: Session, reason: string, text: string): void {
    this.count.rejected(reason);
    const now = performance.now();
    // One error and one strike per second at most: a flood must not be answered by a flood.
    if (now - s.lastRateError > 1000) {
      s.lastRateError = now;
      this.router.sendError(s, 'rateLimited', 0, text);
      this.strike(s, `${reason} exceeded`);
    }
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
}

/** The address part of a connection's `address:port`. */
function addressOf(remote: string): string {
  const colon = remote.lastIndexOf(':');
  return colon < 0 ? remote : remote.slice(0, colon);
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
