// One temporary directory per test or benchmark run, under the system's: TMPDIR points into
// it, so every file the run makes (its own, and those of the relays, hosts, CLIs and browsers
// it starts, which inherit the environment) lands inside, and the whole of it is removed when
// the run ends, whatever each test remembered to clean up. Before this, runs left thousands
// of directories (tens of GB) behind in /tmp.
//
// Vitest and Playwright load this as their global setup (`globalSetup`): the default export
// runs before any worker starts and returns the teardown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Points TMPDIR at a fresh directory; the function returned restores it and removes it. */
export function scopeTmpdir(prefix: string): () => void {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const previous = process.env['TMPDIR'];
  process.env['TMPDIR'] = dir;
  return () => {
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
}

export default function setup(): () => void {
  return scopeTmpdir('strata-run-');
}
