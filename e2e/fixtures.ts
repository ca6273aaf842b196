// Playwright fixtures shared by every spec, for both targets:
//   relay  a real relay process per test (seeded channel, admin token ADMIN_TOKEN)
//   app    app(profile, { user }) opens an app instance on a profile of this test: a browser
//          host and a Chromium page of its own (target browser), or the built Electron app
//          and its first window (target electron). Closing and opening the same profile name
//          again is a restart on the same data.
// Every process is stopped in teardown; when a test fails, the logs of all of them are
// attached to its report.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  _electron,
  test as base,
  type Browser,
  type BrowserContext,
  type ElectronApplication,
  type Page,
  type TestInfo,
} from '@playwright/test';
import { startRelay, startWebHost, tempDir, type RelayProcess } from './processes.ts';
import { confirmRecoveryCode } from './ui.ts';

export { expect } from '@playwright/test';

export interface E2eOptions {
  /** Which app the specs drive: the browser host in Chromium, or the Electron app. */
  target: 'browser' | 'electron';
  /** Extra command-line options for this test's relay (e.g. a small store quota). */
  relayArgs: string[];
}

export interface AppInstance {
  /** The profile's name in this test ("alice", "bob-laptop"). */
  readonly profile: string;
  /**
   * Where the instance keeps its data (the engine's database): the browser host's --profile
   * directory, or the Electron app's userData of this profile. Only touch it while closed.
   */
  readonly profileDir: string;
  /** The user it was started as; null when it was started on the login form. */
  readonly user: string | null;
  readonly page: Page;
  readonly closed: boolean;
  /** Quits the instance (its host process or Electron app) and waits until it is gone. */
  close(): Promise<void>;
}

export interface AppOptions {
  /**
   * Log in as this user at start (default: the profile's name); null opens on the login form.
   * A new profile that logs in at start creates the account, and its recovery code is
   * confirmed as a person would (tests of the code itself log in through the form).
   */
  user?: string | null;
  /**
   * Where received files go: `--downloads DIR` on the command line, the only way besides the
   * desktop app's folder picker (default: the profile's own, under its temporary HOME).
   */
  downloads?: string;
}

export type OpenApp = (profile: string, options?: AppOptions) => Promise<AppInstance>;

interface Fixtures {
  relay: RelayProcess;
  app: OpenApp;
}

interface WorkerFixtures {
  /** Launches Chromium the first time a browser-target test asks for it; one per worker. */
  chromium: () => Promise<Browser>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ELECTRON_MAIN = join(ROOT, 'out/main/index.js');
/** The size of the Electron app's window, so that both targets lay out alike. */
const VIEWPORT = { width: 1100, height: 720 };
/** The relay's channel is random only through this seed: a failing run replays. */
const RELAY_SEED = '20240611';

/** An instance's own record of what went wrong inside its page. */
interface Opened extends Omit<AppInstance, 'closed'> {
  closed: boolean;
  pageErrors: string[];
  log: string[];
}

export const test = base.extend<E2eOptions & Fixtures, WorkerFixtures>({
  target: ['browser', { option: true }],
  relayArgs: [[], { option: true }],

  chromium: [
    async ({ playwright, launchOptions }, use) => {
      const launched: { browser?: Promise<Browser> } = {};
      await use(() => (launched.browser ??= playwright.chromium.launch(launchOptions)));
      if (launched.browser) await (await launched.browser).close();
    },
    { scope: 'worker' },
  ],

  relay: async ({ relayArgs }, use, testInfo) => {
    const relay = await startRelay(['--seed', RELAY_SEED, ...relayArgs]);
    await use(relay);
    await relay.stop();
    if (failed(testInfo)) await attachLog(testInfo, 'relay.log', relay.log);
  },

  app: async ({ target, relay, chromium }, use, testInfo) => {
    const home = tempDir('strata-e2e-home-');
    const opened: Opened[] = [];
    const open: OpenApp = async (profile, options = {}) => {
      if (opened.some((o) => o.profile === profile && !o.closed)) {
        throw new Error(`the profile ${profile} is already open in this test`);
      }
      const user = options.user === undefined ? profile : options.user;
      const fresh = !existsSync(profileDirOf(target, home, profile));
      const instance =
        target === 'browser'
          ? await openBrowserApp(await chromium(), home, profile, user, relay.url, options)
          : await openElectronApp(home, profile, user, relay.url, options);
      opened.push(instance);
      if (fresh && user !== null) await confirmRecoveryCode(instance.page);
      return instance;
    };
    // The test's failure does not throw out of use(): the teardown below always runs.
    await use(open);
    // Errors thrown inside a page while it was open fail the test: the UI must not crash.
    const pageErrors = opened.flatMap((o) => o.pageErrors.map((e) => `${o.profile}: ${e}`));
    await Promise.all(opened.map((o) => o.close()));
    if (failed(testInfo) || pageErrors.length > 0) {
      for (const [i, o] of opened.entries()) {
        await attachLog(testInfo, `${o.profile}-${i}.log`, [...o.log, ...o.pageErrors]);
      }
    }
    rmSync(home, { recursive: true, force: true });
    if (pageErrors.length > 0 && !failed(testInfo)) {
      throw new Error(`uncaught errors in the app's pages:\n${pageErrors.join('\n')}`);
    }
  },
});

/**
 * Where an instance keeps its data: the browser host's --profile directory, or the Electron
 * app's userData of this profile (src/main/options.ts, profileUserDataDir).
 */
function profileDirOf(target: E2eOptions['target'], home: string, profile: string): string {
  return target === 'browser'
    ? join(home, profile)
    : join(home, '.config', 'Strata', 'profiles', profile);
}

function failed(testInfo: TestInfo): boolean {
  return testInfo.status !== testInfo.expectedStatus;
}

async function attachLog(testInfo: TestInfo, name: string, lines: string[]): Promise<void> {
  await testInfo.attach(name, { body: lines.join('\n'), contentType: 'text/plain' });
}

/** Records uncaught page errors while the instance is open (not while it shuts down). */
function watch(page: Page, instance: { closed: boolean; pageErrors: string[] }): void {
  page.on('pageerror', (e) => {
    if (!instance.closed) instance.pageErrors.push(e.stack ?? e.message);
  });
}

async function openBrowserApp(
  browser: Browser,
  home: string,
  profile: string,
  user: string | null,
  relayUrl: string,
  { downloads }: AppOptions,
): Promise<Opened> {
  const profileDir = profileDirOf('browser', home, profile);
  const host = await startWebHost(profileDir, {
    ...(user === null ? {} : { relayUrl, user }),
    ...(downloads === undefined ? {} : { downloads }),
  });
  let context: BrowserContext;
  let page: Page;
  try {
    context = await browser.newContext({ viewport: VIEWPORT });
    page = await context.newPage();
  } catch (e) {
    await host.stop();
    throw e;
  }
  let closing: Promise<void> | null = null;
  const instance: Opened = {
    profile,
    profileDir,
    user,
    page,
    closed: false,
    pageErrors: [],
    log: host.log,
    close() {
      instance.closed = true;
      closing ??= (async () => {
        await context.close();
        await host.stop();
      })();
      return closing;
    },
  };
  watch(page, instance);
  try {
    await page.goto(host.url);
  } catch (e) {
    await instance.close();
    throw e;
  }
  return instance;
}

async function openElectronApp(
  home: string,
  profile: string,
  user: string | null,
  relayUrl: string,
  { downloads }: AppOptions,
): Promise<Opened> {
  const args = [ELECTRON_MAIN, '--profile', profile];
  if (user !== null) args.push('--user', user, '--relay', relayUrl);
  if (downloads !== undefined) args.push('--downloads', downloads);
  // Its own HOME (and so its own userData) per test: instances of a test share it, and a
  // reopened profile finds its data again.
  const app: ElectronApplication = await _electron.launch({
    args,
    cwd: ROOT,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') },
  });
  const log: string[] = [];
  app
    .process()
    .stderr?.setEncoding('utf8')
    .on('data', (c: string) => log.push(c.trimEnd()));
  app
    .process()
    .stdout?.setEncoding('utf8')
    .on('data', (c: string) => log.push(c.trimEnd()));
  let page: Page;
  try {
    page = await app.firstWindow();
  } catch (e) {
    await app.close();
    throw e;
  }
  let closing: Promise<void> | null = null;
  const instance: Opened = {
    profile,
    // Electron's appData is $XDG_CONFIG_HOME; the app keeps each profile under it.
    profileDir: profileDirOf('electron', home, profile),
    user,
    page,
    closed: false,
    pageErrors: [],
    log,
    close() {
      instance.closed = true;
      closing ??= app.close();
      return closing;
    },
  };
  watch(instance.page, instance);
  return instance;
}
