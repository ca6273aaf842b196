// The UI's click-to-appear latency: from the click on Send in one window to the message's
// text appearing in the other window's DOM, with a relay and two browser hosts on loopback
// and both windows in one Chromium. Both ends are timed inside the pages on the same clock
// (performance.timeOrigin + the event's or observer's time; one machine, so one wall clock):
// the sender page stamps the click event, a MutationObserver in the receiver page stamps the
// first mutation after which the text is there. Baseline, in the same run: the engine alone,
// send() in one Messenger to the complete message in another, through the same relay binary.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from '@playwright/test';
import { Messenger } from '../src/core/messenger.ts';
import type { MessengerEvent } from '../src/shared/api.ts';
import { startRelay, startWebHost, tempDir, type WebHost } from '../e2e/processes.ts';
import { confirmRecoveryCode } from '../e2e/ui.ts';
import type { Report } from './harness.ts';
import { quantile } from './relay.ts';

const MESSAGES = 200;
const WARM_UP = 20;
const CHROMIUM = process.env['STRATA_CHROMIUM'] ?? '/usr/bin/chromium';
const RENDERER = fileURLToPath(new URL('../out/renderer/index.html', import.meta.url));
/** Waiting for one message longer than this means something is broken, not slow. */
const STUCK_MS = 10_000;

// The few DOM names the page-side functions use (they run in Chromium, not in Node).
declare const document: {
  body: unknown;
  querySelector(selector: string): { value: string } | null;
  querySelectorAll(selector: string): Iterable<{ textContent: string | null }>;
  addEventListener(
    type: 'click',
    listener: (e: { target: { closest(s: string): unknown }; timeStamp: number }) => void,
    capture: boolean,
  ): void;
};
declare const window: {
  strataBench: Record<string, number>;
  strataBenchIn: Record<string, number>;
  strataBenchOut: Record<string, number>;
  WebSocket: new (
    url: string,
    protocols?: string | string[],
  ) => {
    addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void;
    send(data: unknown): void;
  };
};
declare class MutationObserver {
  constructor(callback: () => void);
  observe(target: unknown, options: Record<string, boolean>): void;
}

const probe = (i: number) => `probe ${i} a short text message, as people type them`;

async function engineTimes(): Promise<number[]> {
  const relay = await startRelay(['--log-level', 'warn']);
  const open = (user: string) => {
    const m = Messenger.open({
      profileDir: tempDir('strata-bench-ui-'),
      relayUrl: relay.url,
      user,
    });
    m.start();
    return m;
  };
  const alice = open('alice');
  const bob = open('bob');
  const until = (m: Messenger, test: (e: MessengerEvent | null) => boolean) =>
    new Promise<void>((resolve) => {
      if (test(null)) return resolve();
      const on = (e: MessengerEvent) => {
        if (!test(e)) return;
        m.off('event', on);
        resolve();
      };
      m.on('event', on);
    });
  try {
    await until(alice, () => alice.online);
    await until(bob, () => bob.online);
    const times: number[] = [];
    for (let i = 0; i < WARM_UP + MESSAGES; i++) {
      const text = probe(i);
      const arrived = until(
        bob,
        (e) => e?.type === 'message' && e.message.direction === 'in' && e.message.text === text,
      );
      const t0 = performance.now();
      alice.send('bob', text);
      await arrived;
      if (i >= WARM_UP) times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b);
  } finally {
    await alice.close();
    await bob.close();
    await relay.stop();
  }
}

/**
 * Stamps, in a page, when each probe crosses the page's socket to its host: the `send` call
 * going out (sender) and the message event coming in (receiver). This splits the latency into
 * the sending renderer, the hosts with the engines and the relay, and the receiving renderer.
 */
function stampSocket(): void {
  const out: Record<string, number> = (window.strataBenchOut = {});
  const seen: Record<string, number> = (window.strataBenchIn = {});
  const probeOf = (data: unknown) =>
    typeof data === 'string' ? /"probe (\d+) /.exec(data)?.[1] : undefined;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (e) => {
        const now = performance.timeOrigin + performance.now();
        const n = probeOf(e.data);
        if (n !== undefined && !(n in seen)) seen[n] = now;
      });
    }
    override send(data: unknown): void {
      const n = probeOf(data);
      if (n !== undefined && !(n in out)) out[n] = performance.timeOrigin + performance.now();
      super.send(data);
    }
  };
}

/** A window on `host` with the chat with `peer` open (`init` runs in the page before its scripts). */
export async function openWindow(
  browser: Browser,
  host: WebHost,
  peer: string,
  init?: () => void,
): Promise<Page> {
  const page = await (
    await browser.newContext({ viewport: { width: 1100, height: 720 } })
  ).newPage();
  if (init) await page.addInitScript(init);
  await page.goto(host.url);
  // A new profile made its account: its recovery code is confirmed before anything else.
  await confirmRecoveryCode(page);
  // A new profile may not list the peer yet: find them by name, as a first-time user does.
  await page.getByTestId('contact-search').fill(peer);
  await page.getByTestId(`contact-${peer}`).or(page.getByTestId('start-chat')).first().click();
  await page.getByTestId('composer-input').waitFor();
  return page;
}

/** Sorted milliseconds per probe. */
interface UiTimes {
  /** The click in the sender page to the text in the receiver page's DOM. */
  total: number[];
  /** The click to the `send` call leaving the sender page's socket. */
  sending: number[];
  /** That call leaving to the message event reaching the receiver page's socket. */
  between: number[];
  /** That event arriving to the text in the receiver page's DOM. */
  receiving: number[];
}

async function uiTimes(): Promise<UiTimes> {
  if (!existsSync(RENDERER)) {
    throw new Error(`no built renderer at ${RENDERER}: run \`npx electron-vite build\` first`);
  }
  const relay = await startRelay(['--log-level', 'warn']);
  const hosts: WebHost[] = [];
  let browser: Browser | null = null;
  try {
    const home = tempDir('strata-bench-ui-');
    hosts.push(await startWebHost(join(home, 'alice'), { relayUrl: relay.url, user: 'alice' }));
    hosts.push(await startWebHost(join(home, 'bob'), { relayUrl: relay.url, user: 'bob' }));
    browser = await chromium.launch({ executablePath: CHROMIUM });
    const sender = await openWindow(browser, hosts[0]!, 'bob', stampSocket);
    const receiver = await openWindow(browser, hosts[1]!, 'alice', stampSocket);

    // Sender: the click's own timestamp, keyed by the probe number in the composer.
    await sender.evaluate(() => {
      window.strataBench = {};
      document.addEventListener(
        'click',
        (e) => {
          if (!e.target.closest('[data-testid="composer-send"]')) return;
          const text = document.querySelector('[data-testid="composer-input"]')?.value ?? '';
          const n = /^probe (\d+) /.exec(text)?.[1];
          if (n !== undefined) window.strataBench[n] = performance.timeOrigin + e.timeStamp;
        },
        true,
      );
    });
    // Receiver: the first DOM mutation after which an incoming message shows the probe.
    await receiver.evaluate(() => {
      window.strataBench = {};
      const seen = window.strataBench;
      new MutationObserver(() => {
        const now = performance.timeOrigin + performance.now();
        for (const el of document.querySelectorAll(
          '[data-testid="message"][data-direction="in"]',
        )) {
          const n = /probe (\d+) /.exec(el.textContent ?? '')?.[1];
          if (n !== undefined && !(n in seen)) seen[n] = now;
        }
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    });

    const input = sender.getByTestId('composer-input');
    const send = sender.getByTestId('composer-send');
    for (let i = 0; i < WARM_UP + MESSAGES; i++) {
      await input.fill(probe(i));
      await send.click();
      await receiver.waitForFunction((n) => String(n) in window.strataBench, i, {
        timeout: STUCK_MS,
      });
    }
    const clicks = await sender.evaluate(() => window.strataBench);
    const left = await sender.evaluate(() => window.strataBenchOut);
    const arrived = await receiver.evaluate(() => window.strataBenchIn);
    const shown = await receiver.evaluate(() => window.strataBench);
    const times: UiTimes = { total: [], sending: [], between: [], receiving: [] };
    for (let i = WARM_UP; i < WARM_UP + MESSAGES; i++) {
      const [click, out, into, dom] = [clicks[i], left[i], arrived[i], shown[i]];
      if (click === undefined || out === undefined || into === undefined || dom === undefined) {
        throw new Error(`probe ${i} was not timed at every point`);
      }
      times.total.push(dom - click);
      times.sending.push(out - click);
      times.between.push(into - out);
      times.receiving.push(dom - into);
    }
    for (const list of Object.values(times) as number[][]) list.sort((a, b) => a - b);
    return times;
  } finally {
    await browser?.close();
    for (const h of hosts) await h.stop();
    await relay.stop();
  }
}

export async function runUiBench(report: Report): Promise<void> {
  const engine = await engineTimes();
  const ui = await uiTimes();
  report.add('ui.click_to_appear.p50', quantile(ui.total, 0.5), 'ms', {
    baseline: { name: 'engine send->complete p50', value: quantile(engine, 0.5) },
    better: 'lower',
  });
  report.add('ui.click_to_appear.p95', quantile(ui.total, 0.95), 'ms', {
    baseline: { name: 'engine send->complete p95', value: quantile(engine, 0.95) },
    better: 'lower',
    goal: '< 100 ms',
  });
  // Where the time goes: sending renderer, hosts + engines + relay, receiving renderer.
  const parts = [
    ['sender_click_to_socket', ui.sending],
    ['socket_to_socket', ui.between],
    ['receiver_socket_to_dom', ui.receiving],
  ] as const;
  for (const [name, times] of parts) {
    report.add(`ui.${name}.p50`, quantile(times, 0.5), 'ms', { better: 'lower' });
  }
}
