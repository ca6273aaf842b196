// Small segments through the UI: a 100 KB text message from a click on Send in one browser
// window to the whole text in the other window's DOM, at the course's segment sizes X = 100,
// 200 and 1,000 B (set in Settings, as a user does), on a clean channel and at the course's
// P and R. Baseline, in the same run: the engine alone (send() in one Messenger to the
// complete message in the other) through a relay started with the same channel, so that the
// ratio shows what the browser host and the renderer add to the transport's own time.
// Times are medians of a few messages; the sender page stamps the click, a MutationObserver
// in the receiver page stamps the first mutation after which the text is there (one machine,
// so one clock: performance.timeOrigin + the page's time).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { startRelay, startWebHost, tempDir, type WebHost } from '../e2e/processes.ts';
import { segmentCount } from '../src/core/transport/segments.ts';
import { withPair } from './engine.ts';
import { until, type Report } from './harness.ts';
import { quantile } from './relay.ts';
import { CHANNELS, TEXT } from './segments.ts';
import { openWindow } from './ui.ts';

const SIZES = [100, 200, 1000] as const;
/** Messages timed per row, engine and UI each; the median counts. */
const ROUNDS = 3;
const CHROMIUM = process.env['STRATA_CHROMIUM'] ?? '/usr/bin/chromium';
const RENDERER = fileURLToPath(new URL('../out/renderer/index.html', import.meta.url));
/** Waiting for one message longer than this means something is broken, not slow. */
const STUCK_MS = 120_000;

/** Round `n`'s message: 100,000 characters that start with its number. */
const message = (n: number): string => `${n} ${TEXT}`.slice(0, TEXT.length);

// The few DOM names the page-side functions use (they run in Chromium, not in Node).
declare const document: {
  body: unknown;
  querySelectorAll(selector: string): Iterable<{ textContent: string | null }>;
  addEventListener(
    type: 'click',
    listener: (e: { target: { closest(s: string): unknown }; timeStamp: number }) => void,
    capture: boolean,
  ): void;
};
declare const window: { strataClicks: number[]; strataShown: Record<string, number> };
declare class MutationObserver {
  constructor(callback: () => void);
  observe(target: unknown, options: Record<string, boolean>): void;
}

/** Median seconds from send() to bob's complete message, alice and bob engines at X. */
function engineSeconds(args: readonly string[], segmentSize: number): Promise<number> {
  return withPair([...args], { segmentSize }, async (alice, bob, got) => {
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      alice.send('bob', message(i));
      await until(bob, () => got.count > i);
      times.push((performance.now() - t0) / 1000);
    }
    return quantile(
      times.sort((a, b) => a - b),
      0.5,
    );
  });
}

/** Sets X in the Settings panel and waits until the host has taken it. */
async function setSegmentSize(page: Page, x: number): Promise<void> {
  await page.getByTestId('settings-open').click();
  await page.getByTestId('settings-segment-size').fill(String(x));
  await page.getByTestId('settings-save').click();
  await page.getByTestId('settings-status').and(page.locator('[data-state="ok"]')).waitFor();
  await page.getByTestId('settings-close').click();
  await page.getByTestId('settings-segment-size').waitFor({ state: 'hidden' });
}

/** Median seconds from the click on Send to the whole text in the receiver's DOM, per X. */
async function uiSeconds(args: readonly string[]): Promise<Map<number, number>> {
  const relay = await startRelay(['--log-level', 'warn', ...args]);
  const hosts: WebHost[] = [];
  let browser: Browser | null = null;
  try {
    const home = tempDir('strata-bench-small-ui-');
    hosts.push(await startWebHost(join(home, 'alice'), { relayUrl: relay.url, user: 'alice' }));
    hosts.push(await startWebHost(join(home, 'bob'), { relayUrl: relay.url, user: 'bob' }));
    browser = await chromium.launch({ executablePath: CHROMIUM });
    const sender = await openWindow(browser, hosts[0]!, 'bob');
    const receiver = await openWindow(browser, hosts[1]!, 'alice');
    await sender.evaluate(() => {
      const clicks: number[] = (window.strataClicks = []);
      document.addEventListener(
        'click',
        (e) => {
          if (e.target.closest('[data-testid="composer-send"]')) {
            clicks.push(performance.timeOrigin + e.timeStamp);
          }
        },
        true,
      );
    });
    await receiver.evaluate((length) => {
      const shown: Record<string, number> = (window.strataShown = {});
      new MutationObserver(() => {
        const now = performance.timeOrigin + performance.now();
        for (const el of document.querySelectorAll(
          '[data-testid="message"][data-direction="in"]',
        )) {
          const text = el.textContent ?? '';
          const n = /^(\d+) /.exec(text)?.[1];
          if (n !== undefined && text.length >= length && !(n in shown)) shown[n] = now;
        }
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    }, TEXT.length);

    const result = new Map<number, number>();
    let n = 0;
    for (const x of SIZES) {
      await setSegmentSize(sender, x);
      await setSegmentSize(receiver, x);
      const times: number[] = [];
      for (let i = 0; i < ROUNDS; i++, n++) {
        await sender.getByTestId('composer-input').fill(message(n));
        await sender.getByTestId('composer-send').click();
        await receiver.waitForFunction((k) => String(k) in window.strataShown, n, {
          timeout: STUCK_MS,
        });
        const click = await sender.evaluate(() => window.strataClicks.at(-1)!);
        const shown = await receiver.evaluate((k) => window.strataShown[k]!, n);
        times.push((shown - click) / 1000);
      }
      result.set(
        x,
        quantile(
          times.sort((a, b) => a - b),
          0.5,
        ),
      );
    }
    return result;
  } finally {
    await browser?.close();
    for (const h of hosts) await h.stop();
    await relay.stop();
  }
}

export async function runSmallSegmentsUiBench(report: Report): Promise<void> {
  if (!existsSync(RENDERER)) {
    throw new Error(`no built renderer at ${RENDERER}: run \`npm run build\` first`);
  }
  const body = 1 + TEXT.length;
  for (const [channel, args] of Object.entries(CHANNELS)) {
    const engine = new Map<number, number>();
    for (const x of SIZES) engine.set(x, await engineSeconds(args, x));
    const ui = await uiSeconds(args);
    for (const x of SIZES) {
      const segments = segmentCount(body, x);
      const [e, u] = [engine.get(x)!, ui.get(x)!];
      report.add(`ui_segments.${channel}.x${x}.click_to_complete`, u, 's', {
        baseline: { name: 'engine send->complete', value: e },
        better: 'lower',
      });
      report.add(`ui_segments.${channel}.x${x}.segments_per_second`, segments / u, 'seg/s', {
        baseline: { name: 'engine', value: segments / e },
      });
    }
  }
}
