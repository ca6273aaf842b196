// For the engine's unit tests: a WebSocket server on loopback that does the relay's part of
// the hello (a fresh challenge per connection, the hello's signatures checked against it) and
// then answers as each test tells it: a welcome, or an error frame and a close. The real
// relay's own rules (which names exist, device lists) are tested against the relay process.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { checkHelloSignature } from '../node/hello-proof.ts';
import { decodeProof, type Proof } from '../shared/protocol/account.ts';
import {
  MAX_FRAME_BYTES,
  decodeFrame,
  encodeFrame,
  type AuthScheme,
  type ChallengeFrame,
  type ErrorCodeName,
  type Frame,
  type HelloFrame,
} from '../shared/protocol/index.ts';

/** A hello the stand-in took, with whether every signature in its proof checked. */
export interface TakenHello {
  hello: HelloFrame;
  challenge: ChallengeFrame;
  signed: boolean;
}

/**
 * What the stand-in answers a hello: welcome it, refuse it with this error, or send these
 * frames and close with this code (as the relay ends a link connection).
 */
export type HelloAnswer =
  'welcome' | { code: ErrorCodeName; text: string } | { frames: Frame[]; close: number };

export interface StandInRelay {
  url: string;
  hellos: TakenHello[];
  /** Connections opened (each got a challenge). */
  connections: number;
  answer: (h: TakenHello) => HelloAnswer;
  /** Each later frame of a welcomed connection, with a way to answer it. */
  onFrame: (frame: Frame, reply: (f: Frame) => void) => void;
  /** Resolves once `n` hellos in all have come. */
  hellosTaken(n: number): Promise<void>;
  /** The open sockets, newest last. */
  sockets: WebSocket[];
  close(): Promise<void>;
}

const RELAY_ID = randomBytes(32);

/** The public key each signature field of a proof is checked with. */
const SIGNERS: Record<string, string> = {
  deviceSig: 'deviceKey',
  identitySig: 'identityKey',
  recoverySig: 'recoveryKey',
};

/**
 * `deviceKeys` gives the key a `device` hello is checked with (the device's registered key);
 * the other schemes carry their keys in the proof (recoverySig is not checked: the stand-in
 * keeps no recovery keys).
 */
export async function standInRelay(
  deviceKeys: (user: string, device: number) => Uint8Array | null = () => null,
): Promise<StandInRelay> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  let waiters: (() => boolean)[] = [];
  const relay: StandInRelay = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    hellos: [],
    connections: 0,
    answer: () => 'welcome',
    onFrame: () => {},
    sockets: [],
    hellosTaken: (n) =>
      new Promise<void>((resolve) => {
        const check = () => relay.hellos.length >= n && (resolve(), true);
        if (!check()) waiters.push(check);
      }),
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  wss.on('connection', (ws) => {
    relay.connections++;
    relay.sockets.push(ws);
    const challenge: ChallengeFrame = {
      type: 'challenge',
      from: '',
      fromDevice: 0,
      to: '',
      toDevice: 0,
      nonce: randomBytes(32),
      relayId: RELAY_ID,
    };
    ws.send(encodeFrame(challenge));
    ws.once('message', (data: Buffer) => {
      const decoded = decodeFrame(new Uint8Array(data));
      if (!decoded.ok || decoded.frame.type !== 'hello') return ws.close(1008, 'no hello');
      const hello = decoded.frame;
      const taken = { hello, challenge, signed: signed(hello, challenge, deviceKeys) };
      relay.hellos.push(taken);
      waiters = waiters.filter((check) => !check());
      const answer = relay.answer(taken);
      const env = { from: '', fromDevice: 0, to: hello.from, toDevice: hello.fromDevice };
      if (answer === 'welcome') {
        const welcome = { serverTime: Date.now(), maxFrameBytes: MAX_FRAME_BYTES, queued: 0 };
        ws.send(encodeFrame({ type: 'welcome', ...env, ...welcome }));
        ws.on('message', (more: Buffer) => {
          const next = decodeFrame(new Uint8Array(more));
          if (next.ok) relay.onFrame(next.frame, (f) => ws.send(encodeFrame(f)));
        });
        return;
      }
      if ('frames' in answer) {
        for (const f of answer.frames) ws.send(encodeFrame(f));
        ws.close(answer.close);
        return;
      }
      ws.send(encodeFrame({ type: 'error', ...env, messageId: 0, ...answer }));
      ws.close(1008, answer.text);
    });
  });
  return relay;
}

function signed(
  hello: HelloFrame,
  challenge: ChallengeFrame,
  deviceKeys: (user: string, device: number) => Uint8Array | null,
): boolean {
  const scheme: AuthScheme = hello.auth.scheme;
  const proof = decodeProof(scheme, hello.auth.data) as Record<string, Uint8Array> | null;
  if (proof === null || scheme === 'none') return false;
  const keys: Record<string, Uint8Array | null> = {
    ...proof,
    deviceKey: proof.deviceKey ?? deviceKeys(hello.from, hello.fromDevice),
  };
  return Object.entries(SIGNERS).every(([sig, key]) => {
    if (proof[sig] === undefined || sig === 'recoverySig') return true;
    const publicKey = keys[key];
    return (
      publicKey !== null &&
      publicKey !== undefined &&
      checkHelloSignature(
        scheme,
        hello,
        proof as Proof<typeof scheme>,
        challenge,
        publicKey,
        proof[sig],
      )
    );
  });
}
