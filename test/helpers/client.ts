// A bare protocol client for the relay's tests: speaks frames directly over `ws`, records
// everything it receives, and lets a test wait for the frame (or count of frames) it needs.
// It answers the relay's challenge with real keys (src/node/raw-accounts.ts): the first
// connect of a name registers it, a second device of it is linked through the first.
import { WebSocket } from 'ws';
import { KeyPair, linkCodeId, newLinkCode } from '../../src/node/account-keys.ts';
import { linkHello } from '../../src/node/hello-proof.ts';
import { rawAccounts } from '../../src/node/raw-accounts.ts';
import {
  encodeAccountMessage,
  parseAccountMessage,
  toBase64,
  type AccountMessage,
} from '../../src/shared/protocol/account.ts';
import {
  decodeFrame,
  encodeFrame,
  type ChallengeFrame,
  type DecodeResult,
  type Frame,
  type WelcomeFrame,
} from '../../src/shared/protocol/index.ts';

type Received = { raw: Uint8Array; result: DecodeResult };

/** Where a test client connects from (say, 127.0.0.2 to play another host on loopback). */
export interface OpenOptions {
  localAddress?: string;
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

  /**
   * Connects, proves it is `user/device` (registering the name the first time, linking the
   * device through one already on the account the first time it is used) and waits for the
   * welcome.
   */
  static async connect(
    url: string,
    user: string,
    device: number,
    options: OpenOptions = {},
  ): Promise<TestClient> {
    const client = await TestClient.open(url, user, device, options);
    const challenge = await client.challenge();
    const hello = rawAccounts.hello(user, device, challenge);
    if (hello) {
      client.send(hello);
      await client.waitFor((f) => f.type === 'welcome');
      const k = liveKey(challenge, user);
      live.set(k, (live.get(k) ?? new Set()).add(client));
      void client.whenClosed().then(() => live.get(k)?.delete(client));
      return client;
    }
    await linkDevice(url, client, challenge);
    return TestClient.connect(url, user, device, options);
  }

  /** The relay's challenge on this connection (its first frame). */
  async challenge(): Promise<ChallengeFrame> {
    return (await this.waitFor((f) => f.type === 'challenge')) as ChallengeFrame;
  }

  /** Sends an account frame as this client. */
  sendAccount(m: AccountMessage): void {
    this.send({
      type: 'account',
      from: this.user,
      fromDevice: this.device,
      to: '',
      toDevice: 0,
      body: encodeAccountMessage(m),
    });
  }

  /** The account messages received, parsed. */
  accountMessages(): AccountMessage[] {
    return this.frames().flatMap((f) => {
      if (f.type !== 'account') return [];
      const m = parseAccountMessage(f.body);
      return m instanceof Error ? [] : [m];
    });
  }

  /** Resolves with the first account message of `kind` received (one already received counts). */
  async waitForAccount<K extends AccountMessage['kind']>(
    kind: K,
  ): Promise<Extract<AccountMessage, { kind: K }>> {
    let found: AccountMessage | undefined;
    await this.until(
      () => (found = this.accountMessages().find((m) => m.kind === kind)) !== undefined,
      `an account message ${kind}`,
    );
    return found as Extract<AccountMessage, { kind: K }>;
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

  /** A typing frame; what it carries is sealed end to end, so any bytes do for the relay. */
  typing(to: string, sealed = new Uint8Array([0xe2, 1, 0])): Frame {
    return { type: 'typing', from: this.user, fromDevice: this.device, to, toDevice: 0, sealed };
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

/** Open (welcomed) test clients by relay and user: they link new devices of their account. */
const live = new Map<string, Set<TestClient>>();

function liveKey(challenge: ChallengeFrame, user: string): string {
  return `${toBase64(challenge.relayId)}/${user}`;
}

/**
 * Links `fresh` (open, its challenge received) to its user's account: a device already on
 * the account (a temporary connection of one) offers a code, `fresh` says a link hello, the
 * account device accepts it with the next device list. `fresh` is closed by the relay then.
 */
async function linkDevice(
  url: string,
  fresh: TestClient,
  challenge: ChallengeFrame,
): Promise<void> {
  const account = rawAccounts.account(challenge.relayId, fresh.user)!;
  // A device of the account that is connected already says yes (a temporary connection of
  // one would replace it); else a temporary connection of one.
  const open = [...(live.get(liveKey(challenge, fresh.user)) ?? [])].find((c) => !c.closed);
  const helper =
    open ?? (await TestClient.connect(url, fresh.user, [...account.devices.keys()][0]!));
  try {
    const code = newLinkCode();
    const codeId = toBase64(linkCodeId(code));
    helper.sendAccount({ kind: 'link-offer', codeId });
    await helper.until(
      () => helper.accountMessages().some((m) => m.kind === 'link-offer' && m.codeId === codeId),
      'the link offer',
    );
    const deviceKey = KeyPair.generate();
    fresh.send(linkHello(code, fresh.device, deviceKey, `device ${fresh.device}`, challenge));
    await helper.until(
      () => helper.accountMessages().some((m) => m.kind === 'link-request' && m.codeId === codeId),
      'the link request',
    );
    const { list, signature } = rawAccounts.addDevice(
      challenge.relayId,
      fresh.user,
      fresh.device,
      deviceKey,
    );
    helper.sendAccount({
      kind: 'link-accept',
      codeId,
      deviceList: toBase64(list),
      deviceListSig: toBase64(signature),
      // The raw clients do not carry the identity to the new device: they share this process.
      provision: toBase64(new Uint8Array(64)),
    });
    await fresh.waitForAccount('linked');
    await fresh.whenClosed();
  } finally {
    if (!open) await helper.close();
  }
}

export function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
