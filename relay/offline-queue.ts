// The offline queue: frames for a device that cannot take them now wait in SQLite (store.ts)
// and are delivered in order when it connects. While a device catches up, live frames for it
// queue behind the stored ones so that order holds.
import type { Frame, FrameTypeName } from '../src/shared/protocol/index.ts';
import type { RelayCounters } from './counters.ts';
import { refusalCode } from './custody.ts';
import type { Logger } from './log.ts';
import type { RelayOptions } from './options.ts';
import type { Router } from './routing.ts';
import type { Session } from './session.ts';
import type { FrameRoute, RelayStore } from './store.ts';

/** Frames held for offline recipients. Typing indicators are transient and are not. */
export const STORED: ReadonlySet<FrameTypeName> = new Set(['data', 'ack', 'receipt', 'sealed']);
/** Stored frames fetched from SQLite per step while a device catches up. */
const DRAIN_BATCH = 256;

export class OfflineQueue {
  private readonly store: RelayStore;
  private readonly router: Router;
  private readonly options: RelayOptions;
  private readonly log: Logger;
  private readonly count: RelayCounters;
  /** Set by close(): no more draining. */
  private closing = false;

  constructor(
    store: RelayStore,
    router: Router,
    options: RelayOptions,
    log: Logger,
    count: RelayCounters,
  ) {
    this.store = store;
    this.router = router;
    this.options = options;
    this.log = log;
    this.count = count;
  }

  close(): void {
    this.closing = true;
  }

  /** Keeps a frame for a device that cannot take it now. Tells the sender when it cannot. */
  storeFor(
    user: string,
    device: number,
    bytes: Uint8Array,
    route: FrameRoute,
    source?: Session | null,
    frame?: Frame,
  ): boolean {
    const result = this.store.enqueue(user, device, bytes, route, Date.now());
    if (result.ok) {
      this.count.stored();
      return true;
    }
    this.count.rejected(result.reason === 'sender-quota' ? 'sender-quota' : 'quota');
    const text = {
      'user-quota': `the relay holds too much for ${user} already`,
      'sender-quota': `the relay holds too much from ${route.sender} already`,
      'store-full': 'the relay store is full',
      'store-error': 'the relay cannot store frames right now (disk full or failing)',
    }[result.reason];
    this.log.warn(
      `not storing ${route.type} from ${route.sender} for ${user}: ${text}${result.detail ? ` (${result.detail})` : ''}`,
    );
    const sender = source ?? this.router.devicesOf(route.sender, 0, null)[0];
    if (sender) {
      const messageId = frame?.type === 'data' ? frame.messageId : 0;
      this.router.sendError(sender, refusalCode(result.reason), messageId, text);
    }
    return false;
  }

  /** Frames waiting for a device. */
  waitingFor(user: string, device: number): number {
    return this.store.countPending(user, device);
  }

  /**
   * Delivers a device's stored frames in order; live frames queue behind until done. `why`:
   * the device has just connected, or it fell behind while connected (routing.ts).
   */
  async drain(s: Session, why: 'connect' | 'backlog' = 'connect'): Promise<void> {
    s.draining = true;
    let after = 0;
    let delivered = 0;
    try {
      while (s.state === 'open') {
        const batch = this.store.pending(s.user, s.device, after, DRAIN_BATCH);
        if (batch.length === 0) break;
        let handed = 0;
        for (const row of batch) {
          // Never hand over more than the send buffer holds: a frame past the hard limit
          // would be dropped, and it must not be deleted from the store unsent.
          if (s.pending + row.frame.length > this.options.sendBufferBytes) {
            await s.whenDrained();
            if (s.state !== 'open' || this.closing) break;
          }
          s.draining = false; // let forward() send rather than store again
          this.router.forward(s, row.frame, row, null);
          s.draining = true;
          handed++;
        }
        await s.whenDrained();
        const done = batch.slice(0, handed);
        this.store.remove(done.map((r) => r.id));
        delivered += done.length;
        this.count.storedDelivered('', done.length);
        if (s.state !== 'open' || this.closing || handed < batch.length) break;
        after = batch[batch.length - 1]!.id;
      }
    } catch (e) {
      // The frames stay in the store; the device gets them on its next connection.
      this.log.error(`delivering stored frames to ${s.label} failed: ${(e as Error).message}`);
    } finally {
      s.draining = false;
    }
    const line = `delivered ${delivered} stored frames to ${s.label}`;
    if (why === 'connect') this.log.info(line);
    else this.log.debug(`${line} (caught up)`);
  }

  /** Discards frames past the age limit. */
  expire(now: number): void {
    for (const [user, n] of this.store.expire(now)) {
      this.count.expired('', n);
      this.log.warn(`discarded ${n} frames held too long for ${user}`);
    }
  }
}
