// A file over a real, throttled and lossy network path, against plain TCP over the same
// path in the same run. Three hosts are network namespaces on one bridge (needs root, `ip`
// and `tc`): the relay on one, the two engines on the others. Every link is limited to
// 100 Mbit/s and drops 2% of its packets at random, in each direction (an HTB class per
// link, and a classic-BPF classifier that sends a random 2% of packets to a class whose
// queue holds nothing; this is netem's `rate 100mbit loss 2%` for kernels built without
// netem, as this machine's is). Segmentation offloads are off, so a drop is one packet.
//
// Strata's frames travel over WebSocket, i.e. TCP: the IP-level loss reaches it as delay
// spikes while TCP recovers, never as lost frames. The baseline is that TCP alone: a raw
// `ws` client pushing the file's bytes, one segment's worth per message, through the
// minimal forwarder (bench/forwarder.ts) on the relay's host, to a client on the third.
// Timed from the sender's start until the receiver has every byte (the engine: verified and
// saved). The rows run at 0% and 2% loss, three rounds each, interleaved, by their median.
// The file is 64 MiB (BENCH_LOSSY_MIB) rather than the 256 MiB of the report, so
// that a run stays near three minutes; slow start weighs a little more in a shorter file.
//
// `node bench/lossy-path.ts ROLE ...` runs one of the processes placed in a namespace.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { DEFAULT_SEGMENT_SIZE } from '../src/core/transport/segments.ts';
import type { Report } from './harness.ts';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_LOSSY_MIB ?? 64) * MiB;
const ROUNDS = Number(process.env.BENCH_LOSSY_ROUNDS ?? 3);
/** BENCH_LOSSY_LOSSES (e.g. `0.02`) and BENCH_LOSSY_RATE (`25mbit`) narrow a run. */
const LOSSES = (process.env.BENCH_LOSSY_LOSSES ?? '0,0.02').split(',').map(Number);
const RATE = process.env.BENCH_LOSSY_RATE ?? '100mbit';
/** The raw sender keeps at most this much unsent, as bench/files.ts's does. */
const SEND_BUFFER = 4 * 1024 * 1024;
/** A transfer that takes longer than this has failed (at 100 Mbit/s, 64 MiB takes ~6 s). */
const TRANSFER_TIMEOUT_MS = 10 * 60_000;

const SELF = fileURLToPath(import.meta.url);
const HOSTS = { relay: '10.77.0.1', a: '10.77.0.2', b: '10.77.0.3' } as const;
type Host = keyof typeof HOSTS;

// ---------------------------------------------------------------------------------------
// The network

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
  }
}

/** 2^32 × (1 − loss): a random u32 at or above it is dropped. */
function dropThreshold(loss: number): number {
  return Math.floor(2 ** 32 * (1 - loss));
}

class Network {
  readonly prefix = `sl${process.pid}`;
  private readonly created: string[] = [];

  ns(host: Host | 'br'): string {
    return `${this.prefix}-${host}`;
  }

  /** The bridge and one namespace per host, each linked to the bridge by a veth pair. */
  create(): void {
    const br = this.ns('br');
    this.add(br);
    run('ip', ['-n', br, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', br, 'link', 'set', 'br0', 'up']);
    for (const host of Object.keys(HOSTS) as Host[]) {
      const ns = this.ns(host);
      this.add(ns);
      const inside = `v${this.prefix}${host}`;
      const port = this.port(host);
      run('ip', ['link', 'add', inside, 'type', 'veth', 'peer', 'name', port]);
      run('ip', ['link', 'set', inside, 'netns', ns]);
      run('ip', ['link', 'set', port, 'netns', br]);
      run('ip', ['-n', ns, 'link', 'set', inside, 'name', 'eth0']);
      run('ip', ['-n', br, 'link', 'set', port, 'master', 'br0']);
      for (const [n, dev] of [
        [ns, 'eth0'],
        [br, port],
      ] as const) {
        // One packet per drop: no segmentation offload bundling 45 packets into one.
        run('ip', ['-n', n, 'link', 'set', dev, 'gso_max_segs', '1', 'up']);
      }
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', ns, 'addr', 'add', `${HOSTS[host]}/24`, 'dev', 'eth0']);
    }
  }

  /** Every link, both directions: `RATE`, and `loss` of the packets dropped at random. */
  shape(loss: number): void {
    for (const host of Object.keys(HOSTS) as Host[]) {
      for (const [ns, dev] of [
        [this.ns(host), 'eth0'],
        [this.ns('br'), this.port(host)],
      ] as const) {
        spawnSync('tc', ['-n', ns, 'qdisc', 'del', 'dev', dev, 'root'], { stdio: 'ignore' });
        const tc = (...args: string[]) => run('tc', ['-n', ns, ...args]);
        tc(
          'qdisc',
          'add',
          'dev',
          dev,
          'root',
          'handle',
          '1:',
          'htb',
          'default',
          '10',
          'r2q',
          '100',
        );
        for (const cls of ['1:10', '1:20']) {
          tc('class', 'add', 'dev', dev, 'parent', '1:', 'classid', cls, 'htb', 'rate', RATE);
        }
        tc('qdisc', 'add', 'dev', dev, 'parent', '1:10', 'pfifo', 'limit', '1000');
        tc('qdisc', 'add', 'dev', dev, 'parent', '1:20', 'pfifo', 'limit', '0');
        if (loss > 0) {
          // ld rand; jge threshold -> return -1 (class 1:20: dropped); else return 0.
          const bytecode = `4,32 0 0 ${2 ** 32 - 4096 + 56},53 1 0 ${dropThreshold(loss)},6 0 0 0,6 0 0 ${2 ** 32 - 1}`;
          tc(
            'filter',
            'add',
            'dev',
            dev,
            'parent',
            '1:',
            'prio',
            '1',
            'bpf',
            'bytecode',
            bytecode,
            'classid',
            '1:20',
          );
        }
      }
    }
  }

  destroy(): void {
    for (const ns of this.created.reverse()) {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    }
    this.created.length = 0;
  }

  private port(host: Host): string {
    return `b${this.prefix}${host}`;
  }

  private add(ns: string): void {
    run('ip', ['netns', 'add', ns]);
    this.created.push(ns);
  }
}

/** Why this machine cannot run the suite, or null. */
function unsupported(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const tool of ['ip', 'tc']) {
    if (spawnSync(tool, ['-V'], { stdio: 'ignore' }).error) return `needs \`${tool}\``;
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// The processes, each in its host's namespace

/** A process in `ns`, speaking in lines; resolves once it printed a line matching `ready`. */
class Child {
  readonly proc: ChildProcess;
  private readonly waiters: { test: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  private readonly lines: string[] = [];

  constructor(ns: string, args: string[]) {
    this.proc = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.check();
    });
  }

  /** The first line (past or future) matching `test`; rejects if the process exits first. */
  line(test: RegExp, timeoutMs = TRANSFER_TIMEOUT_MS): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${test}`)), timeoutMs);
      // A waiter that loses a race (a failure line that never comes) must not hold the run.
      timer.unref();
      const exited = (code: number | null) => reject(new Error(`exited (${code}) before ${test}`));
      this.proc.once('exit', exited);
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          this.proc.off('exit', exited);
          resolve(m);
        },
      });
      this.check();
    });
  }

  say(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill('SIGTERM');
    });
  }

  private check(): void {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      for (const line of this.lines) {
        const m = w.test.exec(line);
        if (m) {
          this.waiters.splice(i--, 1);
          w.resolve(m);
          break;
        }
      }
    }
  }
}

const script = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Seconds for the file's bytes from a to b through the forwarder on the relay's host. */
async function rawSeconds(net: Network, path: string): Promise<number> {
  const server = new Child(net.ns('relay'), [script('./forwarder.ts'), HOSTS.relay]);
  const children = [server];
  try {
    const url = (await server.line(/^listening (ws:\/\/\S+)/))[1]!;
    const receiver = new Child(net.ns('b'), [SELF, 'raw-recv', url, String(SIZE)]);
    children.push(receiver);
    await receiver.line(/^ready/);
    const sender = new Child(net.ns('a'), [SELF, 'raw-send', url, path]);
    children.push(sender);
    await sender.line(/^ready/);
    const t0 = performance.now();
    sender.say('go');
    await receiver.line(/^done/);
    return (performance.now() - t0) / 1000;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

/** Seconds for the file from alice (host a) to bob (host b) through the relay. */
async function strataSeconds(net: Network, path: string, dir: string): Promise<number> {
  const relay = new Child(net.ns('relay'), [
    script('../relay/main.ts'),
    ...['--host', HOSTS.relay, '--port', '0', '--log-level', 'warn'],
    ...['--data-dir', mkdtempSync(join(dir, 'relay-'))],
  ]);
  const children = [relay];
  try {
    const url = (await relay.line(/^listening (ws:\/\/\S+)/))[1]!;
    const bob = new Child(net.ns('b'), [SELF, 'engine-recv', url, mkdtempSync(join(dir, 'bob-'))]);
    children.push(bob);
    await bob.line(/^ready/);
    const alice = new Child(net.ns('a'), [
      ...[SELF, 'engine-send', url, mkdtempSync(join(dir, 'alice-')), path],
    ]);
    children.push(alice);
    await alice.line(/^ready/);
    const t0 = performance.now();
    alice.say('go');
    const done = await Promise.race([bob.line(/^done|^failed (.*)/), alice.line(/^failed (.*)/)]);
    if (done[0].startsWith('failed')) throw new Error(done[1]);
    return (performance.now() - t0) / 1000;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export async function runLossyPathBench(report: Report): Promise<void> {
  const why = unsupported();
  if (why !== null) {
    process.stderr.write(`  lossy-path skipped: ${why}\n`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-lossy-'));
  const net = new Network();
  const cleanUp = () => net.destroy();
  process.once('exit', cleanUp);
  try {
    const path = join(dir, 'payload.bin');
    await makeFile(path, SIZE);
    net.create();
    const name = (loss: number) => `lossy_path.${SIZE / MiB}MiB.loss${loss * 100}`;
    for (const loss of LOSSES) {
      net.shape(loss);
      const raw: number[] = [];
      const strata: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        raw.push(await rawSeconds(net, path));
        strata.push(await strataSeconds(net, path, dir));
        process.stderr.write(
          `  ${name(loss)} round ${round}: plain TCP ${raw.at(-1)!.toFixed(2)} s, Strata ${strata.at(-1)!.toFixed(2)} s\n`,
        );
      }
      const tcpRate = SIZE / median(raw) / 1e6;
      report.add(`${name(loss)}.plain_tcp.goodput`, tcpRate, 'MB/s');
      report.add(`${name(loss)}.strata.goodput`, SIZE / median(strata) / 1e6, 'MB/s', {
        baseline: { name: 'plain TCP (ws forwarder)', value: tcpRate },
        goal: '>= 0.9x',
      });
    }
  } finally {
    net.destroy();
    process.off('exit', cleanUp);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `size` incompressible bytes. */
async function makeFile(path: string, size: number): Promise<void> {
  const { randomBytes } = await import('node:crypto');
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'w');
  for (let at = 0; at < size; at += MiB) await fh.write(randomBytes(Math.min(MiB, size - at)));
  await fh.close();
}

// ---------------------------------------------------------------------------------------
// Roles (in a namespace)

function nextLine(): Promise<string> {
  return new Promise((resolve) => {
    createInterface({ input: process.stdin }).once('line', resolve);
  });
}

function connect(url: string, name: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.once('message', () => resolve(ws)); // "ready"
      ws.send(name);
    });
  });
}

async function rawSend(url: string, path: string): Promise<void> {
  const ws = await connect(url, 'a');
  console.log('ready');
  await nextLine();
  for await (const chunk of createReadStream(path, { highWaterMark: DEFAULT_SEGMENT_SIZE })) {
    while (ws.bufferedAmount > SEND_BUFFER) {
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
    }
    ws.send(chunk as Buffer);
  }
  // Stays connected until stopped: the bytes may still be in its socket.
}

async function rawRecv(url: string, size: number): Promise<void> {
  const ws = await connect(url, 'b');
  let received = 0;
  ws.on('message', (data: Buffer) => {
    received += data.length;
    if (received >= size) console.log('done');
  });
  console.log('ready');
}

async function engine(url: string, profileDir: string, user: string) {
  const { Messenger } = await import('../src/core/messenger.ts');
  const { until } = await import('./harness.ts');
  const m = Messenger.open({
    profileDir,
    relayUrl: url,
    user,
    downloadsDir: profileDir,
    autoDownloadBytes: Number.MAX_SAFE_INTEGER,
  });
  // Alice's files download by themselves at bob's, from a contact.
  m.setContact(user === 'bob' ? 'alice' : 'bob', 'accept');
  m.start();
  await until(m, () => m.online);
  await m.whenSettled();
  process.once('SIGTERM', () => void m.close().then(() => process.exit(0)));
  return m;
}

async function engineSend(url: string, profileDir: string, path: string): Promise<void> {
  const m = await engine(url, profileDir, 'alice');
  m.on('event', (e) => {
    if (e.type === 'message' && e.message.file?.state === 'failed') {
      console.log(`failed ${e.message.file.error ?? ''}`);
    }
  });
  console.log('ready');
  await nextLine();
  await m.sendFile('bob', path);
}

async function engineRecv(url: string, profileDir: string): Promise<void> {
  const m = await engine(url, profileDir, 'bob');
  m.on('event', (e) => {
    if (e.type !== 'message' || e.message.direction !== 'in' || !e.message.file) return;
    if (e.message.file.state === 'done') console.log('done');
    if (e.message.file.state === 'failed') console.log(`failed ${e.message.file.error ?? ''}`);
  });
  console.log('ready');
}

if (process.argv[1] === SELF) {
  const [role, ...args] = process.argv.slice(2);
  const roles: Record<string, () => Promise<void>> = {
    'raw-send': () => rawSend(args[0]!, args[1]!),
    'raw-recv': () => rawRecv(args[0]!, Number(args[1])),
    'engine-send': () => engineSend(args[0]!, args[1]!, args[2]!),
    'engine-recv': () => engineRecv(args[0]!, args[1]!),
  };
  const fn = role === undefined ? undefined : roles[role];
  if (!fn) {
    console.error(`roles: ${Object.keys(roles).join(', ')}`);
    process.exitCode = 2;
  } else {
    await fn();
  }
}
