import { describe, expect, it } from 'vitest';
import { startPoller, type PollerClock } from './poller.ts';

/** A clock the test advances by hand, with timers that fire in order. */
function manualClock() {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: PollerClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
  };
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      const due = [...timers].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      now = due[1].at;
      due[1].fn();
    }
    now = until;
  };
  return { clock, advance, pending: () => timers.size, elapse: (ms: number) => void (now += ms) };
}

/** Lets a finished tick's promise chain (a few microtasks) run to its end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('startPoller', () => {
  it('ticks at once and then every interval', async () => {
    const { clock, advance } = manualClock();
    let ticks = 0;
    const stop = startPoller(async () => void ticks++, 500, clock);
    expect(ticks).toBe(1);
    await settle();
    advance(499);
    expect(ticks).toBe(1);
    advance(1);
    expect(ticks).toBe(2);
    await settle();
    advance(500);
    expect(ticks).toBe(3);
    stop();
  });

  it('never starts a tick while the previous one is running', async () => {
    const { clock, advance, pending } = manualClock();
    let running = 0;
    let maxRunning = 0;
    let finish: () => void = () => undefined;
    const stop = startPoller(
      () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        return new Promise<void>((r) => {
          finish = () => {
            running--;
            r();
          };
        });
      },
      500,
      clock,
    );
    advance(5000);
    expect(pending()).toBe(0);
    expect(maxRunning).toBe(1);
    // It took longer than the interval, so the next one starts at once.
    finish();
    await settle();
    advance(0);
    expect(running).toBe(1);
    expect(maxRunning).toBe(1);
    stop();
  });

  it('subtracts the time a tick took from the wait', async () => {
    const { clock, advance, elapse } = manualClock();
    let ticks = 0;
    const stop = startPoller(
      async () => {
        ticks++;
        elapse(300);
      },
      500,
      clock,
    );
    await settle();
    advance(199);
    expect(ticks).toBe(1);
    advance(1);
    expect(ticks).toBe(2);
    stop();
  });

  it('stops: no timer left, and a tick in progress schedules nothing', async () => {
    const { clock, advance, pending } = manualClock();
    let ticks = 0;
    let finish: () => void = () => undefined;
    const stop = startPoller(
      () =>
        new Promise<void>((r) => {
          ticks++;
          finish = r;
        }),
      500,
      clock,
    );
    stop();
    finish();
    await settle();
    expect(pending()).toBe(0);
    advance(10_000);
    expect(ticks).toBe(1);
  });

  it('goes on after a tick that rejects', async () => {
    const { clock, advance } = manualClock();
    let ticks = 0;
    const stop = startPoller(
      async () => {
        ticks++;
        throw new Error('boom');
      },
      100,
      clock,
    );
    await settle();
    advance(100);
    expect(ticks).toBe(2);
    stop();
  });
});
