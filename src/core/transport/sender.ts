// The sending side on the wire: the pump that sends segments while congestion control and
// the socket allow, retransmission (loss detection's verdicts and probes), and what comes
// back for our segments: the peer's acks and the relay's `held` custody receipts, with the
// relay's presence word on each peer. Which messages are being sent, and their statuses,
// are outgoing.ts's; the per-peer queues and recovery state are outbound.ts's. Each
// transmission's fate is counted as it is decided (tally.ts).
import type { DataFrame } from '../../shared/protocol/index.ts';
import { ownKey, type TransportContext } from './context.ts';
import type { Sent } from './loss-detection.ts';
import { markSegment, type OutMessage } from './out-message.ts';
import { PeerOutbound, TransmissionSpaces, numbersIn, type SegmentRef } from './outbound.ts';
import { StreamSourceError } from './stream.ts';
import { transact } from '../../node/transactions.ts';

/**
 * The attempt limit: a segment sent this many times, over at least FAIL_AFTER_MS of the
 * current link, without the relay ever confirming it holds it, fails its message (the user
 * can retry). Both conditions, so that a slow, loaded machine does not fail messages that
 * are merely late; and only once the relay answers a ping, so that attempts lost in a link
 * that died silently do not fail it: that link is dropped and the message sent again.
 */
export const MAX_SENDS_PER_SEGMENT = 10;
export const FAIL_AFTER_MS = 30_000;
/**
 * After a peer comes back, how long its acknowledgements may stop short of what the relay
 * held for it before this sender sends the rest itself.
 */
export const HELD_SWEEP_MS = 3000;

/** What the sender reports to the bookkeeping of outgoing messages. */
export interface SenderHooks {
  /** Segments of message `id` were held or acknowledged: its status may move on. */
  progressed(id: number): void;
  /** Message `id` cannot be sent (attempt limit, its file changed). */
  failed(id: number, reason: string): void;
  /** The earliest deadline may have changed: set the timer again. */
  arm(): void;
}

export class Sender {
  private readonly ctx: TransportContext;
  private readonly hooks: SenderHooks;
  /** Per peer: the send queue, loss detection and congestion control. */
  readonly outbound = new Map<string, PeerOutbound>();
  /** Our own messages still being sent, with their segments' state. */
  readonly sending = new Map<number, OutMessage>();
  /**
   * Peers back from away, with when what the relay held for them is to be sent again if
   * their acknowledgements have not covered it by then (pushed back while they make progress).
   */
  private readonly heldSweeps = new Map<string, number>();
  /** Peers the relay says are away. */
  private readonly offlinePeers = new Set<string>();
  /**
   * Peers of messages the relay held before this start: their acks and receipts may be
   * waiting at the relay, so what it held is not sent again before HELD_SWEEP_MS online.
   */
  readonly heldAtStart = new Set<string>();
  private pumping = false;
  /** Quitting: nothing more is sent; `drained` settles drain() once nothing is in flight. */
  private draining = false;
  private drained: (() => void) | null = null;
  /** Each peer's block of transmission numbers (outbound.ts). */
  private readonly spaces: TransmissionSpaces;
  /** Segments acknowledged this turn, marked in memory, and their messages: see afterFrame. */
  private ackedToRecord: SegmentRef[] = [];
  private touched = new Set<number>();
  private turnScheduled = false;

  constructor(ctx: TransportContext, hooks: SenderHooks) {
    this.ctx = ctx;
    this.hooks = hooks;
    this.spaces = new TransmissionSpaces(
      () => Number((ctx.q.reserved.get() as { value: string } | undefined)?.value ?? 0),
      (end) => ctx.q.reserve.run(String(end)),
    );
  }

  peerOut(peer: string): PeerOutbound {
    let out = this.outbound.get(peer);
    if (!out) {
      out = new PeerOutbound(peer, this.ctx.settings().segmentSize);
      this.outbound.set(peer, out);
    }
    return out;
  }

  /**
   * Stops sending message `id`; returns what was being sent. Its transmissions still in
   * flight or held are settled: when the peer has the whole message (`finished`), each
   * arrived (acked) or another copy of its segment did (superseded); when it was paused or
   * given up, those in flight are withdrawn, and those the relay holds stay held (the relay
   * may still deliver them) but are no longer followed.
   */
  stop(id: number, ending: 'finished' | 'withdrawn'): OutMessage | undefined {
    const msg = this.sending.get(id);
    if (!msg) return undefined;
    this.sending.delete(id);
    msg.file?.close();
    const out = this.outbound.get(msg.peer);
    if (!out) return msg;
    out.dropStream(id);
    const tally = this.ctx.tallies.send(msg.peer);
    const inFlight = out.forget((ref) => ref.messageId === id);
    const held = tally.releaseHeld(id);
    if (ending === 'withdrawn') {
      tally.settle('withdrawn', inFlight);
      return msg;
    }
    for (const [p, from] of [
      ...held.map((p) => [p, 'held'] as const),
      ...inFlight.map((p) => [p, null] as const),
    ]) {
      const to = markSegment(msg, 'acked', p.meta.index) ? 'acked' : 'superseded';
      if (from === null) tally.settle(to, [p]);
      else tally.move(from, to, p);
      if (to === 'acked')
        this.ctx.log.record(msg.peer, 'acked', id, p.meta.index, msg.count, p.bytes);
    }
    return msg;
  }

  close(): void {
    // What was acknowledged this turn is not sent again by the next run.
    this.markAcked(this.ackedToRecord);
    this.ackedToRecord = [];
    for (const msg of this.sending.values()) msg.file?.close();
  }

  // ---------------------------------------------------------------------------------------
  // The link

  /** The socket took what was waiting: send more, if anything is queued. */
  onSocketDrain(): void {
    for (const out of this.outbound.values()) {
      if (out.hasWork) {
        this.pump();
        return;
      }
    }
  }

  /** The relay link came up: send whatever waits. */
  onOnline(): void {
    // The attempt limit counts time on this link: what went into a dead one proves nothing.
    for (const msg of this.sending.values()) msg.since = this.ctx.now();
    this.requeueInFlight();
    for (const peer of this.heldAtStart) {
      if (!this.offlinePeers.has(peer)) this.heldSweeps.set(peer, this.ctx.now() + HELD_SWEEP_MS);
    }
    this.heldAtStart.clear();
    this.hooks.arm();
    this.pump();
  }

  /** Forgets everything in flight with `peer`: their conversation is being deleted. */
  forgetPeer(peer: string): void {
    for (const [id, msg] of this.sending) {
      if (msg.peer !== peer) continue;
      this.sending.delete(id);
      msg.file?.close();
    }
    this.outbound.delete(peer);
    this.offlinePeers.delete(peer);
    this.heldSweeps.delete(peer);
  }

  /** The relay link went down: what was in flight is sent again later. */
  onOffline(): void {
    this.requeueInFlight();
    this.drained?.();
  }

  /** What was in flight is no longer awaited (withdrawn); its segments go again. */
  private requeueInFlight(): void {
    for (const out of this.outbound.values()) {
      this.ctx.tallies.send(out.peer).settle('withdrawn', out.requeueInFlight());
    }
  }

  /**
   * A frame was handled. At the end of this turn (after every frame that came in one read
   * from the socket), what the acks settled is recorded, a drain may be over, and the pump
   * sends what the window now allows: one transaction and one write for a burst of acks, not
   * one each.
   */
  afterFrame(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    queueMicrotask(() => {
      this.turnScheduled = false;
      if (this.ctx.closed()) return;
      this.recordAcked();
      this.drained?.();
      this.pump();
    });
  }

  /**
   * Records the segments acknowledged this turn and moves their messages on. Marks are a
   * promise to ourselves only: one lost in a crash costs a segment sent again, which the
   * receiver drops as a duplicate.
   */
  private recordAcked(): void {
    const refs = this.ackedToRecord;
    const touched = this.touched;
    if (refs.length === 0 && touched.size === 0) return;
    this.ackedToRecord = [];
    this.touched = new Set();
    this.markAcked(refs);
    for (const id of touched) this.hooks.progressed(id);
  }

  private markAcked(refs: readonly SegmentRef[]): void {
    if (refs.length === 0) return;
    transact(
      this.ctx.db,
      () => {
        for (const ref of refs) this.ctx.q.markAcked.run(ref.messageId, ref.index);
      },
      'immediate',
    );
  }

  /**
   * Before quitting: sends nothing more (new segments and retransmissions alike) and settles
   * once everything in flight is acknowledged or lost, the link drops, or `timeoutMs` passes.
   */
  drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.drained = null;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.drained = () => {
        if (!this.ctx.conn.isOnline || !this.anythingInFlight()) done();
      };
      this.drained();
    });
  }

  private anythingInFlight(): boolean {
    for (const out of this.outbound.values()) if (out.loss.bytesInFlight > 0) return true;
    return false;
  }

  // ---------------------------------------------------------------------------------------
  // The pump

  /** Sends as much as congestion control and the socket allow, peer by peer in turn. */
  pump(): void {
    const { conn, db } = this.ctx;
    if (this.pumping || this.ctx.closed() || this.draining || !conn.isOnline) return;
    // Most calls (one per incoming ack) find nothing to send: no transaction for those.
    let ready = false;
    for (const out of this.outbound.values()) {
      if (out.hasWork && out.canSend(conn.buffered)) {
        ready = true;
        break;
      }
    }
    if (!ready) {
      this.hooks.arm();
      return;
    }
    this.pumping = true;
    // Blocks of numbers are reserved, committed on their own, before a frame of the burst
    // leaves: frames leave before the burst's transaction commits.
    for (const out of this.outbound.values()) if (out.hasWork) this.spaces.ensure(out);
    try {
      // One transaction for the bookkeeping of a whole burst, not one commit per segment, and
      // one write to the socket for its frames.
      conn.batch(() =>
        transact(
          db,
          () => {
            let progress = true;
            while (progress) {
              progress = false;
              for (const out of this.outbound.values()) {
                if (!out.hasWork || !out.canSend(conn.buffered)) continue;
                const next = out.next(
                  (ref) => this.settled(ref),
                  (id) => this.headerIn(id),
                );
                if (!next) continue;
                this.sendSegment(out, next.ref, next.retransmission);
                progress = true;
              }
            }
          },
          'immediate',
        ),
      );
    } finally {
      this.pumping = false;
    }
    this.hooks.arm();
  }

  /**
   * A file's header (segment 0) is with its peer: acknowledged; or, while the peer is away,
   * held by the relay, which delivers what it holds in order when the peer comes back.
   */
  private headerIn(id: number): boolean {
    const msg = this.sending.get(id);
    if (!msg || msg.acked[0] === 1) return true;
    return msg.held[0] === 1 && this.offlinePeers.has(msg.peer);
  }

  /** Acked, failed or abandoned segments need no (more) sending. */
  settled(ref: SegmentRef): boolean {
    const msg = this.sending.get(ref.messageId);
    return !msg || msg.acked[ref.index] === 1;
  }

  private sendSegment(out: PeerOutbound, ref: SegmentRef, retransmission: boolean): void {
    const { me, now } = this.ctx;
    const msg = this.sending.get(ref.messageId)!;
    const count = msg.count;
    let payload: Uint8Array;
    try {
      payload = msg.read(ref.index);
    } catch (e) {
      if (!(e instanceof StreamSourceError)) throw e;
      // The source changed or vanished: no segment of it may go out any more.
      this.hooks.failed(ref.messageId, e.message);
      this.ctx.emit('fileFailed', ownKey(me, ref.messageId), e.message);
      return;
    }
    // Bytes as the frame carries them (a file chunk's offset included), wherever counted.
    const bytes = payload.length;
    const transmission = out.nextTransmission;
    const frame: DataFrame = {
      type: 'data',
      from: me.user,
      fromDevice: me.device,
      to: out.peer,
      toDevice: 0,
      messageId: ref.messageId,
      transmission,
      segmentCount: count,
      segmentIndex: ref.index,
      payload,
      ...(msg.file ? { file: true as const } : {}),
    };
    if (!this.ctx.conn.send(frame)) {
      out.enqueue(ref, true);
      return;
    }
    // A file's cursor may come back over segments sent before (a resume, a sweep): those
    // count as retransmissions too.
    if (msg.sends[ref.index]! > 0) retransmission = true;
    const sends = Math.min(msg.sends[ref.index]! + 1, 0xffff);
    msg.sends[ref.index] = sends;
    this.ctx.q.markSent.run(ref.messageId, ref.index);
    out.onSent(transmission, ref, bytes, now());
    this.ctx.tallies.send(out.peer).sent(retransmission, bytes);
    this.ctx.log.record(
      out.peer,
      retransmission ? 'retransmitted' : 'sent',
      ref.messageId,
      ref.index,
      count,
      bytes,
    );
    // A segment that keeps failing to reach even the relay fails its message, if the relay
    // answers a ping meanwhile (a link that does not is dropped, and this one goes again).
    if (
      sends >= MAX_SENDS_PER_SEGMENT &&
      !msg.held[ref.index] &&
      now() - msg.since >= FAIL_AFTER_MS
    ) {
      void this.ctx.conn.confirmAlive().then((alive) => {
        if (!alive || this.ctx.closed() || this.sending.get(ref.messageId) !== msg) return;
        if (msg.held[ref.index] || msg.acked[ref.index]) return;
        this.hooks.failed(
          ref.messageId,
          'the relay did not take it: it is overloaded or refuses it',
        );
      });
    }
  }

  // ---------------------------------------------------------------------------------------
  // Acks and custody receipts received

  onAck(peer: string, ranges: readonly (readonly [number, number])[], ackDelayMs: number): void {
    const out = this.outbound.get(peer);
    if (!out) return;
    const result = out.onAck(ranges, ackDelayMs, this.ctx.now());
    // The relay's stored copies of what it held while the peer was away, arriving.
    const unparked = out.unpark(ranges);
    const tally = this.ctx.tallies.send(out.peer);
    tally.settle('acked', result.acked);
    tally.spurious += result.spurious.length;
    for (const p of [...result.acked, ...tally.deliverHeld(ranges)]) {
      // Logged whatever the message's state: a receipt may have finished it first.
      const count = this.sending.get(p.meta.messageId)?.count ?? 0;
      this.ctx.log.record(out.peer, 'acked', p.meta.messageId, p.meta.index, count, p.bytes);
    }
    const settled = [...result.acked, ...result.spurious];
    for (const ref of [...settled.map((p) => p.meta), ...unparked]) {
      const msg = this.sending.get(ref.messageId);
      if (!msg || !markSegment(msg, 'acked', ref.index)) continue;
      this.ackedToRecord.push(ref);
      this.touched.add(ref.messageId);
    }
    out.release(settled.map((p) => p.transmission));
    // A returning peer making progress through what the relay stored: let it go on.
    if (unparked.length > 0 && this.heldSweeps.has(out.peer)) {
      this.heldSweeps.set(out.peer, this.ctx.now() + HELD_SWEEP_MS);
    }
    this.declareLost(out, result.lost);
    this.ctx.emit('stats', out.peer);
  }

  onHeld(ranges: readonly (readonly [number, number])[]): void {
    const touched = new Set<number>();
    const released: SegmentRef[] = [];
    transact(
      this.ctx.db,
      () => {
        for (const out of this.outbound.values()) {
          for (const [low, high] of ranges) {
            for (const n of numbersIn(out.transmissions, low, high)) {
              const ref = out.transmissions.get(n)!;
              const msg = this.sending.get(ref.messageId);
              if (!msg || !markSegment(msg, 'held', ref.index)) continue;
              this.ctx.q.markHeld.run(ref.messageId, ref.index);
              touched.add(ref.messageId);
              if (this.offlinePeers.has(out.peer)) released.push(ref);
            }
          }
        }
      },
      'immediate',
    );
    for (const out of this.outbound.values()) out.loss.resetPtoBackoff();
    // For a peer that is away, what the relay holds is the relay's to deliver: it leaves the
    // window (so a large file keeps flowing into custody) and is not probed again and again.
    if (released.length > 0) {
      const gone = new Set(released.map((r) => `${r.messageId}:${r.index}`));
      for (const peer of new Set(released.map((r) => this.sending.get(r.messageId)?.peer))) {
        const out = peer === undefined ? undefined : this.outbound.get(peer);
        if (out) {
          const parked = out.park((r) => gone.has(`${r.messageId}:${r.index}`));
          this.ctx.tallies.send(out.peer).hold(parked);
        }
      }
    }
    for (const id of touched) this.hooks.progressed(id);
  }

  /**
   * The relay's word on a peer's presence. While it is away, segments the relay holds leave
   * this sender's window. When it is back, the relay delivers what it stored, so nothing is
   * sent again at once (that would send a file to an absent peer twice); only if the peer's
   * acknowledgements stop short of it for HELD_SWEEP_MS (the channel lost some of the
   * relay's copies) does this sender send the rest itself.
   */
  peerPresence(peer: string, online: boolean): void {
    if (!online) {
      this.offlinePeers.add(peer);
      this.heldSweeps.delete(peer);
      return;
    }
    if (!this.offlinePeers.delete(peer)) return;
    this.heldSweeps.set(peer, this.ctx.now() + HELD_SWEEP_MS);
    this.hooks.arm();
  }

  /** Sends again what the relay held for `peer` and the peer has not acknowledged. */
  private sweepHeld(peer: string): void {
    this.heldSweeps.delete(peer);
    const out = this.outbound.get(peer);
    if (!out) return;
    for (const [id, msg] of this.sending) {
      if (msg.peer !== peer) continue;
      let first = -1;
      for (let i = 0; i < msg.count; i++) {
        if (!msg.held[i] || msg.acked[i]) continue;
        if (msg.file) {
          first = i;
          break;
        }
        out.enqueue({ messageId: id, index: i }, true);
      }
      // A file's cursor goes back to the first of them and skips what is acknowledged.
      if (first !== -1) out.enqueueStream(id, first, msg.count);
    }
  }

  // ---------------------------------------------------------------------------------------
  // The timer's pass: held sweeps, loss detection's timeouts and probes

  /** The earliest loss-detection timer or held sweep (Infinity: none). */
  deadline(): number {
    let at = Infinity;
    for (const out of this.outbound.values()) {
      const t = out.loss.lossDetectionTimer();
      if (t !== null) at = Math.min(at, t);
    }
    for (const t of this.heldSweeps.values()) at = Math.min(at, t);
    return at;
  }

  onDeadline(now: number): void {
    for (const [peer, t] of this.heldSweeps) if (t <= now + 1) this.sweepHeld(peer);
    for (const out of this.outbound.values()) {
      const t = out.loss.lossDetectionTimer();
      if (t === null || t > now + 1) continue;
      const result = out.onLossTimeout(now);
      if (result.kind === 'loss') {
        this.declareLost(out, result.lost);
      } else if (result.kind === 'probe') {
        // RFC 9002 §6.2.4: probes go out whatever the window says, and carry new data when
        // there is some; otherwise they resend the oldest unacknowledged segments.
        // A file held back until its header is in carries nothing: the probe resends.
        out.probeCredit = Math.max(1, result.probes.length);
        if (!out.hasReady((id) => this.headerIn(id))) {
          for (const p of result.probes) if (!this.settled(p.meta)) out.enqueue(p.meta, true);
        }
      }
      this.ctx.emit('stats', out.peer);
    }
  }

  /**
   * Transmissions loss detection declared lost: a segment already acknowledged through another
   * copy has lost nothing (superseded); the others are logged lost and go again.
   */
  private declareLost(out: PeerOutbound, lost: readonly Sent<SegmentRef>[]): void {
    const tally = this.ctx.tallies.send(out.peer);
    for (const p of lost) {
      const msg = this.sending.get(p.meta.messageId);
      if (!msg) {
        tally.settle('withdrawn', [p]);
      } else if (msg.acked[p.meta.index]) {
        tally.settle('superseded', [p]);
      } else {
        tally.settle('lost', [p]);
        this.ctx.log.record(out.peer, 'lost', p.meta.messageId, p.meta.index, msg.count, p.bytes);
        out.enqueue(p.meta, true);
      }
    }
  }
}
