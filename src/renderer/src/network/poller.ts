// A polling loop that never overlaps itself: the next call starts one interval after the
// previous one started, or at once if it took longer, and only after it has finished. A slow
// host therefore slows the view down instead of piling up requests.

export interface PollerClock {
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

const browserClock: PollerClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Runs `tick` now and then every `intervalMs` until the returned stop function is called.
 * `tick` must not throw (it reports its own errors); if it does, polling still goes on.
 * After stop, no further tick starts; a tick in progress finishes but none follows.
 */
export function startPoller(
  tick: () => Promise<void>,
  intervalMs: number,
  clock: PollerClock = browserClock,
): () => void {
  let stopped = false;
  let handle: unknown = null;
  const run = (): void => {
    handle = null;
    const started = clock.now();
    void tick()
      .catch(() => undefined)
      .then(() => {
        if (stopped) return;
        const wait = Math.max(0, intervalMs - (clock.now() - started));
        handle = clock.setTimeout(run, wait);
      });
  };
  run();
  return () => {
    stopped = true;
    if (handle !== null) clock.clearTimeout(handle);
  };
}
