// One WebSocket connection to the relay: who it is (after its hello), how much the relay
// has queued towards it, and which senders are paused until it catches up (backpressure).
import type { WebSocket } from 'ws';
import type { Challenge } from '../src/node/hello-proof.ts';

/**
 * `greeting`: waiting for the hello; `linking`: a link hello waits for the account's answer
 * (docs/protocol.md, "Accounts"); `open`: said hello and was welcomed.
 */
export type SessionState = 'greeting' | 'linking' | 'open' | 'closed';

export class Session {
  readonly id: number;
  readonly ws: WebSocket;
  readonly remote: string;
  state: SessionState = 'greeting';
  user = '';
  device = 0;
  agent = '';
  /** The challenge this connection's hello must sign; null once a hello has used it. */
  challenge: Challenge | null = null;
  /** Bytes handed to the socket and not yet written out. */
  inFlight = 0;
  /** Bytes the channel holds back for this session (delay, jitter, rate). */
  held = 0;
  /** True while stored frames are being delivered; live frames queue behind them. */
  draining = false;
  /** Senders paused because this session is slow. */
  readonly blockedSources = new Set<Session>();
  /** Slow sessions this one is paused for. */
  readonly pausedBy = new Set<Session>();
  /** Times of recent protocol violations. */
  strikes: number[] = [];
  /** Token bucket for the frame-rate limit. */
  tokens: number;
  tokensAt: number;
  lastRateError = 0;
  private writtenWaiters: (() => void)[] = [];
  private readonly lowWater: number;

  constructor(id: number, ws: WebSocket, remote: string, lowWater: number, tokens: number) {
    this.id = id;
    this.ws = ws;
    this.remote = remote;
    this.lowWater = lowWater;
    this.tokens = tokens;
    this.tokensAt = performance.now();
  }

  /** Bytes the relay holds for this session in memory. */
  get pending(): number {
    return this.inFlight + this.held;
  }

  get label(): string {
    return this.user ? `${this.user}/${this.device}` : `#${this.id}(${this.remote})`;
  }

  send(bytes: Uint8Array, onWritten?: (ok: boolean) => void): void {
    if (this.state === 'closed') {
      onWritten?.(false);
      return;
    }
    this.inFlight += bytes.length;
    this.ws.send(bytes, { binary: true }, (err) => {
      this.inFlight -= bytes.length;
      onWritten?.(!err);
      if (this.pending < this.lowWater) this.drained();
    });
  }

  /** Resolves once the bytes queued towards this session fall below the low-water mark. */
  whenDrained(): Promise<void> {
    if (this.pending < this.lowWater || this.state === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.writtenWaiters.push(resolve));
  }

  /** Stops reading from this session until `slow` has caught up. */
  pauseFor(slow: Session): void {
    if (this.pausedBy.has(slow) || slow === this) return;
    this.pausedBy.add(slow);
    slow.blockedSources.add(this);
    if (this.pausedBy.size === 1) this.ws.pause();
  }

  /** Called when this session's queue drains or it closes: resume whoever waited on it. */
  drained(): void {
    for (const source of this.blockedSources) {
      source.pausedBy.delete(this);
      if (source.pausedBy.size === 0 && source.state !== 'closed') source.ws.resume();
    }
    this.blockedSources.clear();
    const waiters = this.writtenWaiters;
    this.writtenWaiters = [];
    for (const w of waiters) w();
  }
}
