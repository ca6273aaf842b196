// Strata on the namespace LAN of netns.ts: the real relay on the relay host, engines on
// alice's and bob's, and what the dead-link tests read from their events. Everything a
// scene starts is stopped, and its namespaces removed, by scene.close(), pass or fail.
import { EngineProcess, type EngineOptions } from './engine-process.ts';
import { Lan, type Host } from './netns.ts';
import { startRelay, tempDir, type RelayProcess } from './relay-process.ts';

export const RELAY_PORT = 7000;

export class Scene {
  readonly lan = Lan.create();
  readonly relayData = tempDir('strata-relay-');
  private readonly engines: EngineProcess[] = [];
  private relays: RelayProcess[] = [];

  /** Starts the relay on the relay host (again, on the same data, after a stop). */
  async startRelay(env: Record<string, string> = {}): Promise<RelayProcess> {
    const relay = await startRelay(['--host', this.lan.relay.address], {
      launcher: this.lan.relay.launcher,
      port: RELAY_PORT,
      dataDir: this.relayData,
      env,
    });
    this.relays.push(relay);
    return relay;
  }

  /**
   * Off loopback the relay serves wss:// with a certificate it keeps in its data folder, so
   * a restarted relay has the same one; engines pin it as a user given the URL would.
   */
  get relayUrl(): string {
    const fingerprint = this.relays[0]?.fingerprint;
    if (!fingerprint) throw new Error('start the relay first: its URL carries its certificate');
    return `wss://${this.lan.relay.address}:${RELAY_PORT}/#sha256=${fingerprint}`;
  }

  /** An engine for `user` on `host`, on a profile of its own. */
  engine(host: Host, user: string, options: EngineOptions = {}): EngineProcess {
    const e = new EngineProcess(
      tempDir('strata-engine-'),
      this.relayUrl,
      user,
      {},
      { downloadsDir: tempDir('strata-downloads-'), ...options },
      host.launcher,
    );
    this.engines.push(e);
    return e;
  }

  async close(): Promise<void> {
    await Promise.all([
      ...this.engines.map((e) => e.kill()),
      ...this.relays.map((r) => r.stop('SIGKILL')),
    ]);
    this.lan.destroy();
  }
}

/** Waits for `promise`, failing with `what` if it takes more than `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not within ${ms / 1000} s: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What `e` last heard of `user`'s presence: true online, false offline, null nothing. */
export function presenceOf(e: EngineProcess, user: string): boolean | null {
  for (let i = e.events.length - 1; i >= 0; i--) {
    const ev = e.events[i]!;
    if (ev.type === 'presence' && ev.presence.user === user) return ev.presence.online;
  }
  return null;
}

/** How many times `e` has reported its relay connection in `state`. */
export function connectionCount(e: EngineProcess, state: 'online' | 'offline'): number {
  return e.events.filter((ev) => ev.type === 'connection' && ev.state === state).length;
}

/** The newest status of `e`'s own message with this text (null if it has none). */
export function statusOf(e: EngineProcess, text: string): string | null {
  for (let i = e.events.length - 1; i >= 0; i--) {
    const ev = e.events[i]!;
    if (ev.type === 'message' && ev.message.direction === 'out' && ev.message.text === text)
      return ev.message.status;
  }
  return null;
}
