// Drives test/fixtures/engine-driver.ts: an engine in a child process that a test can
// SIGKILL and start again on the same profile.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { MessengerEvent } from '../../src/shared/api.ts';

const DRIVER = fileURLToPath(new URL('../fixtures/engine-driver.ts', import.meta.url));

type DriverEvent =
  MessengerEvent | { type: 'started'; device: number } | { type: 'accepted'; count: number };

export class EngineProcess {
  readonly proc: ChildProcess;
  readonly events: DriverEvent[] = [];
  private waiters: (() => void)[] = [];
  private exited: Promise<void>;

  constructor(profileDir: string, relayUrl: string, user: string, settings: object = {}) {
    this.proc = spawn(
      process.execPath,
      [DRIVER, profileDir, relayUrl, user, JSON.stringify(settings)],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      this.events.push(JSON.parse(line) as DriverEvent);
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

  send(to: string, texts: string[]): Promise<void> {
    const before = this.events.filter((e) => e.type === 'accepted').length;
    this.proc.stdin!.write(JSON.stringify({ op: 'send', to, texts }) + '\n');
    return this.until(() => this.events.filter((e) => e.type === 'accepted').length > before);
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
