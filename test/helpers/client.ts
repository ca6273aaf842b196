// A bare protocol client for the relay's tests: speaks frames directly over `ws`, records
// everything it receives, and lets a test wait for the frame (or count of frames) it needs.
import { WebSocket } from 'ws';
import {
  decodeFrame,
  encodeFrame,
  type DecodeResult,
  type Frame,
  type WelcomeFrame,
} from '../../src/shared/protocol/index.ts';

type Received = { raw: Uint8Array; result: DecodeResult };

/** Where a test client connects from (say, 127.0.0.2 to play another host on loopback). */
export interface OpenOptions {
  localAddress?: string;
}

/** The hello a test client says: the one place a test builds it. */
export function helloFrame(user: string, device: number): Frame {
  return {
    type: 'hello',
    from: user,
    fromDevice: device,
    to: '',
    toDevice: 0,
    auth: { scheme: 'none', data: new Uint8Array(0) },
    agent: 'strata-test',
  };
}
type Waiter = { test: () => boolean; resolve: () => void };

export class TestClient {
  readonly ws: WebSocket;
  readonly user: string;
  readonly device: number;
  /** Every binary message received, decoded (or the decode error), in arrival order. */
  readonly received: Received[] = [];
  closed: { code: number; reason: string } | null = null;
  private readonly waiters: Waiter[] = [];

  private constructor(ws: WebSocket, user: string, device: number) {
    this.ws = ws;
    this.user = user;
    this.device = device;
    ws.on('message', (data: Buffer) => {
      const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      this.received.push({ raw, result: decodeFrame(raw) });
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  /** Opens a WebSocket without saying hello. */
  static async open(
    url: string,
    user: string,
    device: number,
    options: OpenOptions = {},
  ): Promise<TestClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    const client = new TestClient(ws, user, device);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Connects, says hello, and waits for the welcome. */
  static async connect(
    url: string,
    user: string,
    device: number,
    options: OpenOptions = {},
  ): Promise<TestClient> {
    const client = await TestClient.open(url, user, device, options);
    client.send(helloFrame(user, device));
    await client.waitFor((f) => f.type === 'welcome');
    return client;
  }

  get welcome(): WelcomeFrame {
    const w = this.frames().find((f) => f.type === 'welcome');
    if (!w || w.type !== 'welcome') throw new Error('no welcome yet');
    return w;
  }

  send(frame: Frame): void {
    this.ws.send(encodeFrame(frame));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  data(to: string, messageId: number, payload: Uint8Array, index = 0, count = 1): Frame {
    return {
      type: 'data',
      from: this.user,
      fromDevice: this.device,
      to,
      toDevice: 0,
      messageId,
      transmission: messageId * 1000 + index,
      segmentCount: count,
      segmentIndex: index,
      payload,
    };
  }

  typing(to: string, typing = true): Frame {
    return { type: 'typing', from: this.user, fromDevice: this.device, to, toDevice: 0, typing };
  }

  /** Resolves once the relay has processed everything sent before (a ping overtakes nothing). */
  flushed(): Promise<void> {
    return new Promise((resolve) => {
      this.ws.once('pong', () => resolve());
      this.ws.ping();
    });
  }

  /** Frames that decoded, in arrival order. */
  frames(): Frame[] {
    return this.received.flatMap((r) => (r.result.ok ? [r.result.frame] : []));
  }

  dataFrames(): (Frame & { type: 'data' })[] {
    return this.frames().filter((f): f is Frame & { type: 'data' } => f.type === 'data');
  }

  /** Resolves when `test` holds over what has been received; rejects if the socket closes first. */
  until(test: () => boolean, what = 'condition'): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({
        test: () => {
          if (test()) return true;
          if (this.closed) {
            reject(
              new Error(
                `${this.user}/${this.device} closed (${this.closed.code} ${this.closed.reason}) waiting for ${what}`,
              ),
            );
            return true;
          }
          return false;
        },
        resolve,
      });
    });
  }

  /** Resolves with the first received frame matching `match` (one already received counts). */
  async waitFor(match: (f: Frame) => boolean): Promise<Frame> {
    let found: Frame | undefined;
    await this.until(() => (found = this.frames().find(match)) !== undefined, 'a matching frame');
    return found!;
  }

  /** Waits for the connection to be closed by the relay. */
  whenClosed(): Promise<{ code: number; reason: string }> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(this.closed);
      this.waiters.push({ test: () => this.closed !== null, resolve: () => resolve(this.closed!) });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.ws.close();
    await this.whenClosed();
  }

  private wake(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.test()) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }
}

export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
