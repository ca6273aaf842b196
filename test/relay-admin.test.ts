// The relay's admin API against token guessing, on the real relay process: tokens too short to
// resist it are refused at start, one is made when none is given, and wrong ones are answered
// ever more slowly (and counted), so 2,000 guesses get almost none checked.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { relayRequest, type RelayAnswer } from '../src/core/host/relay-admin.ts';
import { ADMIN_TOKEN, startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

const RELAY_MAIN = fileURLToPath(new URL('../relay/main.ts', import.meta.url));

const relays: RelayProcess[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.stop();
});

async function relay(...args: Parameters<typeof startRelay>): Promise<RelayProcess> {
  const r = await startRelay(...args);
  relays.push(r);
  return r;
}

function getChannel(r: RelayProcess, token: string): Promise<RelayAnswer> {
  return relayRequest(new URL('/api/channel', r.http), r.fingerprint, {
    headers: { Authorization: `Bearer ${token}` },
    timeoutMs: 60_000,
  });
}

/** `count` requests made by `workers` loops at once; the answers in the order they came. */
async function hammer(
  count: number,
  workers: number,
  request: () => Promise<RelayAnswer>,
): Promise<{ answers: RelayAnswer[]; seconds: number }> {
  const answers: RelayAnswer[] = [];
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (started < count) {
        started++;
        answers.push(await request());
      }
    }),
  );
  return { answers, seconds: (performance.now() - t0) / 1000 };
}

/** A counter's value in the Prometheus text of a plain-http relay. */
async function metric(r: RelayProcess, name: string): Promise<number> {
  const text = await (await fetch(`${r.http}/metrics`)).text();
  const m = new RegExp(`^strata_relay_${name}_total (\\d+)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
}

describe('the admin token', () => {
  it('is refused at start when shorter than 128 bits as hex', () => {
    const run = spawnSync(
      process.execPath,
      [RELAY_MAIN, '--port', '0', '--data-dir', tempDir(), '--admin-token', 'sesame-1234'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'relay: --admin-token must be at least 32 characters (128 bits as hex: openssl rand -hex 16), not 11\n',
    );
  });

  it('is made (128 bits, printed) when none is given, and that one works', async () => {
    const r = await relay([], { adminToken: null });
    const line = r.out.find((l) => l.startsWith('admin token: '));
    const token = /^admin token: ([0-9a-f]{32}) /.exec(line ?? '')?.[1];
    expect(token).toBeDefined();
    expect((await getChannel(r, token!)).status).toBe(200);
    expect((await getChannel(r, ADMIN_TOKEN)).status).toBe(401);
    // Each relay makes its own.
    const other = await relay([], { adminToken: null });
    expect(other.out.find((l) => l.startsWith('admin token: '))).not.toBe(line);
  });
});

describe('wrong admin tokens', () => {
  it('2,000 of them are slowed to a crawl next to right ones, each answer later than the last, and counted', async () => {
    // The connection rate per address is lifted: this measures the token guard alone, and
    // 300 quick requests from one address would otherwise meet the address guard first.
    const r = await relay(['--connects-per-sec-per-address', '100000']);
    // The rate of right tokens, in the same run: what an unthrottled guesser would get.
    const right = await hammer(300, 16, () => getChannel(r, ADMIN_TOKEN));
    expect(right.answers.every((a) => a.status === 200)).toBe(true);
    const rightPerSecond = right.answers.length / right.seconds;

    let n = 0;
    const wrong = await hammer(2000, 16, () => getChannel(r, `guess-${n++}`.padEnd(32, '0')));
    const checked = wrong.answers.filter((a) => a.status === 401);
    const refused = wrong.answers.filter((a) => a.status === 429);
    expect(checked.length + refused.length).toBe(2000);
    // Guesses whose token was looked at, per second, against right ones per second.
    const checkedPerSecond = checked.length / wrong.seconds;
    expect(checkedPerSecond).toBeLessThan(rightPerSecond / 20);
    expect(checked.length).toBeLessThan(40);
    // Every answer to a wrong token waited at least as long as the one before, up to the cap.
    const delays = checked.map((a) => (a.body as { delayedMs: number }).delayedMs);
    expect(delays[0]).toBe(100);
    for (let i = 1; i < delays.length; i++)
      expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!);
    expect(Math.max(...delays)).toBeGreaterThanOrEqual(1600);
    expect(Math.max(...delays)).toBeLessThanOrEqual(10_000);
    expect(refused[0]!.body).toMatchObject({ code: 'tooManyAttempts' });
    // Counted in /metrics.
    expect(await metric(r, 'admin_auth_failures')).toBe(checked.length);
    expect(await metric(r, 'admin_auth_throttled')).toBe(refused.length);
    // Once the answers are out, the right token is answered at once again.
    expect((await getChannel(r, ADMIN_TOKEN)).status).toBe(200);
    console.log(
      `admin API: right tokens ${rightPerSecond.toFixed(0)}/s; wrong ones checked ` +
        `${checkedPerSecond.toFixed(2)}/s (${checked.length} of 2000 in ${wrong.seconds.toFixed(1)} s, ` +
        `delays ${delays.join(', ')} ms)`,
    );
  });
});

describe('the admin address', () => {
  it('is the main port on loopback, and 127.0.0.1 of its own off loopback, over https', async () => {
    const onLoopback = await relay();
    expect(onLoopback.http).toBe(`http://127.0.0.1:${onLoopback.port}`);
    const lan = await relay(['--host', '0.0.0.0']);
    expect(lan.http).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(lan.http).not.toBe(`https://127.0.0.1:${lan.port}`);
    expect((await getChannel(lan, ADMIN_TOKEN)).status).toBe(200);
    // Not on the main port, which the network reaches.
    const main = await relayRequest(
      new URL(`https://127.0.0.1:${lan.port}/api/channel`),
      lan.fingerprint,
      { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, timeoutMs: 30_000 },
    );
    expect(main.status).toBe(404);
    const health = await relayRequest(
      new URL(`https://127.0.0.1:${lan.port}/healthz`),
      lan.fingerprint,
      { timeoutMs: 30_000 },
    );
    expect(health.status).toBe(200);
  });
});
