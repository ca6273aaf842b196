// Drives test/fixtures/engine-driver.ts: an engine in a child process that a test can
// SIGKILL and start again on the same profile.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { FileView, MessengerEvent, TransportStats } from '../../src/shared/api.ts';

const DRIVER = fileURLToPath(new URL('../fixtures/engine-driver.ts', import.meta.url));

type DriverEvent =
  | MessengerEvent
  | { type: 'started'; device: number }
  | { type: 'accepted'; count: number }
  | { type: 'read'; count: number }
  | { type: 'fileAccepted'; key: string }
  | { type: 'fileRefused'; error: string }
  | { type: 'statsReply'; stats: TransportStats }
  | { type: 'memory'; rss: number; peak: number }
  | { type: 'frozen'; at: string };

/** Messenger options beyond the transport settings (see MessengerOptions). */
export interface EngineOptions {
  downloadsDir?: string;
  maxFileBytes?: number;
  heartbeat?: { intervalMs: number; timeoutMs: number };
  /** Where the driver stops its thread, for a test to kill it there (engine-driver.ts). */
  freezeAt?: 'saveCommit';
  /** Peers taken as contacts rather than message requests (their files download). */
  accept?: string[];
  autoDownloadBytes?: number;
}

export class EngineProcess {
  readonly proc: ChildProcess;
  readonly events: DriverEvent[] = [];
  private waiters: (() => void)[] = [];
  private exited: Promise<void>;

  constructor(
    profileDir: string,
    relayUrl: string,
    user: string,
    settings: object = {},
    options: EngineOptions = {},
    /** A command that runs node elsewhere, such as `ip netns exec NS` (netns.ts). */
    launcher: string[] = [],
  ) {
    const [command, ...prefix] = [...launcher, process.execPath];
    this.proc = spawn(
      command!,
      [
        ...prefix,
        DRIVER,
        profileDir,
        relayUrl,
        user,
        JSON.stringify(settings),
        JSON.stringify(options),
      ],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let event: DriverEvent;
      try {
        event = JSON.parse(line) as DriverEvent;
      } catch {
        // Only the last line of a process killed mid-write can be cut short: it told nothing.
        return;
      }
      this.events.push(event);
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', () => resolve()));
  }

  async until(test: () => boolean): Promise<void> {
    while (!test()) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null)
        throw new Error('engine process exited');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  online(): Promise<void> {
    return this.until(() =>
      this.events.some((e) => e.type === 'connection' && e.state === 'online'),
    );
  }

  /** Sends a command and resolves with the first reply of type `reply` that follows it. */
  private async request<T extends DriverEvent['type']>(
    command: object,
    ...replies: T[]
  ): Promise<Extract<DriverEvent, { type: T }>> {
    const from = this.events.length;
    this.proc.stdin!.write(JSON.stringify(command) + '\n');
    let found: DriverEvent | undefined;
    await this.until(() => {
      found = this.events.slice(from).find((e) => (replies as string[]).includes(e.type));
      return found !== undefined;
    });
    return found as Extract<DriverEvent, { type: T }>;
  }

  async send(to: string, texts: string[]): Promise<void> {
    await this.request({ op: 'send', to, texts }, 'accepted');
  }

  /** Submits a file; resolves with its message key once it is durable (hashed and queued). */
  async sendFile(to: string, path: string): Promise<string> {
    const r = await this.request({ op: 'sendFile', to, path }, 'fileAccepted', 'fileRefused');
    if (r.type === 'fileRefused') throw new Error(r.error);
    return r.key;
  }

  /** The transport's counters towards `peer` since this process started. */
  async stats(peer: string): Promise<TransportStats> {
    return (await this.request({ op: 'stats', peer }, 'statsReply')).stats;
  }

  /** Resident set size now and at its peak (VmHWM), in bytes. */
  async memory(): Promise<{ rss: number; peak: number }> {
    const { rss, peak } = await this.request({ op: 'memory' }, 'memory');
    return { rss, peak };
  }

  /** The newest file view of message `key` seen in this process's events. */
  file(key: string): FileView | null {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.type === 'message' && e.message.key === key) return e.message.file;
    }
    return null;
  }

  /** The newest status of message `key` seen in this process's events. */
  status(key: string): string | null {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.type === 'message' && e.message.key === key) return e.message.status;
    }
    return null;
  }

  /** Texts of complete incoming messages seen in events, in event order (may repeat). */
  incoming(): string[] {
    return this.events.flatMap((e) =>
      e.type === 'message' && e.message.direction === 'in' && e.message.text !== null
        ? [e.message.text]
        : [],
    );
  }

  async kill(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    this.proc.kill('SIGTERM');
    await this.exited;
  }
}
