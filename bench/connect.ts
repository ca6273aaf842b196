// The cost of a connect: TCP, the TLS handshake, the WebSocket upgrade and the hello until the
// welcome, through the engine's own RelayConnection (start() until 'online'), so whatever the
// hello comes to cost (a signed challenge) is measured with it. wss:// to a relay with a
// certificate next to plain ws:// to the same relay code on loopback, alternating in one run
// so both meet the same load on the machine.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { RelayConnection } from '../src/core/connection.ts';
import { rawAccounts } from '../src/node/raw-accounts.ts';
import { createSelfSigned } from '../relay/tls-cert.ts';
import type { Report } from './harness.ts';
import { quantile, start, stop } from './relay.ts';

const WARMUP = 20;
const CONNECTS = 400;

async function relay(tls: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-connect-'));
  // One address connects hundreds of times a second here: the per-address rate is lifted.
  const args = ['--port', '0', '--data-dir', dir, '--log-level', 'warn'];
  args.push('--connects-per-sec-per-address', '100000');
  if (tls) {
    const pair = createSelfSigned({ commonName: 'bench', names: ['127.0.0.1'] });
    writeFileSync(join(dir, 'cert.pem'), pair.cert);
    writeFileSync(join(dir, 'key.pem'), pair.key, { mode: 0o600 });
    args.push('--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'));
  }
  return start('../relay/main.ts', args);
}

/** Milliseconds from start() to 'online' for a new user; the link is closed afterwards. */
async function connectOnce(url: string, user: string): Promise<number> {
  // No heartbeat pings: only the connect is measured. The hello answers the relay's
  // challenge: it registers the name the first time, and signs as its device afterwards.
  const conn = new RelayConnection(url, (c) => rawAccounts.hello(user, 1, c)!, Math.random, {
    intervalMs: 0,
    timeoutMs: 10_000,
  });
  const online = new Promise<void>((resolve, reject) => {
    conn.once('online', () => resolve());
    conn.once('offline', (why) => reject(new Error(`${url}: ${why}`)));
  });
  const t0 = performance.now();
  conn.start();
  await online;
  const ms = performance.now() - t0;
  await conn.stop();
  return ms;
}

export async function runConnectBench(report: Report): Promise<void> {
  const plain = await relay(false);
  const tls = await relay(true);
  try {
    const times = { ws: [] as number[], wss: [] as number[] };
    for (let i = 0; i < WARMUP + CONNECTS; i++) {
      // The warm-up registers WARMUP names; the measured connects sign as their devices.
      const ws = await connectOnce(plain.url, `ws${i % WARMUP}`);
      const wss = await connectOnce(tls.url, `wss${i % WARMUP}`);
      if (i < WARMUP) continue;
      times.ws.push(ws);
      times.wss.push(wss);
    }
    times.ws.sort((a, b) => a - b);
    times.wss.sort((a, b) => a - b);
    for (const [name, q] of [
      ['p50', 0.5],
      ['p99', 0.99],
    ] as const) {
      report.add(`connect.wss.${name}`, quantile(times.wss, q), 'ms', {
        baseline: { name: `ws:// ${name}`, value: quantile(times.ws, q) },
        better: 'lower',
      });
    }
  } finally {
    await Promise.all([stop(plain.proc), stop(tls.proc)]);
  }
}
