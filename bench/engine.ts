// The engine end to end through the relay process on loopback: text message latency from
// send() in one engine to the complete (sealed, then opened) message in the other, the first
// message to a new device (its session set up from the relay's bundle), sustained messages
// per second, and the transport's efficiency under loss. Baseline: a raw `ws` ping-pong
// through a minimal forwarder, measured in the same run (one way = round trip / 2).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Messenger } from '../src/core/messenger.ts';
import type { TransportSettings } from '../src/shared/api.ts';
import { until, type Report } from './harness.ts';
import { forwarderPair, pingPong, quantile, start, stop } from './relay.ts';

const LATENCY_MESSAGES = 500;
const THROUGHPUT_MESSAGES = 3000;
const LOSSY_MESSAGES = 1000;

function temp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

async function relay(args: string[] = []) {
  return start('../relay/main.ts', [
    '--port',
    '0',
    '--data-dir',
    temp('strata-bench-relay-'),
    '--log-level',
    'warn',
    ...args,
  ]);
}

function engine(url: string, user: string, settings: Partial<TransportSettings> = {}): Messenger {
  const m = Messenger.open({
    profileDir: temp('strata-bench-engine-'),
    relayUrl: url,
    user,
    settings,
  });
  m.start();
  return m;
}

/** Online, with its keys at the relay: an end-to-end session can be started with it. */
const online = (m: Messenger) => until(m, () => m.online && m.account().keysPublished);

/** Counts complete incoming messages as they arrive (events may repeat a message). */
function counter(m: Messenger): { count: number } {
  const seen = new Set<string>();
  const c = { count: 0 };
  m.on('event', (e) => {
    if (e.type !== 'message' || e.message.direction !== 'in' || e.message.text === null) return;
    seen.add(e.message.key);
    c.count = seen.size;
  });
  return c;
}

/**
 * Starts a relay (with `args`) and two engines, alice and bob, both online; runs `fn`
 * with a counter of bob's complete incoming messages; then stops everything.
 */
export async function withPair<T>(
  args: string[],
  settings: Partial<TransportSettings>,
  fn: (alice: Messenger, bob: Messenger, got: { count: number }) => Promise<T>,
): Promise<T> {
  const r = await relay(args);
  const alice = engine(r.url, 'alice', settings);
  const bob = engine(r.url, 'bob', settings);
  try {
    await online(alice);
    await online(bob);
    return await fn(alice, bob, counter(bob));
  } finally {
    await alice.close();
    await bob.close();
    await stop(r.proc);
  }
}

function latency(): Promise<number[]> {
  return withPair([], {}, async (alice, bob, got) => {
    const times: number[] = [];
    for (let i = 0; i < LATENCY_MESSAGES + 50; i++) {
      const t0 = performance.now();
      alice.send('bob', `latency probe ${i}: a short text message, as people type them`);
      await until(bob, () => got.count > i);
      if (i >= 50) times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b);
  });
}

/** New contacts, one at a time, each started for the occasion. */
const FIRST_CONTACTS = 20;

/**
 * A first message to a device never written to: the time from send() until the recipient
 * has it opened, including the device list and bundle fetched from the relay, the PQXDH
 * session set up, and the recipient's prekey message decrypted.
 */
async function firstMessage(): Promise<number[]> {
  const r = await relay(['--max-new-names-per-hour', '1000']);
  const alice = engine(r.url, 'alice');
  const times: number[] = [];
  try {
    await online(alice);
    for (let i = 0; i < FIRST_CONTACTS; i++) {
      const carol = engine(r.url, `carol${i}`);
      try {
        await online(carol);
        const got = counter(carol);
        const t0 = performance.now();
        alice.send(`carol${i}`, 'hello, new contact');
        await until(carol, () => got.count > 0);
        times.push(performance.now() - t0);
      } finally {
        await carol.close();
      }
    }
  } finally {
    await alice.close();
    await stop(r.proc);
  }
  return times.sort((a, b) => a - b);
}

function throughput(): Promise<number> {
  return withPair([], {}, async (alice, bob, got) => {
    const t0 = performance.now();
    for (let i = 0; i < THROUGHPUT_MESSAGES; i++) {
      alice.send('bob', `message ${i}: ${'lorem ipsum '.repeat(8)}`);
    }
    await until(bob, () => got.count >= THROUGHPUT_MESSAGES);
    return THROUGHPUT_MESSAGES / ((performance.now() - t0) / 1000);
  });
}

/**
 * Sends 4,000-byte texts in 1,000-byte segments through a channel losing `loss`; returns
 * transport stats. Sends per segment count against the segments first sent, as sealing makes
 * a text longer than its characters (and the session's first messages longer still).
 */
function lossy(loss: number) {
  const args = ['--loss', String(loss), '--seed', '11'];
  return withPair(args, { segmentSize: 1000 }, async (alice, bob, got) => {
    for (let i = 0; i < LOSSY_MESSAGES; i++) alice.send('bob', `${i} `.repeat(2000).slice(0, 3999));
    await until(bob, () => got.count >= LOSSY_MESSAGES);
    const stats = alice.stats('bob');
    return {
      sendsPerSegment: stats.segmentsSent / stats.firstTransmissions,
      spurious: stats.spuriousRetransmissions / stats.segmentsSent,
    };
  });
}

export async function runEngineBench(report: Report): Promise<void> {
  const raw = await forwarderPair();
  const rawOneWay = (await pingPong(raw)).map((t) => t / 2);
  await raw.close();
  const times = await latency();
  report.add('engine.latency.p50', quantile(times, 0.5), 'ms', {
    baseline: { name: 'raw ws one-way p50', value: quantile(rawOneWay, 0.5) },
    better: 'lower',
    goal: 'within 2 ms of raw',
  });
  report.add(
    'engine.latency.p50_above_raw',
    quantile(times, 0.5) - quantile(rawOneWay, 0.5),
    'ms',
    {
      better: 'lower',
      goal: '<= 2 ms',
    },
  );
  report.add('engine.latency.p99', quantile(times, 0.99), 'ms', {
    baseline: { name: 'raw ws one-way p99', value: quantile(rawOneWay, 0.99) },
    better: 'lower',
    goal: '< 10 ms',
  });
  const first = await firstMessage();
  report.add('engine.first_message_new_device.p50', quantile(first, 0.5), 'ms', {
    better: 'lower',
    goal: '< 50 ms',
  });
  report.add('engine.first_message_new_device.max', first.at(-1)!, 'ms', { better: 'lower' });
  report.add('engine.messages_per_second', await throughput(), 'msg/s');
  for (const loss of [0.02, 0.1]) {
    const s = await lossy(loss);
    const bound = 1.05 / (1 - loss);
    report.add(`transport.loss${loss * 100}.sends_per_segment`, s.sendsPerSegment, 'sends', {
      baseline: { name: 'bound 1.05/(1-loss)', value: bound },
      better: 'lower',
      goal: `<= ${bound.toFixed(3)}`,
    });
    report.add(`transport.loss${loss * 100}.spurious_fraction`, s.spurious * 100, '%', {
      better: 'lower',
      goal: '< 1%',
    });
  }
}
