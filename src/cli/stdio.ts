// The CLI's standard output and error: a reader that goes away (EPIPE: `strata listen | head`)
// ends what would be printed, never the process with a stack trace.

/**
 * Handles errors on `stream` from now on; resolves when it can no longer be written (its
 * reader closed it), so that a command whose job is printing can stop.
 */
export function watchOutput(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    stream.on('error', () => resolve());
  });
}

/**
 * Resolves on Ctrl+C or SIGTERM, after `seconds` if given, or when `gone` resolves, and then
 * leaves no timer or signal handler behind, so the process can end by itself (a second
 * Ctrl+C while closing ends it at once).
 */
export function untilStopped(seconds?: number, gone?: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    const timer = seconds === undefined ? undefined : setTimeout(stop, seconds * 1000);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    void gone?.then(stop);
  });
}
