// The transport's one timer, serving every peer: it fires at the earliest deadline of its
// parts (the receiver's delayed acks, the sender's loss-detection timers and held sweeps),
// runs each part's pass in turn and then lets the sender go on. The assembly pass runs
// beside it on its own period (assemblyPeriodMs).

/** Something with deadlines: when it is next due, and what it does then. */
export interface TimedPart {
  /** The earliest deadline, in the transport's milliseconds (Infinity: none). */
  deadline(): number;
  /** Handles every deadline due by `now`. */
  onDeadline(now: number): void;
}

export class TransportTimer {
  private readonly now: () => number;
  private readonly parts: readonly TimedPart[];
  private readonly afterPass: () => void;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Infinity;
  private assembly: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  /** `parts` run in this order; `afterPass` follows every pass (the sender's pump). */
  constructor(now: () => number, parts: readonly TimedPart[], afterPass: () => void) {
    this.now = now;
    this.parts = parts;
    this.afterPass = afterPass;
  }

  /** Sets the timer for the earliest deadline, if it moved. */
  arm(): void {
    if (this.closed) return;
    let at = Infinity;
    for (const part of this.parts) at = Math.min(at, part.deadline());
    if (at === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = at;
    if (at === Infinity) return;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, at - this.now()));
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.now();
    for (const part of this.parts) part.onDeadline(now);
    this.afterPass();
  }

  /** Runs `pass` every `periodMs` (replacing the previous period). */
  everyPeriod(periodMs: number, pass: () => void): void {
    if (this.assembly) clearInterval(this.assembly);
    this.assembly = setInterval(pass, periodMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.assembly) clearInterval(this.assembly);
  }
}
