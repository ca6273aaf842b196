import { transportStats } from '../model/testing.ts';
import { describe, expect, it } from 'vitest';
import type { TransportStats } from '../../../shared/api.ts';
import type { SegmentLogEntry } from '../../../shared/contract.ts';
import { countersReset, mergeLog, nextSince } from './segment-log.ts';

const entry = (
  seq: number,
  event: SegmentLogEntry['event'] = 'sent',
  bytes = 100,
): SegmentLogEntry => ({
  seq,
  at: 1000 + seq,
  peer: 'bob',
  event,
  messageId: 7,
  index: seq % 4,
  segmentCount: 4,
  bytes,
});
const seqs = (log: readonly SegmentLogEntry[]) => log.map((e) => e.seq);
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => entry(from + i));

describe('mergeLog', () => {
  it('shows a batch newest first', () => {
    expect(seqs(mergeLog([], [entry(1), entry(2), entry(3)]))).toEqual([3, 2, 1]);
  });

  it('puts a new batch above the shown entries', () => {
    const shown = mergeLog([], [entry(1), entry(2)]);
    expect(seqs(mergeLog(shown, [entry(5), entry(9)]))).toEqual([9, 5, 2, 1]);
  });

  it('skips entries already shown', () => {
    const shown = mergeLog([], [entry(1), entry(2)]);
    expect(seqs(mergeLog(shown, [entry(2), entry(3)]))).toEqual([3, 2, 1]);
  });

  it('keeps at most the capacity, dropping the oldest', () => {
    const shown = mergeLog([], range(1, 5), 6);
    expect(seqs(mergeLog(shown, range(6, 8), 6))).toEqual([8, 7, 6, 5, 4, 3]);
  });

  it('keeps only the newest of a batch larger than the capacity', () => {
    expect(seqs(mergeLog([entry(0)], range(1, 10), 3))).toEqual([10, 9, 8]);
  });

  it('returns the shown log unchanged for an empty batch', () => {
    const shown = mergeLog([], range(1, 3));
    expect(mergeLog(shown, [])).toEqual(shown);
  });
});

describe('nextSince', () => {
  it('is the last sequence number of the batch, or unchanged when it is empty', () => {
    expect(nextSince(undefined, [])).toBeUndefined();
    expect(nextSince(4, [])).toBe(4);
    expect(nextSince(4, [entry(6), entry(11)])).toBe(11);
  });
});

describe('countersReset', () => {
  const stats = (over: Partial<TransportStats>): TransportStats =>
    transportStats({
      segmentsSent: 10,
      segmentsAcked: 10,
      retransmissions: 1,
      segmentsReceived: 10,
      duplicatesDropped: 1,
      bytesSent: 5000,
      bytesReceived: 4000,
      rttMs: 50,
      minRttMs: 40,
      windowBytes: 1000,
      bytesInFlight: 10,
      lossRate: 0.1,
      ...over,
    });

  it('is true when any cumulative counter went down', () => {
    expect(countersReset(stats({}), stats({ segmentsSent: 11, rttMs: 1, windowBytes: 1 }))).toBe(
      false,
    );
    for (const key of [
      'segmentsSent',
      'segmentsAcked',
      'retransmissions',
      'segmentsReceived',
      'duplicatesDropped',
      'bytesSent',
      'bytesReceived',
    ] as const) {
      expect(countersReset(stats({}), stats({ [key]: 0 }))).toBe(true);
    }
  });
});
