// The relay's own cost: round-trip latency of a small frame and throughput of 16 KiB
// frames through the relay process, next to the same through a minimal WebSocket
// forwarder process (bench/forwarder.ts) measured in the same run; and the rate of
// sequential connects as the relay's users grow (3,000 users, each staying connected).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { registerHello, type Challenge, type NewAccount } from '../src/node/hello-proof.ts';
import { newAccount, rawAccounts } from '../src/node/raw-accounts.ts';
import {
  FRAME_TYPE_CODES,
  decodeFrame,
  encodeFrame,
  type ChallengeFrame,
} from '../src/shared/protocol/index.ts';
import { zeroMask } from '../src/core/connection.ts';
import type { Report } from './harness.ts';

const ROUND_TRIPS = 2000;
/** Connects measured first, then as many more again twice over: a cost that grows with users shows. */
const CONNECTS_FIRST = 1000;
const CONNECTS_MORE = 2000;
const BULK_FRAMES = 8000;
const BULK_PAYLOAD = 16 * 1024;
/** BENCH_PROFILE=1 writes a V8 CPU profile of each server process to bench/results/. */
const PROFILE = process.env.BENCH_PROFILE
  ? [
      '--cpu-prof',
      `--cpu-prof-dir=${fileURLToPath(new URL('./results/profiles', import.meta.url))}`,
    ]
  : [];
/** Keep at most this much unsent in the client, as a real sender's flow control would. */
const SEND_BUFFER = 4 * 1024 * 1024;

/** The client's masking key: a fresh random one per frame (RFC 6455, the ws default) or zero. */
export type MaskKey = 'random' | 'zero';

interface Pair {
  a: WebSocket;
  b: WebSocket;
  /** The server process both are connected to. */
  proc: ChildProcess;
  /** Encodes one frame from `from` to the other side. */
  frame(from: 'a' | 'b', id: number, payload: Uint8Array): Uint8Array;
  close(): Promise<void>;
}

/** A one-segment data frame from one side of a pair to the other. */
function dataFrame(from: 'a' | 'b', id: number, payload: Uint8Array): Uint8Array {
  return encodeFrame({
    type: 'data',
    from,
    fromDevice: 1,
    to: from === 'a' ? 'b' : 'a',
    toDevice: 0,
    messageId: id,
    transmission: id,
    segmentCount: 1,
    segmentIndex: 0,
    payload,
  });
}

export function start(
  script: string,
  args: string[],
): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(
    process.execPath,
    [...PROFILE, fileURLToPath(new URL(script, import.meta.url)), ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /^listening (wss?:\/\/\S+)/m.exec(out);
      if (m) resolve({ proc, url: m[1]! });
    });
    proc.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/**
 * A client: masked like the engine's own connection (a zero key) by default, so that
 * neither side pays for a pass the other skips; `random` is the ws default.
 */
function open(url: string, mask: MaskKey = 'zero'): Promise<WebSocket> {
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    ...(mask === 'zero' ? { generateMask: zeroMask } : {}),
  });
  firstMessages.set(ws, new Promise((resolve) => ws.once('message', resolve)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function firstMessage(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => ws.once('message', () => resolve()));
}

/** The next data frame (the relay also sends `held` frames, which are not the echo). */
function nextDataFrame(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    const on = (data: Buffer) => {
      if (data[1] !== FRAME_TYPE_CODES.data) return;
      ws.off('message', on);
      resolve();
    };
    ws.on('message', on);
  });
}

/**
 * CPU seconds (user + system) a child process has used so far, from /proc (Linux); null
 * elsewhere. Read before and after a measurement to say what the server spent on it.
 */
export function cpuSeconds(proc: ChildProcess): number | null {
  try {
    const stat = readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
/** USER_HZ: Linux reports process times in hundredths of a second on every architecture. */
const CLOCK_TICKS = 100;

export function stop(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

/** Connects sides a and b to a server process; `greet` introduces each. */
async function pairOn(
  proc: ChildProcess,
  url: string,
  greet: (ws: WebSocket, side: 'a' | 'b') => Promise<void>,
  mask: MaskKey = 'zero',
): Promise<Pair> {
  const a = await open(url, mask);
  const b = await open(url, mask);
  await greet(a, 'a');
  await greet(b, 'b');
  return {
    a,
    b,
    proc,
    // Same bytes on the wire through either server, so that only the hop's work differs.
    frame: dataFrame,
    close: async () => {
      a.close();
      b.close();
      await stop(proc);
    },
  };
}

function startRelay(): Promise<{ proc: ChildProcess; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-'));
  return start('../relay/main.ts', [
    '--port',
    '0',
    '--data-dir',
    dir,
    '--log-level',
    'warn',
    // Every user of the bench comes from one address, as fast as it can: the relay's limits
    // per address (docs/relay.md, section 9) are raised to let it. One address may hold at
    // most half of --max-connections, hence twice the users.
    '--max-connections',
    String(2 * (CONNECTS_FIRST + CONNECTS_MORE) + 10),
    '--max-connections-per-address',
    String(CONNECTS_FIRST + CONNECTS_MORE + 10),
    '--connects-per-sec-per-address',
    '1000000',
    '--max-new-names-per-hour',
    '1000000',
  ]);
}

/**
 * Each connection's first message, caught from the moment it opens: the relay's challenge
 * may come in the same read as the upgrade, before anyone awaiting the open could listen.
 */
const firstMessages = new WeakMap<WebSocket, Promise<Buffer>>();

/** The relay's challenge: its first message on a connection. */
async function challengeOf(ws: WebSocket): Promise<Challenge> {
  const data = await firstMessages.get(ws)!;
  const result = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (!result.ok || result.frame.type !== 'challenge')
    throw new Error('no challenge from the relay');
  return result.frame as ChallengeFrame;
}

/** Answers the relay's challenge as `user` (registering it the first time) and waits for the welcome. */
async function sayHello(ws: WebSocket, user: string): Promise<void> {
  const challenge = await challengeOf(ws);
  const welcome = firstMessage(ws);
  ws.send(encodeFrame(rawAccounts.hello(user, 1, challenge, 'strata-bench')!));
  await welcome;
}

async function relayPair(): Promise<Pair> {
  const { proc, url } = await startRelay();
  // The relay answers a hello with its welcome; later presence frames are not data
  // frames, which is all the measurements below count.
  return pairOn(proc, url, sayHello);
}

/**
 * `count` users connect one after the other, as an app's first start does: the challenge, a
 * register hello, the welcome, then the watch of its two peers (earlier users) and the
 * relay's answer; each stays connected. Connects/s. The users' keys are made before the clock
 * starts: the relay's work is measured, with the signing a client does per connect.
 */
async function connects(
  url: string,
  first: number,
  count: number,
  keep: WebSocket[],
): Promise<number> {
  const accounts: NewAccount[] = [];
  for (let i = first; i < first + count; i++) accounts.push(newAccount(`user${i}`, 1));
  const t0 = performance.now();
  for (let i = first; i < first + count; i++) {
    const ws = await open(url);
    const challenge = await challengeOf(ws);
    const welcome = firstMessage(ws);
    ws.send(encodeFrame(registerHello(accounts[i - first]!, challenge)));
    await welcome;
    const answer = firstMessage(ws);
    ws.send(
      encodeFrame({
        type: 'watch',
        from: `user${i}`,
        fromDevice: 1,
        to: '',
        toDevice: 0,
        kind: 'set',
        users: [`user${Math.max(0, i - 1)}`, `user${Math.max(0, i - 2)}`],
      }),
    );
    await answer;
    keep.push(ws);
  }
  return count / ((performance.now() - t0) / 1000);
}

async function connectRates(): Promise<[first: number, more: number]> {
  const { proc, url } = await startRelay();
  const sockets: WebSocket[] = [];
  const first = await connects(url, 0, CONNECTS_FIRST, sockets);
  const more = await connects(url, CONNECTS_FIRST, CONNECTS_MORE, sockets);
  for (const ws of sockets) ws.close();
  await stop(proc);
  return [first, more];
}

export async function forwarderPair(mask: MaskKey = 'zero'): Promise<Pair> {
  const { proc, url } = await start('./forwarder.ts', []);
  // The forwarder answers a name with "ready".
  return pairOn(
    proc,
    url,
    async (ws, side) => {
      const ready = firstMessage(ws);
      ws.send(side);
      await ready;
    },
    mask,
  );
}

/** Round trips a -> b -> a; returns the sorted round-trip times in milliseconds. */
export async function pingPong(p: Pair): Promise<number[]> {
  const payload = new TextEncoder().encode('a short text message, as people type them');
  p.b.on('message', (data: Buffer) => {
    // Echo each data frame (and nothing else: the relay's `held` frames are not pings).
    if (data[1] === FRAME_TYPE_CODES.data) p.b.send(p.frame('b', 1, payload));
  });
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS + 200; i++) {
    const back = nextDataFrame(p.a);
    const t0 = performance.now();
    p.a.send(p.frame('a', i + 1, payload));
    await back;
    if (i >= 200) times.push(performance.now() - t0); // the first 200 warm up
  }
  p.b.removeAllListeners('message');
  return times.sort((x, y) => x - y);
}

/** Bulk a -> b; returns payload MB/s. */
async function bulk(p: Pair): Promise<number> {
  const payload = new Uint8Array(BULK_PAYLOAD).fill(0x5a);
  const frames = Array.from({ length: 64 }, (_, i) => p.frame('a', i + 1, payload));
  let received = 0;
  const done = new Promise<void>((resolve) => {
    p.b.on('message', (data: Buffer) => {
      if (data[1] === FRAME_TYPE_CODES.data && ++received === BULK_FRAMES) resolve();
    });
  });
  const t0 = performance.now();
  for (let sent = 0; sent < BULK_FRAMES; sent++) {
    if (p.a.bufferedAmount > SEND_BUFFER) {
      await new Promise<void>((resolve) => {
        const check = () =>
          p.a.bufferedAmount > SEND_BUFFER / 2 ? setImmediate(check) : resolve();
        check();
      });
    }
    p.a.send(frames[sent % frames.length]!);
  }
  await done;
  const seconds = (performance.now() - t0) / 1000;
  p.b.removeAllListeners('message');
  return (BULK_FRAMES * BULK_PAYLOAD) / seconds / 1e6;
}

export const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

export async function runRelayBench(report: Report): Promise<void> {
  const raw = await forwarderPair();
  const rawTimes = await pingPong(raw);
  const rawRate = await bulk(raw);
  await raw.close();

  const relay = await relayPair();
  const relayTimes = await pingPong(relay);
  const relayRate = await bulk(relay);
  await relay.close();

  for (const q of [0.5, 0.99]) {
    const name = `p${Math.round(q * 100)}`;
    report.add(`relay.roundtrip.${name}`, quantile(relayTimes, q), 'ms', {
      baseline: { name: `raw ws forwarder ${name}`, value: quantile(rawTimes, q) },
      better: 'lower',
    });
  }
  report.add('relay.throughput.16KiB', relayRate, 'MB/s', {
    baseline: { name: 'raw ws forwarder', value: rawRate },
  });

  // The same cost per connect with 1,000 users or 3,000 (presence is O(1) in users).
  const [first, more] = await connectRates();
  report.add(`relay.connects.first${CONNECTS_FIRST}`, first, 'connects/s');
  report.add(`relay.connects.next${CONNECTS_MORE}`, more, 'connects/s', {
    baseline: { name: `first ${CONNECTS_FIRST}`, value: first },
  });
}
