// End-to-end tests: the same specs (e2e/*.spec.ts) drive two targets.
//   browser:  the browser host (`strata web`) in Debian's Chromium; runs in `npm test`.
//   electron: the built app (out/main/index.js) through Playwright's Electron driver; runs
//             in the GitHub workflow under xvfb, on machines that can download Electron.
// See docs/testing.md.
import { defineConfig } from '@playwright/test';
import type { E2eOptions } from './e2e/fixtures.ts';

/** Debian's Chromium: Playwright never downloads a browser for this project. */
const CHROMIUM = process.env['STRATA_CHROMIUM'] ?? '/usr/bin/chromium';

export default defineConfig<E2eOptions>({
  testDir: 'e2e',
  // Every temporary file of the run (relays, hosts, Chromium profiles) under one directory,
  // removed at the end (scripts/scoped-tmpdir.ts).
  globalSetup: './scripts/scoped-tmpdir.ts',
  testMatch: '*.spec.ts',
  // Each test starts a relay and two or three app instances: on two cores, one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // Not test-results/ itself: Playwright empties its output folder, and the vitest
  // projects' reports live there.
  outputDir: 'test-results/e2e',
  reporter: [
    ['list'],
    ['json', { outputFile: 'test-results/e2e.json' }],
    ['html', { open: 'never', outputFolder: 'playwright-report' }],
  ],
  use: {
    actionTimeout: 10_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'browser',
      use: {
        target: 'browser',
        launchOptions: { executablePath: CHROMIUM },
      },
    },
    {
      name: 'electron',
      use: { target: 'electron' },
    },
  ],
});
