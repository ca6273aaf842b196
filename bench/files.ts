// File goodput through the relay on loopback: a 256 MiB file from one engine to another,
// timed from sendFile() (which hashes the file) until the receiver has verified and saved it,
// with the channel clean and losing 2% and 10% of frames, with code `none` and with
// `hamming74` under a 10% bit error rate (without a code, bit errors only cost retransmissions;
// the code is there to repair them, so its rows carry them). Baseline: a raw `ws` client
// pushing the same file's bytes, one segment's worth (64 KiB, Strata's default) per message,
// through the minimal forwarder (bench/forwarder.ts) in the same run; and the same build with
// its content cipher (AES-256-GCM, src/core/crypto) replaced by a copy, to see what sealing
// costs. Both ends of either run
// live in this process, and the server in its own, so the two are laid out alike; the CPU
// both ends and the server spend per MiB is reported beside the goodput, against the same
// for the zero-mask forwarder and for the copy cipher. After a warm-up, every measurement
// is taken three times, interleaved, and reported by its median.
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Messenger } from '../src/core/messenger.ts';
import { DEFAULT_SEGMENT_SIZE } from '../src/core/transport/segments.ts';
import type { MessengerEvent } from '../src/shared/api.ts';
import type { ContentCipher } from '../src/core/crypto/content.ts';
import { until, type Report } from './harness.ts';
import { cpuSeconds, forwarderPair, quantile, start, stop, type MaskKey } from './relay.ts';

/**
 * CPU seconds spent from now on by this process (both ends, every thread) and by the server
 * (NaN where /proc is not there): on a machine whose speed drifts, what a transfer costs is
 * steadier than how long it takes.
 */
function cpuMeter(server: ChildProcess): () => { ends: number; server: number } {
  const self = process.cpuUsage();
  const child = cpuSeconds(server);
  return () => {
    const used = process.cpuUsage(self);
    const after = cpuSeconds(server);
    return {
      ends: (used.user + used.system) / 1e6,
      server: child === null || after === null ? NaN : after - child,
    };
  };
}

/** Milliseconds of CPU per MiB moved, both ends and server together. */
const perMiB = (cpu: { ends: number; server: number }, size: number) =>
  ((cpu.ends + cpu.server) * 1000) / (size / MiB);

const MiB = 1024 * 1024;
/** BENCH_FILE_MIB and BENCH_FILE_ROWS (e.g. `none/0,none/0.02`) narrow a run for profiling. */
const SIZE = Number(process.env.BENCH_FILE_MIB ?? 256) * MiB;
const RAW_MESSAGE = DEFAULT_SEGMENT_SIZE;
/** Keep at most this much unsent in the raw client, as a real sender's flow control would. */
const SEND_BUFFER = 4 * 1024 * 1024;

interface Row {
  loss: number;
  code: 'none' | 'hamming74';
  ber: number;
}
const CLEAN: Row = { loss: 0, code: 'none', ber: 0 };
const ROWS: Row[] = [0, 0.02, 0.1]
  .flatMap((loss) => [
    { loss, code: 'none' as const, ber: 0 },
    { loss, code: 'hamming74' as const, ber: 0.1 },
  ])
  .filter(
    (row) =>
      !process.env.BENCH_FILE_ROWS ||
      process.env.BENCH_FILE_ROWS.split(',').includes(`${row.code}/${row.loss}`),
  );

/** Untimed, before the measurements: so that every row runs with the code compiled (JIT). */
const WARM_UP = 32 * MiB;

/** A file of `size` incompressible bytes: a random MiB, each copy stamped with its number. */
async function makeFile(dir: string, size: number): Promise<{ path: string; sha256: string }> {
  const path = join(dir, `payload-${size}.bin`);
  const base = randomBytes(MiB);
  const hash = createHash('sha256');
  const fh = await open(path, 'w');
  for (let block = 0; block < size / MiB; block++) {
    const chunk = Buffer.from(base);
    for (let at = 0; at < MiB; at += 64 * 1024) chunk.writeUInt32BE(block, at);
    hash.update(chunk);
    await fh.write(chunk);
  }
  await fh.close();
  return { path, sha256: hash.digest('hex') };
}

/** The file's bytes through the raw forwarder; MB/s of payload, and CPU ms per MiB. */
async function rawGoodput(
  path: string,
  size: number,
  mask: MaskKey,
): Promise<{ rate: number; cpu: number }> {
  const p = await forwarderPair(mask);
  let received = 0;
  const done = new Promise<void>((resolve) => {
    p.b.on('message', (data: Buffer) => {
      received += data.length;
      if (received >= size) resolve();
    });
  });
  const cpu = cpuMeter(p.proc);
  const t0 = performance.now();
  for await (const chunk of createReadStream(path, { highWaterMark: RAW_MESSAGE })) {
    while (p.a.bufferedAmount > SEND_BUFFER) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    p.a.send(chunk as Buffer);
  }
  await done;
  const seconds = (performance.now() - t0) / 1000;
  const used = perMiB(cpu(), size);
  await p.close();
  return { rate: size / seconds / 1e6, cpu: used };
}

/** The file through the relay under `row`'s channel; MB/s of file, and bytes sent / size. */
async function strataGoodput(
  path: string,
  sha256: string,
  size: number,
  row: Row,
  dir: string,
  cipher: ContentCipher = 'aes-256-gcm',
): Promise<{ rate: number; overhead: number; cpu: number }> {
  const relayDir = mkdtempSync(join(dir, 'relay-'));
  const { proc, url } = await start('../relay/main.ts', [
    ...['--port', '0', '--data-dir', relayDir, '--log-level', 'warn'],
    ...['--loss', String(row.loss), '--ber', String(row.ber), '--code', row.code],
    ...['--seed', '11'],
  ]);
  const engine = (user: string) => {
    const m = Messenger.open({
      profileDir: mkdtempSync(join(dir, `${user}-`)),
      relayUrl: url,
      user,
      downloadsDir: mkdtempSync(join(dir, `${user}-downloads-`)),
      contentCipher: cipher,
      // Any size downloads by itself, from a contact (not a message request).
      autoDownloadBytes: Number.MAX_SAFE_INTEGER,
    });
    m.setContact(user === 'bob' ? 'alice' : 'bob', 'accept');
    m.start();
    return m;
  };
  const alice = engine('alice');
  const bob = engine('bob');
  try {
    await until(alice, () => alice.online);
    await until(bob, () => bob.online);
    // Engines that have been running a while, as a user's are: their worker threads started.
    await Promise.all([alice.whenSettled(), bob.whenSettled()]);
    let key = '';
    // Resolves when bob has verified and saved the file; rejects with the reason if either
    // end fails it (e.g. refused by the relay), so that a run never waits forever.
    const outcome = new Promise<void>((resolve, reject) => {
      const watch = (who: string) => (e: MessengerEvent) => {
        if (e.type !== 'message' || e.message.key !== key || !e.message.file) return;
        const f = e.message.file;
        if (f.state === 'failed') reject(new Error(`${who}: ${f.error ?? 'failed'}`));
        else if (who === 'bob' && f.state === 'done') resolve();
      };
      alice.on('event', watch('alice'));
      bob.on('event', watch('bob'));
    });
    const cpu = cpuMeter(proc);
    const t0 = performance.now();
    key = (await alice.sendFile('bob', path)).key;
    await outcome;
    const seconds = (performance.now() - t0) / 1000;
    const used = perMiB(cpu(), size);
    if (bob.message(key)!.file!.sha256 !== sha256) throw new Error('the file arrived altered');
    return { rate: size / seconds / 1e6, overhead: alice.stats('bob').bytesSent / size, cpu: used };
  } finally {
    await alice.close();
    await bob.close();
    await stop(proc);
  }
}

/** Rounds of every measurement, interleaved in time; each figure is the median of its rounds. */
const ROUNDS = Number(process.env.BENCH_FILE_ROUNDS ?? 3);

const median = (values: number[]) =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

export async function runFilesBench(report: Report): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-files-'));
  try {
    const { path, sha256 } = await makeFile(dir, SIZE);
    const warm = await makeFile(dir, WARM_UP);
    process.stderr.write('  warming up...\n');
    await rawGoodput(warm.path, WARM_UP, 'random');
    await rawGoodput(warm.path, WARM_UP, 'zero');
    await strataGoodput(warm.path, warm.sha256, WARM_UP, CLEAN, dir);
    // This machine's speed drifts from one second to the next: every measurement is taken
    // ROUNDS times, the rounds interleaved, and compared by its median.
    const raws: number[] = [];
    const rawZeros: number[] = [];
    const copies: number[] = [];
    // CPU ms per MiB of the zero-mask forwarder, of the copy cipher and of the clean row.
    const cpu = { rawZero: [] as number[], copy: [] as number[], clean: [] as number[] };
    const rates = new Map<Row, number[]>(ROWS.map((row) => [row, []]));
    const overheads = new Map<Row, number[]>(ROWS.map((row) => [row, []]));
    const rowName = (row: Row) => `files.${SIZE / MiB}MiB.${row.code}.loss${row.loss * 100}`;
    for (let round = 1; round <= ROUNDS; round++) {
      // The goal's baseline is a plain ws client, which masks every frame with a random key.
      // Strata's engine masks with a zero key (src/core/connection.ts), which spares both
      // ends a pass over the bytes; a raw client doing the same is the stricter reference.
      raws.push((await rawGoodput(path, SIZE, 'random')).rate);
      const zero = await rawGoodput(path, SIZE, 'zero');
      rawZeros.push(zero.rate);
      cpu.rawZero.push(zero.cpu);
      process.stderr.write(
        `  round ${round}: raw ws forwarder ${raws.at(-1)!.toFixed(1)} MB/s, zero mask ${rawZeros.at(-1)!.toFixed(1)} MB/s\n`,
      );
      // The same build with the content cipher replaced by a copy: what sealing costs.
      try {
        const copy = await strataGoodput(path, sha256, SIZE, CLEAN, dir, 'copy');
        copies.push(copy.rate);
        cpu.copy.push(copy.cpu);
        process.stderr.write(
          `  round ${round}: cipher replaced by a copy: ${copies.at(-1)!.toFixed(1)} MB/s\n`,
        );
      } catch (e) {
        process.stderr.write(`  copy cipher FAILED: ${(e as Error).message}\n`);
      }
      for (const row of ROWS) {
        try {
          const { rate, overhead, cpu: used } = await strataGoodput(path, sha256, SIZE, row, dir);
          if (row.loss === 0 && row.code === 'none') cpu.clean.push(used);
          rates.get(row)!.push(rate);
          overheads.get(row)!.push(overhead);
          process.stderr.write(`  round ${round}: ${rowName(row)}: ${rate.toFixed(1)} MB/s\n`);
        } catch (e) {
          // A failed transfer is a finding, not a number: say so and go on with the others.
          process.stderr.write(`  ${rowName(row)} FAILED: ${(e as Error).message}\n`);
        }
      }
    }
    const raw = median(raws);
    const rawZero = median(rawZeros);
    report.add(`files.${SIZE / MiB}MiB.raw_ws_forwarder.goodput`, raw, 'MB/s');
    report.add(`files.${SIZE / MiB}MiB.raw_ws_forwarder_zero_mask.goodput`, rawZero, 'MB/s');
    const results = new Map<string, number>();
    for (const row of ROWS) {
      const name = rowName(row);
      // A row with a failed round reports no figure: its failure was said above.
      if (rates.get(row)!.length < ROUNDS) continue;
      const rate = median(rates.get(row)!);
      const overhead = median(overheads.get(row)!);
      results.set(`${row.code}/${row.loss}`, rate);
      if (row.loss === 0 && row.code === 'none') {
        report.add(`${name}.goodput`, rate, 'MB/s', {
          baseline: { name: 'raw ws forwarder', value: raw },
        });
        report.add(`${name}.goodput_vs_zero_mask`, rate, 'MB/s', {
          baseline: { name: 'raw ws forwarder, zero mask', value: rawZero },
          goal: '>= 0.7x',
        });
        if (copies.length === ROUNDS) {
          report.add(`${name}.goodput_vs_copy_cipher`, rate, 'MB/s', {
            baseline: { name: 'same build, cipher replaced by a copy', value: median(copies) },
            goal: '>= 0.9x',
          });
        }
        // What the goodput ratios come from on a machine where every process shares two
        // cores: the CPU a MiB costs, both ends and the server together.
        const measured = (values: number[]) =>
          values.length === ROUNDS && values.every(Number.isFinite);
        if (measured(cpu.clean) && measured(cpu.rawZero)) {
          report.add(`${name}.cpu_per_MiB`, median(cpu.clean), 'ms', {
            baseline: { name: 'raw ws forwarder, zero mask', value: median(cpu.rawZero) },
            better: 'lower',
          });
          if (measured(cpu.copy)) {
            report.add(`${name}.cpu_per_MiB_vs_copy_cipher`, median(cpu.clean), 'ms', {
              baseline: { name: 'same build, cipher replaced by a copy', value: median(cpu.copy) },
              better: 'lower',
            });
          }
        }
      } else if (row.loss === 0) {
        report.add(`${name}.ber${row.ber * 100}.goodput`, rate, 'MB/s', {
          baseline: { name: 'raw ws forwarder', value: raw },
        });
      } else {
        // Under loss, against 0.85 × (1 − loss) × the same code's loss-free figure.
        const clean = results.get(`${row.code}/0`);
        if (clean === undefined) continue;
        const bound = 0.85 * (1 - row.loss) * clean;
        report.add(`${name}${row.ber ? `.ber${row.ber * 100}` : ''}.goodput`, rate, 'MB/s', {
          baseline: { name: `0.85(1-loss) x ${row.code} loss0`, value: bound },
          goal: '>= 1x',
        });
      }
      report.add(`${name}.bytes_sent_per_byte`, overhead, 'x', { better: 'lower' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
