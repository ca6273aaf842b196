import { describe, expect, it } from 'vitest';
import type { TransportStats } from '../../../shared/api.ts';
import { transportStats } from '../model/testing.ts';
import { deriveRates, MAX_SAMPLE_GAP_MS, trimSamples, type NetworkSample } from './rates.ts';

const stats = transportStats;

const sample = (at: number, over: Partial<TransportStats> = {}): NetworkSample => ({
  at,
  stats: stats(over),
});

describe('deriveRates', () => {
  it('has no rate for the first sample', () => {
    expect(deriveRates([])).toEqual([]);
    expect(deriveRates([sample(1000, { segmentsSent: 50 })])).toEqual([]);
  });

  it('turns counter deltas into per-second rates over the real interval', () => {
    const points = deriveRates([
      sample(1000, {
        segmentsSent: 10,
        segmentsAcked: 4,
        segmentsReceived: 1,
        retransmissions: 0,
        bytesSent: 1000,
        bytesReceived: 50,
      }),
      sample(1500, {
        segmentsSent: 30,
        segmentsAcked: 9,
        segmentsReceived: 3,
        retransmissions: 2,
        bytesSent: 5000,
        bytesReceived: 750,
        // Gauges and other counters do not become rates.
        rttMs: 80,
        duplicatesDropped: 4,
      }),
    ]);
    expect(points).toEqual([
      {
        at: 1500,
        segmentsSent: 40,
        segmentsAcked: 10,
        segmentsReceived: 4,
        retransmissions: 4,
        bytesSent: 8000,
        bytesReceived: 1400,
      },
    ]);
  });

  it('gives no rate for an interval in which a counter went down, then resumes', () => {
    const points = deriveRates([
      sample(0, { segmentsSent: 100, segmentsReceived: 5 }),
      sample(1000, { segmentsSent: 3, segmentsReceived: 6 }),
      sample(2000, { segmentsSent: 8, segmentsReceived: 6 }),
    ]);
    expect(points[0]!.segmentsSent).toBeNull();
    // Counters that did not go down still have their rate.
    expect(points[0]!.segmentsReceived).toBe(1);
    expect(points[1]!.segmentsSent).toBe(5);
  });

  it('breaks the line over a gap longer than the limit, and for a clock that went back', () => {
    const points = deriveRates([
      sample(0, { segmentsSent: 0 }),
      sample(MAX_SAMPLE_GAP_MS + 1, { segmentsSent: 10 }),
      sample(MAX_SAMPLE_GAP_MS + 1001, { segmentsSent: 20 }),
      sample(MAX_SAMPLE_GAP_MS + 1001, { segmentsSent: 25 }),
    ]);
    expect(points.map((p) => p.segmentsSent)).toEqual([null, 10, null]);
    expect(points[0]!.bytesSent).toBeNull();
  });

  it('accepts a gap exactly at the limit', () => {
    const points = deriveRates([sample(0), sample(MAX_SAMPLE_GAP_MS, { segmentsSent: 10 })]);
    expect(points[0]!.segmentsSent).toBe(2);
  });

  it('does not compare samples of different conversations', () => {
    const other = { ...sample(1000, { segmentsSent: 9 }), stats: stats({ peer: 'carol' }) };
    expect(deriveRates([sample(0), other])[0]!.segmentsSent).toBeNull();
  });
});

describe('trimSamples', () => {
  const at = (...times: number[]) => times.map((t) => ({ at: t }));

  it('keeps the window plus one older sample so the first rate in the window exists', () => {
    expect(trimSamples(at(0, 10, 20, 30, 40), 15)).toEqual(at(20, 30, 40));
    expect(trimSamples(at(0, 10, 20, 30, 40), 20)).toEqual(at(10, 20, 30, 40));
  });

  it('keeps everything when the history is shorter than the window', () => {
    expect(trimSamples(at(0, 10), 60_000)).toEqual(at(0, 10));
    expect(trimSamples([], 60_000)).toEqual([]);
  });
});
