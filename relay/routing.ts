// Routing: the open connections by user and device, and the way a frame travels to one of
// them. A frame goes to every connected device of its recipient (and a copy of outgoing data
// to the sender's other devices), through the channel emulator when it is the transport's
// own, and into the offline queue when nobody can take it now, or when its recipient has
// fallen a send buffer behind: a recipient that stops reading costs the relay disk within
// its quota, never its senders' other conversations (the sender is never paused).
import {
  encodeFrame,
  type Envelope,
  type ErrorCodeName,
  type Frame,
  type FrameTypeName,
} from '../src/shared/protocol/index.ts';
import { DelayLine } from './channel/delay-line.ts';
import type { ChannelEmulator, Fate } from './channel/emulator.ts';
import type { RelayCounters } from './counters.ts';
import type { Logger } from './log.ts';
import { OfflineQueue, STORED } from './offline-queue.ts';
import type { RelayOptions } from './options.ts';
import type { Session } from './session.ts';
import type { FrameRoute, RelayStore } from './store.ts';

/** Frames the channel impairs: the transport's own. Control frames pass clean. */
const IMPAIRED: ReadonlySet<FrameTypeName> = new Set(['data', 'ack']);
/** A queue this many times the send buffer drops frames instead of growing further. */
const HARD_LIMIT_FACTOR = 4;

interface Delayed {
  target: Session;
  bytes: Uint8Array;
  route: FrameRoute;
}

export type RouteOutcome = 'sent' | 'stored' | 'refused';

export class Router {
  /** Every connection, greeting or open. */
  readonly sessions = new Set<Session>();
  /** Open connections by user. */
  readonly byUser = new Map<string, Set<Session>>();
  readonly queue: OfflineQueue;
  private readonly delayLine: DelayLine<Delayed>;
  private readonly options: RelayOptions;
  private readonly channel: ChannelEmulator;
  private readonly log: Logger;
  private readonly count: RelayCounters;

  constructor(
    options: RelayOptions,
    store: RelayStore,
    channel: ChannelEmulator,
    log: Logger,
    count: RelayCounters,
  ) {
    this.options = options;
    this.channel = channel;
    this.log = log;
    this.count = count;
    this.delayLine = new DelayLine((d) => this.deliverDelayed(d));
    this.queue = new OfflineQueue(store, this, options, log, count);
  }

  /** Frames and bytes the channel holds back. */
  get held(): { frames: number; bytes: number } {
    return { frames: this.delayLine.size, bytes: this.delayLine.bytes };
  }

  /** Keeps what the channel still holds for its recipients (the relay is closing). */
  keepHeld(): void {
    for (const d of this.delayLine.drain())
      this.queue.storeFor(d.target.user, d.target.device, d.bytes, d.route);
  }

  /** A connection closed: nothing more goes to it, and the channel forgets its link. */
  forget(s: Session): void {
    this.sessions.delete(s);
    this.channel.forgetLink(s.id);
  }

  /** Adds an open connection; returns the older connections of the same device it replaces. */
  join(s: Session): Session[] {
    const devices = this.byUser.get(s.user) ?? new Set<Session>();
    const replaced = [...devices].filter((other) => other.device === s.device);
    for (const other of replaced) devices.delete(other);
    devices.add(s);
    this.byUser.set(s.user, devices);
    return replaced;
  }

  /** Removes an open connection; true when its user has no device left. */
  leave(s: Session): boolean {
    const devices = this.byUser.get(s.user);
    if (!devices?.delete(s)) return false;
    if (devices.size > 0) return false;
    this.byUser.delete(s.user);
    return true;
  }

  devicesOf(user: string, device: number, except: Session | null): Session[] {
    const all = this.byUser.get(user);
    if (!all) return [];
    const out: Session[] = [];
    for (const s of all) if (s !== except && (device === 0 || s.device === device)) out.push(s);
    return out;
  }

  /**
   * Routes a frame from a client: `sent` towards the recipient's devices, `stored` for a
   * recipient who is offline, or `refused` (the sender has been told): its recipient is
   * offline and the relay could not store it.
   */
  route(source: Session, frame: Frame, bytes: Uint8Array): RouteOutcome {
    const route: FrameRoute = { type: frame.type, sender: frame.from };
    const recipients = this.devicesOf(frame.to, frame.toDevice, source);
    let outcome: RouteOutcome = 'sent';
    if (recipients.length === 0 && STORED.has(frame.type)) {
      const accepted = this.queue.storeFor(frame.to, frame.toDevice, bytes, route, source, frame);
      outcome = accepted ? 'stored' : 'refused';
      this.log.debug(
        `${describe(frame)} ${accepted ? 'stored for offline recipient' : 'refused by quota'}`,
      );
    }
    for (const target of recipients) this.forward(target, bytes, route, source, frame);
    // Multi-device history: the sender's other devices see what it sent.
    if (frame.type === 'data' && frame.to !== frame.from) {
      for (const own of this.devicesOf(frame.from, 0, source))
        this.forward(own, bytes, route, source, frame);
    }
    return outcome;
  }

  /** Sends one frame towards one device: through the channel if it is impaired. */
  forward(
    target: Session,
    bytes: Uint8Array,
    route: FrameRoute,
    source: Session | null,
    frame?: Frame,
  ): void {
    if (STORED.has(route.type) && (target.draining || this.behind(target))) {
      // Stored frames are still being delivered, or the recipient is not keeping up: this
      // one waits in the store, behind what is already there, to keep order. (Transient
      // frames such as typing are never stored: they go at once, or are dropped past the
      // hard limit.)
      this.queue.storeFor(target.user, target.device, bytes, route, source, frame);
      if (!target.draining) {
        this.count.backlogs();
        this.log.debug(`${target.label} is a send buffer behind: its frames go to the store`);
        void this.queue.drain(target, 'backlog');
      }
      return;
    }
    if (!IMPAIRED.has(route.type)) {
      this.sendNow(target, bytes, route.type, source);
      return;
    }
    const fate = this.channel.transmit(bytes, {
      from: route.sender,
      to: target.user,
      link: target.id,
    });
    if (this.log.enabled('debug')) {
      this.log.debug(
        `${frame ? describe(frame) : `${route.type} from ${route.sender}`} -> ${target.label} ${describeFate(fate)}`,
      );
    }
    if (!fate.delivered) return;
    for (const copy of fate.copies) {
      if (copy.delayMs <= 0) this.sendNow(target, copy.bytes, route.type, source);
      else {
        target.held += copy.bytes.length;
        this.delayLine.schedule(
          { target, bytes: copy.bytes, route },
          copy.delayMs,
          copy.bytes.length,
        );
      }
    }
  }

  private deliverDelayed(d: Delayed): void {
    d.target.held -= d.bytes.length;
    // The device may have reconnected while the channel held the frame: use its new
    // connection. If it is still away, or still catching up, keep the frame for it.
    const { user, device } = d.target;
    const live = d.target.state === 'open' ? d.target : this.devicesOf(user, device, null)[0];
    if (live && !live.draining) this.sendNow(live, d.bytes, d.route.type, null);
    else this.queue.storeFor(user, device, d.bytes, d.route);
  }

  private sendNow(
    target: Session,
    bytes: Uint8Array,
    type: FrameTypeName,
    source: Session | null,
  ): void {
    const hardLimit = this.options.sendBufferBytes * HARD_LIMIT_FACTOR;
    if (target.pending + bytes.length > hardLimit) {
      this.count.rejected('overloaded');
      if (source)
        this.sendError(source, 'overloaded', 0, `${target.user} is not keeping up; frame dropped`);
      return;
    }
    target.send(bytes);
    this.count.framesOut(type);
    this.count.bytesOut('', bytes.length);
  }

  /**
   * Whether `target` holds a whole send buffer in memory already. (The offline queue's
   * drain never hands it more than fits below this mark, so its own frames pass.)
   */
  private behind(target: Session): boolean {
    return target.pending >= this.options.sendBufferBytes;
  }

  /** Sends a frame the relay itself composed (welcome, presence, errors). */
  sendControl(target: Session, frame: Frame): void {
    this.sendNow(target, encodeFrame(frame), frame.type, null);
  }

  /** Sends an error frame: its code is for programs (and translations), its text for people. */
  sendError(s: Session, code: ErrorCodeName, messageId: number, text: string): void {
    if (s.state === 'closed') return;
    this.sendControl(s, {
      type: 'error',
      ...fromRelay(s),
      code,
      messageId,
      text: text.slice(0, 512),
    });
  }
}

/** The envelope of a frame the relay sends to `s`. */
export function fromRelay(s: Session): Envelope {
  return { from: '', fromDevice: 0, to: s.user, toDevice: s.device };
}

function describe(f: Frame): string {
  const head = `${f.type} ${f.from}/${f.fromDevice} -> ${f.to}/${f.toDevice || '*'}`;
  switch (f.type) {
    case 'data':
      return `${head} msg=${f.messageId} seg=${f.segmentIndex + 1}/${f.segmentCount} tx=${f.transmission} len=${f.payload.length}`;
    case 'ack':
      return `${head} ranges=${f.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}`;
    default:
      return head;
  }
}

function describeFate(f: Fate): string {
  if (!f.delivered) return `channel: ${f.reason}${f.flipped ? ` (${f.flipped} bits flipped)` : ''}`;
  const parts: string[] = [];
  if (f.flipped) parts.push(`${f.flipped} bits flipped`);
  if (f.corrected) parts.push(`${f.corrected} codewords corrected`);
  if (f.corrupted) parts.push('passed on corrupted');
  if (f.reordered) parts.push('reordered');
  if (f.copies.length > 1) parts.push('duplicated');
  const delay = f.copies[0]!.delayMs;
  if (delay > 0) parts.push(`delayed ${delay.toFixed(1)} ms`);
  return `channel: ${parts.length ? parts.join(', ') : 'clean'}`;
}
