// What the CLI prints: message and file lines (plain and `--json`), the account's devices,
// and the progress line of send-file on a terminal.
import type { DeviceView, MessageView } from '../shared/api.ts';
import { formatBytes } from '../core/files/disk.ts';

/** One line of `listen --json` (the format the README documents). */
export function messageJson(v: MessageView): string {
  return JSON.stringify({
    type: 'message',
    id: v.key,
    from: v.author,
    to: v.direction === 'in' ? undefined : v.peer,
    text: v.text,
    sentAt: v.sentAt,
    error: v.error,
    ...(v.error ? { missing: v.missing } : {}),
    ...(v.unreadable !== undefined ? { unreadable: v.unreadable } : {}),
  });
}

/** One line of `listen --json` for a received file: saved (error false) or refused. */
export function fileJson(v: MessageView): string {
  const f = v.file!;
  return JSON.stringify({
    type: 'file',
    id: v.key,
    from: v.author,
    name: f.name,
    path: f.path,
    size: f.size,
    sha256: f.sha256,
    error: f.state === 'failed',
    ...(f.state === 'failed' ? { reason: f.error } : {}),
    // Not saved yet: it waits for `accept USER` (request) or `download KEY` (size).
    ...(f.state === 'waiting' ? { waiting: f.held } : {}),
  });
}

/** One line of `devices --json` (the format the README documents). */
export function deviceJson(d: DeviceView): string {
  return JSON.stringify({
    device: d.device,
    name: d.name,
    current: d.current,
    online: d.online,
    lastSeen: d.lastSeen,
    added: d.added,
  });
}

const isoMinute = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

export function deviceLine(d: DeviceView): string {
  const state = d.current
    ? 'this device'
    : d.online
      ? 'online'
      : d.lastSeen > 0
        ? `last seen ${isoMinute(d.lastSeen)}`
        : 'never seen';
  return `${d.device}  ${d.name}  (${state}; added ${isoMinute(d.added)})`;
}

function fileBody(v: MessageView): string {
  const f = v.file!;
  const what = `file ${JSON.stringify(f.name ?? '(name not yet known)')}${f.size === null ? '' : ` (${formatBytes(f.size)})`}`;
  if (f.state === 'failed') return `${what} failed: ${f.error ?? 'unknown reason'}`;
  if (f.state === 'done' && v.direction === 'in') return `${what} saved to ${f.path}`;
  if (f.state === 'waiting' && v.direction === 'in') {
    return f.held === 'request'
      ? `${what} waits: a message request (strata accept ${v.author})`
      : `${what} waits: over the auto-download size (strata download ${v.key})`;
  }
  return `${what} ${f.state}`;
}

export function messageLine(v: MessageView): string {
  const when = new Date(v.sentAt).toISOString().replace('T', ' ').slice(0, 19);
  const body = v.file
    ? fileBody(v)
    : v.error
      ? `[incomplete: segments ${v.missing.join(', ')} missing]`
      : v.unreadable !== undefined
        ? `[could not be decrypted on this device: ${v.unreadable}]`
        : (v.text ?? '');
  return `${when} ${v.author}: ${body}${v.direction === 'out' ? `  (${v.status})` : ''}`;
}

/** `12:05` or `1:02:05`. */
function clock(seconds: number): string {
  const s = Math.round(seconds);
  const mm = String(Math.floor(s / 60) % 60).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${Math.floor(s / 60)}:${ss}`;
}

/** The progress line of send-file: `name  42%  1.2 GiB of 2.9 GiB  38.5 MiB/s  ETA 0:46`. */
export function progressLine(
  name: string,
  done: number,
  size: number,
  bytesPerSecond: number | null,
): string {
  const pct = size === 0 ? 100 : Math.floor((done / size) * 100);
  const speed = bytesPerSecond === null ? '' : `  ${formatBytes(Math.round(bytesPerSecond))}/s`;
  const eta =
    bytesPerSecond !== null && bytesPerSecond > 0 && done < size
      ? `  ETA ${clock((size - done) / bytesPerSecond)}`
      : '';
  return `${name}  ${pct}%  ${formatBytes(done)} of ${formatBytes(size)}${speed}${eta}`;
}

/** One line on a terminal, rewritten in place; speed over the last few seconds. */
export class ProgressMeter {
  private readonly samples: [number, number][] = [];
  private readonly stream: NodeJS.WritableStream;
  private readonly name: string;

  constructor(stream: NodeJS.WritableStream, name: string) {
    this.stream = stream;
    this.name = name;
  }

  note(text: string): void {
    this.stream.write(`\r\x1b[2K${this.name}  ${text}`);
  }

  update(done: number, size: number): void {
    const now = performance.now();
    this.samples.push([now, done]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > 5000) this.samples.shift();
    const [t0, b0] = this.samples[0]!;
    const rate = now - t0 >= 250 ? ((done - b0) * 1000) / (now - t0) : null;
    this.stream.write(`\r\x1b[2K${progressLine(this.name, done, size, rate)}`);
  }

  end(): void {
    this.stream.write('\n');
  }
}
