// The network view's counters and segment log, against a stand-in for the relay connection
// and a fake clock, where the order of acks, probes and receipts is the test's to choose.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DataFrame, Frame } from '../../shared/protocol/index.ts';
import { recordingLink } from './test-link.ts';
import { closeDatabase, openDatabase, type Db } from '../store/database.ts';
import { Transport } from './transport.ts';

let db: Db;
let sent: Frame[];
let t: Transport;
beforeEach(() => {
  vi.useFakeTimers();
  db = openDatabase(mkdtempSync(join(tmpdir(), 'strata-counters-test-')));
  sent = [];
  const link = recordingLink(sent);
  t = new Transport(
    db,
    link,
    { user: 'alice', device: 1 },
    { segmentSize: 1024, assemblyPeriodMs: 1000, idleCycles: 3 },
    () => Date.now(),
  );
  t.start();
});
afterEach(() => {
  t.close();
  vi.useRealTimers();
  closeDatabase(db);
});

const data = (): DataFrame[] => sent.filter((f): f is DataFrame => f.type === 'data');

function ack(...transmissions: number[]): void {
  const sorted = [...transmissions].sort((a, b) => b - a);
  t.onFrame({
    type: 'ack',
    from: 'bob',
    fromDevice: 1,
    to: 'alice',
    toDevice: 1,
    ackDelayMicros: 0,
    ranges: sorted.map((n) => [n, n] as [number, number]),
  });
}

describe('the counters and the segment log', () => {
  it('a segment acknowledged through a probe is never logged lost when its first copy is given up', () => {
    t.submit('bob', 1, new Uint8Array(10));
    // No answer: the probe timeout sends the segment again.
    while (data().length < 2) vi.advanceTimersByTime(100);
    const [first, probe] = data();
    // The probe's copy arrives; the first copy never does, and is given up on.
    ack(probe!.transmission);
    vi.advanceTimersByTime(60_000);
    const log = t.log.since(0, 'bob').map((e) => e.event);
    expect(log).toEqual(['sent', 'retransmitted', 'acked']);
    const s = t.stats('bob');
    expect(s).toMatchObject({
      segmentsSent: 2,
      firstTransmissions: 1,
      retransmissions: 1,
      segmentsAcked: 1,
      segmentsLost: 0,
      segmentsSuperseded: 1,
      segmentsInFlight: 0,
      lossRate: 0,
    });
    expect(first!.segmentIndex).toBe(probe!.segmentIndex);
  });

  it('a delivery receipt that comes before the ack counts the segment acknowledged', () => {
    const key = t.submit('bob', 1, new Uint8Array(10));
    t.onFrame({
      type: 'receipt',
      from: 'bob',
      fromDevice: 1,
      to: 'alice',
      toDevice: 1,
      kind: 'delivered',
      messageDevice: 1,
      messageIds: [key.id],
    });
    // The ack comes later and changes nothing.
    ack(data()[0]!.transmission);
    expect(t.stats('bob')).toMatchObject({
      segmentsSent: 1,
      segmentsAcked: 1,
      segmentsInFlight: 0,
      bytesSent: 10,
      bytesAcked: 10,
    });
    expect(t.log.since(0, 'bob').map((e) => e.event)).toEqual(['sent', 'acked']);
  });

  it('a reset carries what is in flight, so the sums still hold once it settles', () => {
    t.submit('bob', 1, new Uint8Array(3000));
    expect(data()).toHaveLength(3);
    ack(data()[0]!.transmission);
    t.resetStats('bob');
    expect(t.stats('bob')).toMatchObject({
      segmentsSent: 0,
      segmentsAcked: 0,
      segmentsInFlight: 2,
      segmentsCarried: 2,
      bytesCarried: 1024 + 952,
    });
    expect(t.log.since(0, 'bob')).toEqual([]);
    ack(...data().map((f) => f.transmission));
    const s = t.stats('bob');
    expect(s.segmentsAcked).toBe(2);
    expect(s.segmentsSent + s.segmentsCarried).toBe(s.segmentsAcked + s.segmentsInFlight);
    expect(s.bytesSent + s.bytesCarried).toBe(s.bytesAcked + s.bytesInFlight);
  });
});
