// A small deterministic discrete-event simulator of one bottleneck link, for testing
// congestion controllers. Pure: simulated time in ms, randomness from a seed.
//
// Each flow's sender writes packets into its local socket (instant, or drained at a given
// rate), from which they reach the link: a FIFO of bounded bytes (drop-tail) served at
// `capacity`. A packet that gets through the queue is then lost at random with probability
// `loss` (the relay's deliberate loss: it has used the link's capacity) or delivered after
// the propagation delay. Acks come back after the propagation delay again and are never
// lost. The sender learns of a loss when the packet's ack would have come (about one RTT
// after sending, the simplified loss detection). RTT estimates per flow follow RFC 9002
// without ack delay. A change of capacity or delay applies to packets entering the queue
// after it. Optionally the link delivers in order through a reliable layer below (TCP
// under a WebSocket) that repairs its own losses: a packet that hits one is held, with
// every packet behind it, for the repair time (a head-of-line stall); the flow never sees
// that loss, only the delay.

import { TimeQueue } from '../../../shared/time-queue.ts';
import { seededRandom, type Random } from '../../../shared/random.ts';
import type { AckSample, CcPacket } from '../congestion.ts';

/**
 * What the simulator needs from a congestion controller. The simulator owns the bytes in
 * flight (as loss detection does in the transport) and numbers each flow's packets.
 */
export interface SimController {
  readonly window: number;
  canSend(bytesInFlight: number, socketBuffered: number): boolean;
  onPacketSent(packet: CcPacket, bytesInFlight: number): void;
  onAcked(packet: CcPacket, ack: AckSample): void;
  onLost(packet: CcPacket, bytesInFlight: number, now: number): void;
}

export interface LinkConfig {
  /** Bottleneck rate, bytes per second. */
  capacity: number;
  /** One-way propagation delay, ms (each way). */
  delayMs: number;
  /** Drop-tail limit: bytes waiting or in service. */
  queueLimit: number;
  /** Independent random loss probability, 0..1. */
  loss: number;
  seed: number;
  /** Losses the layer below repairs: each packet starts a stall of `ms` with `probability`. */
  stalls?: { probability: number; ms: number };
}

export interface FlowConfig {
  controller: SimController;
  /** Bytes per packet. */
  packetSize: number;
  /** When the flow starts sending (ms). Default 0. */
  startMs?: number;
  /** The local socket's drain rate, bytes per second. Default: instant. */
  socketRate?: number;
}

export interface SimulationConfig {
  link: LinkConfig;
  flows: FlowConfig[];
  durationMs: number;
  /** Changes of the link's capacity (bytes per second) at given times. */
  capacityChanges?: { atMs: number; capacity: number }[];
  /** Changes of the one-way propagation delay (ms) at given times. */
  delayChanges?: { atMs: number; delayMs: number }[];
  /** Interval of the recorded samples, ms. Default 10. */
  sampleMs?: number;
}

export interface FlowSample {
  /** Bytes acknowledged so far (goodput: each delivered packet carries new data). */
  delivered: number;
  window: number;
  inFlight: number;
  socketBuffered: number;
}

export interface Sample {
  t: number;
  /** Bytes queued at the bottleneck (waiting or in service). */
  queue: number;
  flows: FlowSample[];
}

export interface FlowResult {
  delivered: number;
  packetsSent: number;
  /** Lost at random. */
  packetsLost: number;
  /** Dropped by the full queue. */
  packetsDropped: number;
  maxWindow: number;
  /** Smallest window seen after the flow started. */
  minWindow: number;
  maxInFlight: number;
  maxSocketBuffered: number;
}

export interface SimulationResult {
  flows: FlowResult[];
  samples: Sample[];
  /** Time-average of the bottleneck queue over the run, bytes. */
  averageQueue: number;
  maxQueue: number;
}

interface Packet {
  flow: number;
  transmission: number;
  bytes: number;
  sentAt: number;
}

type Event =
  | { kind: 'start'; flow: number }
  | { kind: 'arrive'; packet: Packet }
  | { kind: 'ack'; packet: Packet }
  | { kind: 'lost'; packet: Packet }
  | { kind: 'capacity'; capacity: number }
  | { kind: 'delay'; delayMs: number }
  | { kind: 'sample' };

interface FlowState {
  config: FlowConfig;
  started: boolean;
  nextTransmission: number;
  inFlight: number;
  socketBuffered: number;
  socketFreeAt: number;
  srtt: number;
  result: FlowResult;
}

export function simulate(config: SimulationConfig): SimulationResult {
  const { link, durationMs } = config;
  const sampleMs = config.sampleMs ?? 10;
  const random: Random = seededRandom(link.seed);
  const events = new TimeQueue<Event>();
  let capacity = link.capacity / 1000; // bytes per ms
  let delayMs = link.delayMs;
  // The bottleneck FIFO: departure times and sizes of packets waiting or in service.
  const departures: { at: number; bytes: number }[] = [];
  let head = 0;
  let queued = 0;
  let lastDeparture = 0;
  /** Deliveries wait until this time (a stall of the reliable layer below). */
  let stalledUntil = 0;
  let queueArea = 0;
  let queueAreaAt = 0;
  let maxQueue = 0;
  const samples: Sample[] = [];

  const flows: FlowState[] = config.flows.map((f) => ({
    config: f,
    started: false,
    nextTransmission: 0,
    inFlight: 0,
    socketBuffered: 0,
    socketFreeAt: 0,
    srtt: 0,
    result: {
      delivered: 0,
      packetsSent: 0,
      packetsLost: 0,
      packetsDropped: 0,
      maxWindow: f.controller.window,
      minWindow: f.controller.window,
      maxInFlight: 0,
      maxSocketBuffered: 0,
    },
  }));

  /** Brings the queue up to `now`, integrating its size for the time average. */
  const drain = (now: number): void => {
    for (;;) {
      const d = departures[head];
      if (!d || d.at > now) break;
      queueArea += queued * (d.at - queueAreaAt);
      queueAreaAt = d.at;
      queued -= d.bytes;
      head++;
    }
    queueArea += queued * (now - queueAreaAt);
    queueAreaAt = now;
    if (head > 1024 && head * 2 > departures.length) {
      departures.splice(0, head);
      head = 0;
    }
  };

  const noteWindow = (f: FlowState): void => {
    const w = f.config.controller.window;
    f.result.maxWindow = Math.max(f.result.maxWindow, w);
    f.result.minWindow = Math.min(f.result.minWindow, w);
  };

  const arrive = (p: Packet, now: number): void => {
    drain(now);
    const f = flows[p.flow]!;
    if (queued + p.bytes > link.queueLimit) {
      f.result.packetsDropped++;
      events.push(now + queued / capacity + 2 * delayMs, { kind: 'lost', packet: p });
      return;
    }
    const at = Math.max(now, lastDeparture) + p.bytes / capacity;
    lastDeparture = at;
    departures.push({ at, bytes: p.bytes });
    queued += p.bytes;
    maxQueue = Math.max(maxQueue, queued);
    const lost = random() < link.loss;
    if (lost) f.result.packetsLost++;
    let delivered = at + delayMs;
    if (link.stalls) {
      if (random() < link.stalls.probability) {
        stalledUntil = Math.max(stalledUntil, delivered + link.stalls.ms);
      }
      delivered = Math.max(delivered, stalledUntil);
    }
    events.push(delivered + delayMs, { kind: lost ? 'lost' : 'ack', packet: p });
  };

  const trySend = (index: number, now: number): void => {
    const f = flows[index]!;
    if (!f.started) return;
    const c = f.config.controller;
    const bytes = f.config.packetSize;
    while (c.canSend(f.inFlight, f.socketBuffered)) {
      const packet: Packet = {
        flow: index,
        transmission: f.nextTransmission++,
        bytes,
        sentAt: now,
      };
      f.inFlight += bytes;
      c.onPacketSent(packet, f.inFlight);
      f.result.packetsSent++;
      f.result.maxInFlight = Math.max(f.result.maxInFlight, f.inFlight);
      if (f.config.socketRate === undefined) {
        arrive(packet, now);
      } else {
        f.socketBuffered += bytes;
        f.result.maxSocketBuffered = Math.max(f.result.maxSocketBuffered, f.socketBuffered);
        f.socketFreeAt = Math.max(now, f.socketFreeAt) + (bytes * 1000) / f.config.socketRate;
        events.push(f.socketFreeAt, { kind: 'arrive', packet });
      }
    }
  };

  config.flows.forEach((f, i) => events.push(f.startMs ?? 0, { kind: 'start', flow: i }));
  for (const change of config.capacityChanges ?? []) {
    events.push(change.atMs, { kind: 'capacity', capacity: change.capacity });
  }
  for (const change of config.delayChanges ?? []) {
    events.push(change.atMs, { kind: 'delay', delayMs: change.delayMs });
  }
  events.push(0, { kind: 'sample' });

  while (events.size > 0) {
    const { at: now, item: event } = events.pop()!;
    if (now > durationMs) break;
    switch (event.kind) {
      case 'start': {
        flows[event.flow]!.started = true;
        trySend(event.flow, now);
        break;
      }
      case 'arrive': {
        const f = flows[event.packet.flow]!;
        f.socketBuffered -= event.packet.bytes;
        arrive(event.packet, now);
        trySend(event.packet.flow, now);
        break;
      }
      case 'ack': {
        const p = event.packet;
        const f = flows[p.flow]!;
        const sample = now - p.sentAt;
        f.srtt = f.srtt === 0 ? sample : (7 * f.srtt + sample) / 8;
        f.inFlight -= p.bytes;
        f.result.delivered += p.bytes;
        f.config.controller.onAcked(p, {
          bytesInFlight: f.inFlight,
          rttSample: sample,
          smoothedRtt: f.srtt,
          now,
        });
        noteWindow(f);
        trySend(p.flow, now);
        break;
      }
      case 'lost': {
        const p = event.packet;
        const f = flows[p.flow]!;
        f.inFlight -= p.bytes;
        f.config.controller.onLost(p, f.inFlight, now);
        noteWindow(f);
        trySend(p.flow, now);
        break;
      }
      case 'capacity': {
        capacity = event.capacity / 1000;
        break;
      }
      case 'delay': {
        delayMs = event.delayMs;
        break;
      }
      case 'sample': {
        drain(now);
        samples.push({
          t: now,
          queue: queued,
          flows: flows.map((f) => ({
            delivered: f.result.delivered,
            window: f.config.controller.window,
            inFlight: f.inFlight,
            socketBuffered: f.socketBuffered,
          })),
        });
        events.push(now + sampleMs, { kind: 'sample' });
        break;
      }
    }
  }
  drain(durationMs);
  return {
    flows: flows.map((f) => f.result),
    samples,
    averageQueue: durationMs > 0 ? queueArea / durationMs : 0,
    maxQueue,
  };
}

/** Bytes per second a flow got between two times, from the recorded samples. */
export function goodputBetween(
  result: SimulationResult,
  flow: number,
  fromMs: number,
  toMs: number,
): number {
  const at = (t: number): number => {
    let last = 0;
    for (const s of result.samples) {
      if (s.t > t) break;
      last = s.flows[flow]?.delivered ?? 0;
    }
    return last;
  };
  return ((at(toMs) - at(fromMs)) * 1000) / (toMs - fromMs);
}
