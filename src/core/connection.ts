// The engine's link to the relay: one WebSocket that says hello, waits for the welcome,
// and comes back by itself after any failure, with exponential backoff and full jitter
// (so that a relay restart is not met by every client at the same instant).
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import './native-crc32.ts';
import {
  MAX_FRAME_BYTES,
  decodeFrame,
  encodeFrame,
  type Frame,
  type WelcomeFrame,
} from '../shared/protocol/index.ts';

export const RECONNECT_MIN_MS = 250;
export const RECONNECT_MAX_MS = 10_000;
/** How long a hello may wait for its welcome before the attempt counts as failed. */
const WELCOME_TIMEOUT_MS = 10_000;

export interface ConnectionEvents {
  online: [welcome: WelcomeFrame];
  offline: [reason: string];
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
  private readonly user: string;
  private readonly device: number;
  private ws: WebSocket | null = null;
  /** The current connection's TCP socket, corked while a burst of frames is sent. */
  private socket: Socket | null = null;
  private online = false;
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly random: () => number;

  constructor(url: string, user: string, device: number, random: () => number = Math.random) {
    super();
    this.url = url;
    this.user = user;
    this.device = device;
    this.random = random;
  }

  get isOnline(): boolean {
    return this.online;
  }

  /** Bytes handed to the socket and not yet written: the flow-control signal. */
  get buffered(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  start(): void {
    this.stopped = false;
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
        ws.once('close', () => resolve());
        ws.close(1000, 'bye');
      });
    }
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.url, {
      perMessageDeflate: false,
      handshakeTimeout: WELCOME_TIMEOUT_MS,
      // A zero masking key: RFC 6455 masking protects proxies from scripts in a browser, and
      // this client is no browser; with a zero key neither end XORs the payload, which is a
      // quarter of the CPU a file costs on both the engine and the relay (docs/protocol.md).
      generateMask: zeroMask,
    });
    this.ws = ws;
    this.socket = null;
    ws.on('upgrade', (res) => {
      if (this.ws === ws) this.socket = res.socket;
    });
    let welcomed = false;
    const welcomeTimer = setTimeout(() => ws.terminate(), WELCOME_TIMEOUT_MS);
    ws.on('open', () => {
      ws.send(
        encodeFrame({
          type: 'hello',
          from: this.user,
          fromDevice: this.device,
          to: '',
          toDevice: 0,
          auth: { scheme: 'none', data: new Uint8Array(0) },
          agent: 'strata/0.1.0',
        }),
      );
    });
    ws.on('message', (data: Buffer) => {
      const result = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if (!result.ok) {
        this.emit('damaged', `${result.error.kind}: ${result.error.message}`);
        return;
      }
      const frame = result.frame;
      if (!welcomed) {
        if (frame.type !== 'welcome') return;
        welcomed = true;
        clearTimeout(welcomeTimer);
        this.attempts = 0;
        this.online = true;
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
      const why = `${code}${reason.length ? ` ${reason.toString()}` : ''}`;
      if (wasOnline || this.attempts === 0) this.emit('offline', why);
      this.scheduleReconnect();
    });
    ws.on('error', () => {
      // 'close' follows and handles it; an unreachable relay is an ordinary state.
    });
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
