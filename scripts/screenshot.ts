// `npm run screenshot`: the README's picture, made from the real app. It starts a relay and two
// browser hosts (alice and bob), has them chat, turns the channel bad from alice's network
// view and sends some longer messages through it so that the charts have something to show,
// then photographs both windows and puts them side by side, with a caption, into
// docs/screenshot.png. Needs a built renderer (`npx electron-vite build`) and Chromium.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, expect, type Browser, type Page } from '@playwright/test';
import { startRelay, startWebHost, tempDir, type WebHost } from '../e2e/processes.ts';
import {
  applyChannel,
  changeSettings,
  confirmRecoveryCode,
  incoming,
  meet,
  openChat,
  openNetworkView,
  send,
} from '../e2e/ui.ts';

const OUT = fileURLToPath(new URL('../docs/screenshot.png', import.meta.url));
const RENDERER = fileURLToPath(new URL('../out/renderer/index.html', import.meta.url));
const CHROMIUM = process.env['STRATA_CHROMIUM'] ?? '/usr/bin/chromium';
const WINDOW = { width: 1280, height: 800 };
const GAP = 24;
const CAPTION_PX = 56;
/** Samples the throughput chart should hold before the picture is taken (two a second). */
const CHART_POINTS = 30;

/** Who says what, in order: short lines and a few longer ones that take many segments. */
const CHAT: ['alice' | 'bob', string][] = [
  ['alice', 'Hi Bob! Are you in the lab today?'],
  ['bob', 'Yes, setting up the relay on the second bench.'],
  ['alice', "Great. I've made the channel noisy so we can watch the Hamming code work."],
  ['bob', 'Go ahead, the network view is open on my side.'],
  [
    'alice',
    'Each of these lines is split into 64-byte segments. Some frames are lost on the way and ' +
      'the transport sends them again; some arrive with a flipped bit that the code repairs.',
  ],
  [
    'bob',
    'I can see it: retransmissions in the transport counters, corrected codewords in the ' +
      'channel counters, and the segment log shows which ones were declared lost.',
  ],
  [
    'alice',
    'And every message still arrives whole and in order. Try twenty percent loss next, ' +
      'or switch the code off, and watch the charts.',
  ],
  ['bob', 'Will do. Sending you the measurements after lunch.'],
];
/** Chart samples (two a second) between one line and the next, so the traffic spreads out. */
const SAMPLES_BETWEEN_LINES = 3;

// The page-side functions below run in Chromium; these are the DOM names they use.
declare const document: {
  querySelector(s: string): { getAttribute(name: string): string | null } | null;
  images: Iterable<{ decode(): Promise<void> }>;
};

async function openWindow(browser: Browser, host: WebHost): Promise<Page> {
  const page = await (await browser.newContext({ viewport: WINDOW })).newPage();
  await page.goto(host.url);
  // A new profile made its account: its recovery code is confirmed before anything else.
  await confirmRecoveryCode(page);
  return page;
}

/** How many samples the throughput chart has drawn. */
function chartPoints(page: Page): Promise<number> {
  return page.evaluate(() => {
    const d = document.querySelector('[data-testid="chart-throughput"] path')?.getAttribute('d');
    return d?.match(/[ML]/g)?.length ?? 0;
  });
}

/** Waits until the throughput chart has drawn at least `points` samples. */
async function chartAt(page: Page, points: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const d = document.querySelector('[data-testid="chart-throughput"] path')?.getAttribute('d');
      return (d?.match(/[ML]/g)?.length ?? 0) >= n;
    },
    points,
    { timeout: 30_000 },
  );
}

/** Both PNGs side by side on a plain page, with a caption underneath; returns that page's PNG. */
async function compose(browser: Browser, left: Buffer, right: Buffer): Promise<Buffer> {
  const width = WINDOW.width * 2 + GAP * 3;
  const height = WINDOW.height + GAP * 2 + CAPTION_PX;
  const page = await browser.newPage({ viewport: { width, height } });
  const img = (png: Buffer, alt: string) =>
    `<img alt="${alt}" width="${WINDOW.width}" height="${WINDOW.height}" ` +
    `src="data:image/png;base64,${png.toString('base64')}">`;
  await page.setContent(`<!doctype html>
<html><head><style>
  body { margin: 0; background: #e6e9ef; font: 20px system-ui, sans-serif; color: #2b2f36; }
  .row { display: flex; gap: ${GAP}px; padding: ${GAP}px ${GAP}px 0; }
  img { display: block; border-radius: 8px; box-shadow: 0 2px 10px rgb(0 0 0 / 18%); }
  p { margin: 0; height: ${CAPTION_PX + GAP}px; line-height: ${CAPTION_PX + GAP}px; text-align: center; }
</style></head><body>
  <div class="row">${img(left, "Alice's window")}${img(right, "Bob's window")}</div>
  <p>Alice and Bob chatting through a relay that loses 5% of frames and flips bits,
     repaired by a Hamming (7,4) code; each window's network view shows the work.</p>
</body></html>`);
  await page.evaluate(async () => {
    for (const image of document.images) await image.decode();
  });
  const png = await page.screenshot();
  await page.close();
  return png;
}

async function main(): Promise<void> {
  if (!existsSync(RENDERER)) {
    throw new Error(`no built renderer at ${RENDERER}: run \`npx electron-vite build\` first`);
  }
  const relay = await startRelay(['--seed', '7', '--log-level', 'warn']);
  const hosts: WebHost[] = [];
  let browser: Browser | null = null;
  try {
    const home = tempDir('strata-screenshot-');
    hosts.push(await startWebHost(join(home, 'alice'), { relayUrl: relay.url, user: 'alice' }));
    hosts.push(await startWebHost(join(home, 'bob'), { relayUrl: relay.url, user: 'bob' }));
    browser = await chromium.launch({ executablePath: CHROMIUM });
    const alice = await openWindow(browser, hosts[0]!);
    const bob = await openWindow(browser, hosts[1]!);
    const pages = { alice, bob };
    await meet(alice, 'bob', bob, 'alice');
    for (const page of [alice, bob]) await changeSettings(page, { segmentSize: 64 });
    await openChat(alice, 'bob');
    await openChat(bob, 'alice');
    // The channel is set from alice's network view; both views then open afresh (at the top,
    // with the charts) and run while the two chat.
    await applyChannel(alice, relay.adminToken, { loss: 0.05, ber: 0.1, code: 'hamming74' });
    await alice.getByTestId('network-close').click();
    await openNetworkView(alice);
    await openNetworkView(bob);

    const received = { alice: 0, bob: 0 };
    for (const [from, text] of CHAT) {
      const to = from === 'alice' ? 'bob' : 'alice';
      const paced = (await chartPoints(alice)) + SAMPLES_BETWEEN_LINES;
      const m = await send(pages[from], text);
      received[to] += 1;
      await expect(incoming(pages[to])).toHaveCount(received[to]);
      await expect(m).toHaveAttribute('data-status', 'read', { timeout: 30_000 });
      await chartAt(alice, paced);
    }
    const settled = (await chartPoints(bob)) + SAMPLES_BETWEEN_LINES;
    await chartAt(bob, Math.max(settled, CHART_POINTS));

    const png = await compose(browser, await alice.screenshot(), await bob.screenshot());
    writeFileSync(OUT, png);
    console.log(`wrote ${OUT} (${Math.round(png.length / 1024)} KiB)`);
  } finally {
    await browser?.close();
    for (const h of hosts) await h.stop();
    await relay.stop();
  }
}

await main();
