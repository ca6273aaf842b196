import { describe, expect, it } from 'vitest';
import { RttEstimator, kGranularity, kInitialRtt } from './rtt.ts';

const MAX_ACK_DELAY = 25;

describe('RttEstimator before any sample (RFC 9002 §5.3, A.4)', () => {
  it('starts from kInitialRtt = 100 ms with rttvar = kInitialRtt / 2', () => {
    const rtt = new RttEstimator();
    expect(kInitialRtt).toBe(100);
    expect(kGranularity).toBe(1);
    expect(rtt.hasSample).toBe(false);
    expect(rtt.smoothedRtt).toBe(100);
    expect(rtt.rttVar).toBe(50);
    expect(rtt.latestRtt).toBe(0);
    expect(rtt.minRtt).toBe(0);
    // PTO = 100 + max(4 × 50, 1) + 25
    expect(rtt.pto(MAX_ACK_DELAY)).toBe(325);
  });

  it('accepts another initial RTT and refuses nonsense', () => {
    const rtt = new RttEstimator(333);
    expect(rtt.smoothedRtt).toBe(333);
    expect(rtt.rttVar).toBe(166.5);
    expect(() => new RttEstimator(0)).toThrow(RangeError);
    expect(() => new RttEstimator(Number.NaN)).toThrow(RangeError);
  });
});

describe('RttEstimator.update (RFC 9002 §5.3)', () => {
  it('takes the first sample as it is, ignoring the ack delay', () => {
    const rtt = new RttEstimator();
    rtt.update(200, 30, MAX_ACK_DELAY);
    expect(rtt.hasSample).toBe(true);
    expect(rtt.latestRtt).toBe(200);
    expect(rtt.minRtt).toBe(200);
    expect(rtt.smoothedRtt).toBe(200);
    expect(rtt.rttVar).toBe(100);
    // PTO = 200 + 4 × 100 + 25
    expect(rtt.pto(MAX_ACK_DELAY)).toBe(625);
  });

  it('subtracts the ack delay from later samples and averages 7/8, 3/4', () => {
    const rtt = new RttEstimator();
    rtt.update(200, 0, MAX_ACK_DELAY);
    rtt.update(300, 10, MAX_ACK_DELAY);
    // adjusted = 300 - 10 = 290 (300 >= min 200 + 10)
    // rttvar = 3/4 × 100 + 1/4 × |200 - 290| = 75 + 22.5
    // smoothed = 7/8 × 200 + 1/8 × 290 = 175 + 36.25
    expect(rtt.latestRtt).toBe(300);
    expect(rtt.minRtt).toBe(200);
    expect(rtt.rttVar).toBe(97.5);
    expect(rtt.smoothedRtt).toBe(211.25);
    // PTO = 211.25 + 4 × 97.5 + 25
    expect(rtt.pto(MAX_ACK_DELAY)).toBe(626.25);

    rtt.update(180, 5, MAX_ACK_DELAY);
    // min_rtt drops to 180; adjusted = 180 - 5 = 175 (180 >= 180 + 5 is false: 180 kept)
    expect(rtt.minRtt).toBe(180);
    expect(rtt.rttVar).toBeCloseTo(0.75 * 97.5 + 0.25 * Math.abs(211.25 - 180), 12);
    expect(rtt.smoothedRtt).toBeCloseTo(0.875 * 211.25 + 0.125 * 180, 12);
  });

  it('caps the ack delay at max_ack_delay after the first sample', () => {
    const rtt = new RttEstimator();
    rtt.update(200, 500, MAX_ACK_DELAY); // first: the delay is ignored, not capped
    expect(rtt.smoothedRtt).toBe(200);
    rtt.update(300, 80, MAX_ACK_DELAY);
    // ack_delay = min(80, 25) = 25, adjusted = 275 (uncapped it would be 220)
    // rttvar = 75 + 1/4 × 75 = 93.75; smoothed = 175 + 275 / 8 = 209.375
    expect(rtt.rttVar).toBe(93.75);
    expect(rtt.smoothedRtt).toBe(209.375);
  });

  it('does not subtract an ack delay that would take the sample below min_rtt', () => {
    const rtt = new RttEstimator();
    rtt.update(200, 0, MAX_ACK_DELAY);
    rtt.update(210, 20, MAX_ACK_DELAY);
    // 210 < 200 + 20: adjusted stays 210
    // rttvar = 75 + 1/4 × 10 = 77.5; smoothed = 175 + 210 / 8 = 201.25
    expect(rtt.rttVar).toBe(77.5);
    expect(rtt.smoothedRtt).toBe(201.25);
  });

  it('keeps min_rtt as the smallest raw sample, ack delay not subtracted', () => {
    const rtt = new RttEstimator();
    rtt.update(200, 0, MAX_ACK_DELAY);
    rtt.update(150, 20, MAX_ACK_DELAY);
    expect(rtt.minRtt).toBe(150);
    rtt.update(400, 0, MAX_ACK_DELAY);
    expect(rtt.minRtt).toBe(150);
    expect(rtt.latestRtt).toBe(400);
  });

  it('uses kGranularity in the PTO when rttvar is tiny', () => {
    const rtt = new RttEstimator();
    rtt.update(0.25, 0, MAX_ACK_DELAY); // rttvar = 0.125, 4 × rttvar = 0.5 < 1
    expect(rtt.pto(MAX_ACK_DELAY)).toBe(0.25 + 1 + 25);
    expect(rtt.pto(MAX_ACK_DELAY, 2)).toBe(0.25 + 2 + 25);
    expect(rtt.pto(0)).toBe(1.25);
  });

  it('treats nonsense samples and delays as zero instead of poisoning the estimate', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, MAX_ACK_DELAY);
    rtt.update(100, Number.NaN, MAX_ACK_DELAY);
    rtt.update(100, -50, MAX_ACK_DELAY);
    expect(rtt.smoothedRtt).toBe(100);
    rtt.update(-5, 0, MAX_ACK_DELAY);
    expect(rtt.latestRtt).toBe(0);
    expect(rtt.minRtt).toBe(0);
    expect(Number.isFinite(rtt.smoothedRtt)).toBe(true);
  });

  it('converges on a steady path', () => {
    const rtt = new RttEstimator();
    for (let i = 0; i < 200; i++) rtt.update(40, 0, MAX_ACK_DELAY);
    expect(rtt.smoothedRtt).toBeCloseTo(40, 9);
    expect(rtt.rttVar).toBeLessThan(1e-9);
    expect(rtt.pto(MAX_ACK_DELAY)).toBeCloseTo(40 + 1 + 25, 9);
  });

  it('takes min_rtt afresh from the newest sample after persistent congestion (§5.2)', () => {
    const rtt = new RttEstimator();
    rtt.update(20, 0, MAX_ACK_DELAY);
    rtt.update(400, 0, MAX_ACK_DELAY);
    expect(rtt.minRtt).toBe(20);
    rtt.onPersistentCongestion();
    expect(rtt.minRtt).toBe(400);
    rtt.update(420, 0, MAX_ACK_DELAY);
    expect(rtt.minRtt).toBe(400);
  });
});
