// Round-trip time estimation, as RFC 9002 ("QUIC Loss Detection and Congestion Control"),
// section 5, describes it. Pure: every time is a number of milliseconds passed in by the
// caller, and nothing here reads a clock.
//
//   latest_rtt   = ack_time - send_time_of_largest_acked            (§5.1)
//   min_rtt      = the smallest latest_rtt seen, ack delay ignored   (§5.2)
//   smoothed_rtt = 7/8 smoothed_rtt + 1/8 adjusted_rtt              (§5.3)
//   rttvar       = 3/4 rttvar + 1/4 |smoothed_rtt - adjusted_rtt|   (§5.3)
//   PTO          = smoothed_rtt + max(4 rttvar, kGranularity) + max_ack_delay  (§6.2.1)

/**
 * The RTT assumed before the first sample (RFC 9002's kInitialRtt), in milliseconds.
 *
 * The RFC picks 333 ms because a QUIC client knows nothing about an arbitrary Internet
 * path. Strata always talks through its own relay, one WebSocket hop each way over
 * connections that are already open, so a round trip is typically tens of milliseconds; 100
 * ms covers a continental round trip through the relay with room to spare. The first PTO is
 * then 100 + 4 × 50 + max_ack_delay ≈ 325 ms instead of about a second, which matters to a
 * messenger: the first message of a conversation is the one a user waits for. Guessing low
 * is cheap here: one sample replaces the guess, a premature probe costs one duplicate frame
 * that the receiver drops, and the PTO backs off exponentially when the channel is
 * configured with a long delay.
 */
export const kInitialRtt = 100;

/** Timer granularity (RFC 9002's kGranularity, recommended 1 ms), in milliseconds. */
export const kGranularity = 1;

/** RFC 9002 §5: latest_rtt, min_rtt, smoothed_rtt and rttvar of one path. */
export class RttEstimator {
  #latestRtt = 0;
  #minRtt = 0;
  #smoothedRtt: number;
  #rttVar: number;
  #hasSample = false;

  /** §5.3 and A.4: before any sample, smoothed_rtt = kInitialRtt, rttvar = kInitialRtt / 2. */
  constructor(initialRtt: number = kInitialRtt) {
    if (!(Number.isFinite(initialRtt) && initialRtt > 0)) {
      throw new RangeError(`initial RTT must be a positive number of ms, not ${initialRtt}`);
    }
    this.#smoothedRtt = initialRtt;
    this.#rttVar = initialRtt / 2;
  }

  /** The most recent RTT sample, ack delay included (0 before the first sample). */
  get latestRtt(): number {
    return this.#latestRtt;
  }

  /** The smallest sample seen, ack delay not subtracted (0 before the first sample). */
  get minRtt(): number {
    return this.#minRtt;
  }

  /** The exponentially weighted moving average of adjusted samples. */
  get smoothedRtt(): number {
    return this.#smoothedRtt;
  }

  /** The mean deviation of the adjusted samples from smoothed_rtt. */
  get rttVar(): number {
    return this.#rttVar;
  }

  /** Whether `update` has been called at least once. */
  get hasSample(): boolean {
    return this.#hasSample;
  }

  /**
   * Takes one RTT sample (RFC 9002 §5.3, pseudocode A.7 UpdateRtt).
   *
   * @param latestRtt  now - time the largest newly acknowledged transmission was sent (ms).
   * @param ackDelay   the peer's reported delay between receiving that transmission and
   *                   sending the ack (ms).
   * @param maxAckDelay the peer's maximum ack delay (ms): from the second sample on the
   *                   reported delay is capped at this value (the RFC does so "after the
   *                   handshake is confirmed"; Strata has no handshake, so the first sample
   *                   is the point from which the peer's delay is trusted only up to its cap).
   */
  update(latestRtt: number, ackDelay: number, maxAckDelay: number): void {
    // Clocks are the caller's; a nonsensical sample is clamped rather than allowed to poison
    // the average. A nonsensical delay from the peer is treated as no delay.
    const sample = Number.isFinite(latestRtt) && latestRtt > 0 ? latestRtt : 0;
    let delay = Number.isFinite(ackDelay) && ackDelay > 0 ? ackDelay : 0;
    this.#latestRtt = sample;

    if (!this.#hasSample) {
      // First sample: the ack delay is ignored entirely.
      this.#minRtt = sample;
      this.#smoothedRtt = sample;
      this.#rttVar = sample / 2;
      this.#hasSample = true;
      return;
    }

    // min_rtt ignores acknowledgment delay.
    this.#minRtt = Math.min(this.#minRtt, sample);
    // Limit ack_delay by max_ack_delay once a first sample exists.
    delay = Math.min(delay, Math.max(0, maxAckDelay));
    // Adjust for acknowledgment delay if plausible: never below min_rtt.
    let adjustedRtt = sample;
    if (sample >= this.#minRtt + delay) adjustedRtt = sample - delay;

    this.#rttVar = (3 / 4) * this.#rttVar + (1 / 4) * Math.abs(this.#smoothedRtt - adjustedRtt);
    this.#smoothedRtt = (7 / 8) * this.#smoothedRtt + (1 / 8) * adjustedRtt;
  }

  /**
   * Persistent congestion was established (RFC 9002 §5.2): the path may have changed, so
   * min_rtt starts again from the newest sample.
   */
  onPersistentCongestion(): void {
    if (this.#hasSample) this.#minRtt = this.#latestRtt;
  }

  /**
   * The probe timeout before backoff (RFC 9002 §6.2.1):
   * smoothed_rtt + max(4 × rttvar, kGranularity) + max_ack_delay.
   */
  pto(maxAckDelay: number, granularity: number = kGranularity): number {
    return this.#smoothedRtt + Math.max(4 * this.#rttVar, granularity) + maxAckDelay;
  }
}
