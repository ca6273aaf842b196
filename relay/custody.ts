// Custody: the relay's half of the promise behind a message's "sent" status. Every data
// frame the relay accepts is written to SQLite, in one transaction per batch, and only then
// does the sender hear, in a `held` frame, which of its transmissions the relay now holds.
// A frame waits `holdDelayMs` before it is written: if the recipient acknowledges it first
// (the common case with the recipient online), the sender has the acknowledgement itself
// and the frame is never written at all, which spares the relay's disk a second copy of
// every file that crosses it. (A frame for a recipient who is away is written at once.) A
// relay that dies in that window loses nothing: the sender keeps every transmission that is
// neither held nor acknowledged and sends it again. From then on whoever holds the frame
// finishes its delivery: while the sending device is connected its own transport
// retransmits; once it is gone, the relay re-sends what the recipient has not acknowledged,
// with exponential backoff, until the recipient's `delivered` (or `cancelled`, `refused`)
// receipt releases the message (docs/protocol.md, "Custody").
import {
  MAX_ACK_RANGES,
  type AckFrame,
  type AckRange,
  type DataFrame,
  type ErrorCodeName,
  type Frame,
  type ReceiptFrame,
} from '../src/shared/protocol/index.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { Session } from './session.ts';
import type { CustodyKey, CustodyRow, EnqueueResult, RelayStore } from './store.ts';

/** How long a frame waits for the recipient's acknowledgement before it is written. */
export const HOLD_DELAY_MS = 250;
/** Frames waiting beyond these bounds are written at once, oldest first. */
export const PENDING_FRAMES = 4096;
export const PENDING_BYTES = 32 * 1024 * 1024;
/** The first retransmission interval after the sender left, and after progress. */
export const RETRY_MS = 1000;
/** The longest interval the backoff reaches. */
export const MAX_RETRY_MS = 30_000;
/** At most this much is re-sent towards one recipient per round. */
export const ROUND_FRAMES = 1024;
export const ROUND_BYTES = 8 * 1024 * 1024;

/** What custody needs from the relay: its connections and its ways of sending. */
export interface CustodyHost {
  /** The open connections of `user` (device 0: all of them). */
  devicesOf(user: string, device: number): Session[];
  /** Sends a frame the relay composed (clean, like every control frame). */
  sendControl(target: Session, frame: Frame): void;
  sendError(target: Session, code: ErrorCodeName, messageId: number, text: string): void;
  /** Sends a stored data frame through the channel, exactly as a forwarded one. */
  resend(target: Session, bytes: Uint8Array, sender: string): void;
  /** Whether `target` takes more now: not catching up on stored frames, not backed up. */
  ready(target: Session): boolean;
}

export interface CustodyOptions {
  retryMs?: number;
  maxRetryMs?: number;
  /** How often due rounds are looked for (default a quarter of retryMs); 0: only by tick(). */
  tickMs?: number;
  /** How long a frame waits for its acknowledgement before it is written (HOLD_DELAY_MS); 0:
   * written at the end of the event-loop turn it arrived in. */
  holdDelayMs?: number;
  now?: () => number;
}

interface Pending {
  row: CustodyRow;
  source: Session;
  /** When it arrived. */
  at: number;
  /** The same sender, device and recipient as keyOf(row). */
  key: string;
}

/** Retransmission state of one (sender, device, recipient) with unacknowledged frames. */
interface Track {
  key: CustodyKey;
  backoffMs: number;
  nextAt: number;
}

type RefusalReason = Exclude<EnqueueResult, { ok: true }>['reason'];
interface Refusal {
  code: ErrorCodeName;
  text: string;
}

const REFUSAL_TEXT: Record<RefusalReason, string> = {
  'user-quota': 'the relay holds too much for this recipient already; not held',
  'sender-quota': 'the relay holds too much from this sender already; not held',
  'store-full': 'the relay store is full; not held',
  'store-error': 'the relay cannot store frames right now (disk full or failing); not held',
};

/**
 * The error a refused frame is answered with: a limit is final (`quotaExceeded`), a disk that
 * failed to write is transient (`storeUnavailable`), so the sender sends it again later.
 */
export function refusalCode(reason: RefusalReason): ErrorCodeName {
  return reason === 'store-error' ? 'storeUnavailable' : 'quotaExceeded';
}

function refusalOf(reason: RefusalReason): Refusal {
  return { code: refusalCode(reason), text: REFUSAL_TEXT[reason] };
}

export class Custody {
  private readonly store: RelayStore;
  private readonly host: CustodyHost;
  private readonly log: Logger;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private readonly tickMs: number;
  private readonly now: () => number;
  private batch: Pending[] = [];
  private batchBytes = 0;
  /** How many pending frames each (sender, device, recipient) has: most acks name none. */
  private readonly pendingKeys = new Map<string, number>();
  private acks: { key: CustodyKey; ranges: AckRange[] }[] = [];
  /** Segments spared while an earlier copy of them may be written: marked by segment. */
  private segmentAcks: { key: CustodyKey; segments: [number, number][] }[] = [];
  /** Releases to apply, with the messages among them that had frames waiting to be written. */
  private releases: { key: CustodyKey; messageIds: number[]; pending: Set<number> }[] = [];
  private scheduled: ReturnType<typeof setImmediate> | null = null;
  private holdTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly holdDelayMs: number;
  private readonly tracks = new Map<string, Track>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private started = false;
  private closed = false;
  private readonly count;

  constructor(
    store: RelayStore,
    host: CustodyHost,
    log: Logger,
    metrics: Metrics,
    options: CustodyOptions = {},
  ) {
    this.store = store;
    this.host = host;
    this.log = log;
    this.retryMs = options.retryMs ?? RETRY_MS;
    this.maxRetryMs = Math.max(this.retryMs, options.maxRetryMs ?? MAX_RETRY_MS);
    this.tickMs = options.tickMs ?? Math.max(5, Math.min(250, this.retryMs / 4));
    this.holdDelayMs = options.holdDelayMs ?? HOLD_DELAY_MS;
    this.now = options.now ?? (() => Date.now());
    this.count = {
      held: metrics.counter('custody_held', 'Data frames committed to custody.'),
      spared: metrics.counter(
        'custody_spared',
        'Data frames acknowledged by their recipient before custody had to write them.',
      ),
      refused: metrics.counter(
        'custody_refused',
        'Data frames custody refused, by reason.',
        'reason',
      ),
      released: metrics.counter(
        'custody_released',
        'Frames released from custody by a delivered, cancelled or refused receipt.',
      ),
      retransmitted: metrics.counter(
        'custody_retransmitted',
        'Frames the relay re-sent from custody for a sender that is gone.',
      ),
      expired: metrics.counter('custody_expired', 'Frames in custody discarded at the age limit.'),
      errors: metrics.counter('custody_storage_errors', 'Custody bookkeeping that failed.'),
    };
    metrics.gauge('custody_frames', 'Data frames in custody.', () => store.custodyFrames);
    metrics.gauge('custody_bytes', 'Bytes in custody.', () => store.custodyBytes);
    metrics.gauge(
      'custody_retrying',
      'Sending devices and recipients with unacknowledged frames in custody.',
      () => {
        return this.tracks.size;
      },
    );
  }

  /** Picks up custody left by a previous run and starts the retransmission timer. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.safely('loading custody', () => {
      for (const key of this.store.senderDevicesWithCustody()) this.track(key);
    });
    if (this.tickMs > 0) this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  /** Commits what is pending and stops. Nothing is taken into custody after this. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
  }

  // ---------------------------------------------------------------------------------------
  // Frames passing through

  /**
   * A data frame the relay accepted from `source` (and has already routed). It waits for the
   * recipient's ack first when `awaitAck`; a frame for a recipient who is away does not.
   */
  take(source: Session, frame: DataFrame, bytes: Uint8Array, awaitAck = true): void {
    if (this.closed) return;
    const key = keyOf({ sender: frame.from, senderDevice: frame.fromDevice, recipient: frame.to });
    this.batch.push({
      source,
      at: awaitAck ? this.now() : -Infinity,
      key,
      row: {
        sender: frame.from,
        senderDevice: frame.fromDevice,
        recipient: frame.to,
        recipientDevice: frame.toDevice,
        messageId: frame.messageId,
        segmentIndex: frame.segmentIndex,
        transmission: frame.transmission,
        frame: bytes,
      },
    });
    this.batchBytes += bytes.length;
    this.pendingKeys.set(key, (this.pendingKeys.get(key) ?? 0) + 1);
    this.schedule();
  }

  /** An ack from a recipient to a sending device: those frames need no more re-sending. */
  onAck(frame: AckFrame): void {
    // Transmission numbers belong to one sending device; an ack to all devices names none.
    if (this.closed || frame.toDevice === 0) return;
    const key = { sender: frame.to, senderDevice: frame.toDevice, recipient: frame.from };
    this.spare(key, frame.ranges);
    // Without a track nothing of this sender is written and unacknowledged towards this
    // recipient; what is still waiting to be written, the ack has just spared.
    if (!this.tracks.has(keyOf(key))) return;
    this.acks.push({ key, ranges: frame.ranges });
    this.schedule();
  }

  /**
   * Frames still waiting to be written that the recipient has acknowledged need no custody:
   * they leave the batch, with every other copy of the same segments.
   */
  private spare(custodyKey: CustodyKey, ranges: readonly AckRange[]): void {
    const key = keyOf(custodyKey);
    if (!this.pendingKeys.has(key)) return;
    let segments: Map<string, [number, number]> | null = null;
    for (const p of this.batch) {
      if (p.key === key && inRanges(p.row.transmission, ranges)) {
        const { messageId, segmentIndex } = p.row;
        (segments ??= new Map()).set(`${messageId}:${segmentIndex}`, [messageId, segmentIndex]);
      }
    }
    if (!segments) return;
    this.dropPending(key, (row) => segments.has(`${row.messageId}:${row.segmentIndex}`));
    this.count.spared('', segments.size);
    // An earlier copy of a segment (lost, or late past the delay) may be written already:
    // the ack of this one settles it too.
    if (this.tracks.has(key)) {
      this.segmentAcks.push({ key: custodyKey, segments: [...segments.values()] });
      this.schedule();
    }
  }

  /** Takes the frames of `key` that `gone` names out of the pending batch: never written. */
  private dropPending(key: string, gone: (row: Pending['row']) => boolean): void {
    if (!this.pendingKeys.has(key)) return;
    this.batch = this.batch.filter((p) => {
      const keep = p.key !== key || !gone(p.row);
      if (!keep) this.dropped(p);
      return keep;
    });
  }

  /** Bookkeeping of a frame leaving the pending batch. */
  private dropped(p: Pending): void {
    this.batchBytes -= p.row.frame.length;
    const n = (this.pendingKeys.get(p.key) ?? 1) - 1;
    if (n === 0) this.pendingKeys.delete(p.key);
    else this.pendingKeys.set(p.key, n);
  }

  /**
   * A `delivered` receipt (the recipient has the whole message), or `cancelled` or `refused`
   * (it will not take it), or the sender's `withdrawn` (it cancelled the message): custody
   * lets go of it, written or waiting. `read`, `paused`, `resumed`, `wait` and `proceed`
   * change nothing here: a held file is delivered later, from what custody keeps.
   */
  onReceipt(frame: ReceiptFrame): void {
    if (this.closed || frame.kind === 'read' || frame.kind === 'paused') return;
    if (frame.kind === 'resumed' || frame.kind === 'wait' || frame.kind === 'proceed') return;
    // Either way nothing more is owed; a withdrawal names the sender's own messages.
    const key =
      frame.kind === 'withdrawn'
        ? { sender: frame.from, senderDevice: frame.messageDevice, recipient: frame.to }
        : { sender: frame.to, senderDevice: frame.messageDevice, recipient: frame.from };
    const k = keyOf(key);
    const ids = new Set(frame.messageIds);
    const pending = new Set<number>();
    this.dropPending(k, (row) => {
      if (!ids.has(row.messageId)) return false;
      pending.add(row.messageId);
      return true;
    });
    this.releases.push({ key, messageIds: frame.messageIds, pending });
    this.schedule();
  }

  private schedule(): void {
    this.scheduled ??= setImmediate(() => this.settle());
  }

  /** The end of a turn: writes what is due, applies acks and receipts, waits for the rest. */
  private settle(): void {
    this.scheduled = null;
    this.flush(false);
    if (this.closed || this.batch.length === 0 || this.holdTimer) return;
    const wait = Math.max(1, this.batch[0]!.at + this.holdDelayMs - this.now());
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      this.settle();
    }, wait);
  }

  /**
   * Commits the frames that have waited long enough (all of them when `all`) in one
   * transaction and answers each sender: a `held` frame for what is now durable, an error
   * per message for what is not. Then applies the acks and receipts that came in the
   * meantime (after the frames they may name).
   */
  flush(all = true): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    if (this.closed) return;
    const cut = this.now() - this.holdDelayMs;
    const batch: Pending[] = [];
    const waiting: Pending[] = [];
    for (const p of this.batch) {
      // Oldest first: what waited its time, what is not to wait, and beyond the bounds.
      const over =
        this.batch.length - batch.length > PENDING_FRAMES || this.batchBytes > PENDING_BYTES;
      if (all || over || p.at <= cut) {
        batch.push(p);
        this.dropped(p);
      } else {
        waiting.push(p);
      }
    }
    this.batch = waiting;
    const acks = this.acks;
    const segmentAcks = this.segmentAcks;
    const releases = this.releases;
    this.acks = [];
    this.segmentAcks = [];
    this.releases = [];
    if (batch.length > 0) this.commit(batch);
    const touched = new Map<string, CustodyKey>();
    for (const { key, segments } of segmentAcks) {
      this.safely('marking acknowledged custody', () => {
        const n = this.store.markSegmentsAcked(
          key.sender,
          key.senderDevice,
          key.recipient,
          segments,
        );
        if (n > 0) touched.set(keyOf(key), key);
      });
    }
    for (const { key, ranges } of acks) {
      this.safely('marking acknowledged custody', () => {
        const n = this.store.markAcked(key.sender, key.senderDevice, key.recipient, ranges);
        if (n > 0) touched.set(keyOf(key), key);
      });
    }
    for (const { key, messageIds, pending } of releases) {
      this.safely('releasing custody', () => {
        const n = this.store.release(
          key.sender,
          key.senderDevice,
          key.recipient,
          messageIds,
          this.now(),
          pending,
        );
        if (n === 0) return;
        this.count.released('', n);
        touched.set(keyOf(key), key);
        this.log.debug(
          `custody: released ${n} frames of ${key.sender}/${key.senderDevice} -> ${key.recipient}`,
        );
      });
    }
    for (const [k, key] of touched) {
      const t = this.tracks.get(k);
      if (!t) continue;
      this.safely('checking custody', () => {
        const left = this.store.unackedFor(key.sender, key.senderDevice, key.recipient, 1);
        if (left.length === 0) {
          this.tracks.delete(k);
          return;
        }
        // Progress: the recipient is there and listening; retry soon again.
        t.backoffMs = this.retryMs;
        t.nextAt = Math.min(t.nextAt, this.now() + this.retryMs);
      });
    }
  }

  private commit(batch: Pending[]): void {
    let results: EnqueueResult[];
    try {
      results = this.store.holdBatch(
        batch.map((p) => p.row),
        this.now(),
      );
    } catch (e) {
      const detail = (e as Error).message;
      results = batch.map(() => ({ ok: false, reason: 'store-error', detail }));
    }
    const held = new Map<Session, number[]>();
    const refused = new Map<Session, Map<number, Refusal>>();
    let committed = 0;
    let failure: string | undefined;
    for (let i = 0; i < batch.length; i++) {
      const { row, source } = batch[i]!;
      const result = results[i] ?? { ok: false, reason: 'store-error' };
      if (result.ok) {
        committed++;
        this.track(row);
        const list = held.get(source) ?? [];
        list.push(row.transmission);
        held.set(source, list);
      } else {
        this.count.refused(result.reason);
        const ids = refused.get(source) ?? new Map<number, Refusal>();
        if (!ids.has(row.messageId)) ids.set(row.messageId, refusalOf(result.reason));
        refused.set(source, ids);
        if (result.reason === 'store-error') failure ??= result.detail ?? 'unknown error';
      }
    }
    if (failure !== undefined) this.log.warn(`custody: cannot store frames: ${failure}`);
    if (committed > 0) this.count.held('', committed);
    // The answer goes to the sending device's connection, a newer one if it reconnected.
    for (const [source, transmissions] of held) {
      const to = this.liveConnection(source);
      if (!to) continue;
      for (const ranges of chunks(toRanges(transmissions), MAX_ACK_RANGES)) {
        this.host.sendControl(to, {
          type: 'held',
          from: '',
          fromDevice: 0,
          to: to.user,
          toDevice: to.device,
          ackDelayMicros: 0,
          ranges,
        });
      }
    }
    for (const [source, ids] of refused) {
      const to = this.liveConnection(source);
      if (!to) continue;
      for (const [messageId, { code, text }] of ids) this.host.sendError(to, code, messageId, text);
    }
  }

  private liveConnection(s: Session): Session | undefined {
    if (s.state === 'open') return s;
    return this.host.devicesOf(s.user, s.device)[0];
  }

  // ---------------------------------------------------------------------------------------
  // Retransmission by the relay

  /** Discards custody past the age limit. */
  expire(now: number): void {
    this.safely('expiring custody', () => {
      for (const [user, n] of this.store.expireCustody(now)) {
        this.count.expired('', n);
        this.log.warn(`custody: discarded ${n} frames held too long for ${user}`);
      }
    });
  }

  private track(key: CustodyKey): void {
    const k = keyOf(key);
    if (this.tracks.has(k)) return;
    this.tracks.set(k, {
      key: { sender: key.sender, senderDevice: key.senderDevice, recipient: key.recipient },
      backoffMs: this.retryMs,
      nextAt: this.now() + this.retryMs,
    });
  }

  /** Runs the rounds that are due. Public for tests. */
  tick(): void {
    if (this.closed) return;
    const now = this.now();
    for (const [k, t] of this.tracks) {
      const { sender, senderDevice, recipient } = t.key;
      // The sending device is connected: its own transport retransmits. The recipient is
      // away: nothing can be sent. Either way the first round comes one interval after the
      // situation changes.
      if (
        this.host.devicesOf(sender, senderDevice).length > 0 ||
        this.host.devicesOf(recipient, 0).length === 0
      ) {
        t.backoffMs = this.retryMs;
        t.nextAt = now + this.retryMs;
        continue;
      }
      if (now < t.nextAt) continue;
      let outcome: 'sent' | 'blocked' | 'done';
      try {
        outcome = this.round(t.key);
      } catch (e) {
        // A sick disk: back off as after a round rather than retry at every tick.
        this.count.errors();
        this.log.error(`custody: re-sending: ${(e as Error).message}`);
        outcome = 'sent';
      }
      if (outcome === 'done') {
        this.tracks.delete(k);
      } else if (outcome === 'blocked') {
        t.nextAt = now + this.retryMs;
      } else {
        // Nothing new from the recipient since the last round: wait twice as long.
        t.backoffMs = Math.min(this.maxRetryMs, t.backoffMs * 2);
        t.nextAt = now + t.backoffMs;
      }
    }
  }

  /** One round: re-sends the oldest unacknowledged frames to the recipient's devices. */
  private round(key: CustodyKey): 'sent' | 'blocked' | 'done' {
    const { sender, senderDevice, recipient } = key;
    const rows = this.store.unackedFor(sender, senderDevice, recipient, ROUND_FRAMES);
    if (rows.length === 0) return 'done';
    let frames = 0;
    let bytes = 0;
    for (const row of rows) {
      if (bytes >= ROUND_BYTES) break;
      for (const target of this.host.devicesOf(recipient, row.recipientDevice)) {
        if (target.user === sender && target.device === senderDevice) continue;
        if (!this.host.ready(target)) continue;
        this.host.resend(target, row.frame, sender);
        frames++;
        bytes += row.frame.length;
      }
    }
    if (frames === 0) return 'blocked';
    this.count.retransmitted('', frames);
    this.log.debug(
      `custody: re-sent ${frames} frames of ${sender}/${senderDevice} to ${recipient} (${rows.length} unacknowledged)`,
    );
    return 'sent';
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.count.errors();
      this.log.error(`custody: ${what}: ${(e as Error).message}`);
    }
  }
}

function keyOf(k: CustodyKey): string {
  return `${k.sender}\u0000${k.senderDevice}\u0000${k.recipient}`;
}

/** Numbers as the descending, disjoint, non-adjacent ranges an ack or held frame carries. */
export function toRanges(numbers: readonly number[]): AckRange[] {
  const sorted = [...new Set(numbers)].sort((a, b) => b - a);
  const ranges: [number, number][] = [];
  for (const n of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && last[0] === n + 1) last[0] = n;
    else ranges.push([n, n]);
  }
  return ranges;
}

/** Whether `n` is in one of the (low, high) ranges of an ack. */
function inRanges(n: number, ranges: readonly AckRange[]): boolean {
  for (const [low, high] of ranges) if (n >= low && n <= high) return true;
  return false;
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
