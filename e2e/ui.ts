// What a person does in a Strata window, in the UI's stable test ids. The specs read as
// scenarios on top of these; nothing here waits on the clock, only on what the page shows.
import { expect, type Locator, type Page } from '@playwright/test';

export const contact = (page: Page, name: string): Locator => page.getByTestId(`contact-${name}`);

/** Every message of the open conversation, in the order shown. */
export const messages = (page: Page): Locator => page.getByTestId('message');
export const incoming = (page: Page): Locator =>
  page.locator('[data-testid="message"][data-direction="in"]');
export const outgoing = (page: Page): Locator =>
  page.locator('[data-testid="message"][data-direction="out"]');

/** The message (either direction) whose text contains `text`. */
export const message = (page: Page, text: string): Locator =>
  messages(page).filter({ hasText: text });

export async function login(page: Page, user: string, relayUrl: string): Promise<void> {
  await page.getByTestId('login-username').fill(user);
  await page.getByTestId('login-relay').fill(relayUrl);
  await page.getByTestId('login-submit').click();
}

/**
 * Confirms the recovery code a new account shows once, by typing back its last group as a
 * person would; resolves with the code.
 */
export async function confirmRecoveryCode(page: Page): Promise<string> {
  const dialog = page.getByTestId('recovery-dialog');
  const shown = page.getByTestId('recovery-code');
  await expect(shown).toBeVisible();
  const code = await shown.getAttribute('data-code');
  if (code === null) throw new Error('the recovery dialog shows no code');
  await page.getByTestId('recovery-last-group').fill(code.split('-').at(-1)!);
  await page.getByTestId('recovery-confirm').click();
  await expect(dialog).toBeHidden();
  return code;
}

/**
 * Links the fresh profile open in `fresh` to the account of `existing`: "Link a device" in
 * the existing device's settings shows a code, the fresh one types it under "Link to an
 * existing account", and the existing device accepts the request. Leaves both on their chats.
 */
export async function linkDevice(existing: Page, fresh: Page, relayUrl: string): Promise<void> {
  await existing.getByTestId('settings-open').click();
  await existing.getByTestId('link-start').click();
  const shown = existing.getByTestId('link-code');
  await expect(shown).toBeVisible();
  await expect(existing.getByTestId('link-qr')).toBeVisible();
  const code = await shown.getAttribute('data-code');
  if (code === null) throw new Error('Link a device shows no code');
  await fresh.getByTestId('login-mode-link').click();
  await fresh.getByTestId('login-code').fill(code);
  await fresh.getByTestId('login-relay').fill(relayUrl);
  await fresh.getByTestId('login-submit').click();
  const request = existing.getByTestId('link-request');
  await expect(request).toBeVisible();
  await existing.getByTestId('link-accept').click();
  await expect(request).toBeHidden();
  await expect(fresh.getByTestId('contact-search')).toBeVisible();
  await existing.getByTestId('settings-close').click();
}

/**
 * Waits for `peer` to show online. Presence goes only to whoever follows a user: a peer not in
 * the list yet is looked up first, as a person starting a chat from search would. The relay
 * shows a user's presence only to those who share a conversation with them or follow each
 * other: before any message, both sides must `follow` first.
 */
export async function expectOnline(page: Page, peer: string): Promise<void> {
  await follow(page, peer);
  await expect(contact(page, peer)).toHaveAttribute('data-presence', 'online');
}

/**
 * Two people about to chat each make sure the other shows online. The relay shows a user's
 * presence only to those who share a conversation with them or follow each other, so both
 * follow first (as two people adding each other would), then both wait.
 */
export async function meet(a: Page, aPeer: string, b: Page, bPeer: string): Promise<void> {
  await follow(a, aPeer);
  await follow(b, bPeer);
  await expectOnline(a, aPeer);
  await expectOnline(b, bPeer);
}

/** Types `name` in search and starts a chat with it (the relay says whether it exists). */
export async function startChat(page: Page, name: string): Promise<void> {
  await page.getByTestId('contact-search').fill(name);
  await page.getByTestId('start-chat').click();
}

/**
 * Makes sure `peer` is in the contact list: starts a chat from search if it is not, then
 * closes that chat again (Escape), so that nothing arriving in it counts as read.
 */
export async function follow(page: Page, peer: string): Promise<void> {
  if ((await contact(page, peer).count()) > 0) return;
  const search = page.getByTestId('contact-search');
  await search.fill(peer);
  const start = page.getByTestId('start-chat');
  // The peer may have appeared meanwhile (a message came): then there is nothing to start.
  await expect(start.or(contact(page, peer))).toBeVisible();
  if (await start.isVisible()) {
    await start.click();
    await expect(page.getByTestId('chat-peer')).toHaveText(peer);
    await page.getByTestId('composer-input').press('Escape');
    await expect(page.getByTestId('no-chat')).toBeVisible();
  }
  await expect(contact(page, peer)).toBeVisible();
  await search.fill('');
}

/** Opens the chat with `peer`, starting it from search if they are not in the list yet. */
export async function openChat(page: Page, peer: string): Promise<void> {
  await follow(page, peer);
  await contact(page, peer).click();
  await expect(page.getByTestId('composer-input')).toBeVisible();
}

/** Types `text` and sends it; resolves with the outgoing message once it is shown. */
export async function send(page: Page, text: string): Promise<Locator> {
  const before = await outgoing(page).count();
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-send').click();
  await expect(outgoing(page)).toHaveCount(before + 1);
  const sent = outgoing(page).nth(before);
  await expect(sent).toContainText(text.slice(0, 40));
  return sent;
}

/** Expects exactly these messages in this direction, in this order. */
export async function expectTexts(list: Locator, texts: string[], timeout?: number): Promise<void> {
  await expect(list).toHaveCount(texts.length, timeout === undefined ? {} : { timeout });
  await expect(list).toContainText(texts);
}

export interface TransportSettingsInput {
  segmentSize?: number;
  assemblyPeriodMs?: number;
  idleCycles?: number;
}

/** Opens Settings from the header, changes the transport's X, N and K, saves, closes. */
export async function changeSettings(page: Page, s: TransportSettingsInput): Promise<void> {
  await page.getByTestId('settings-open').click();
  if (s.segmentSize !== undefined)
    await page.getByTestId('settings-segment-size').fill(String(s.segmentSize));
  if (s.assemblyPeriodMs !== undefined)
    await page.getByTestId('settings-assembly-period').fill(String(s.assemblyPeriodMs));
  if (s.idleCycles !== undefined)
    await page.getByTestId('settings-idle-cycles').fill(String(s.idleCycles));
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('settings-status')).toHaveAttribute('data-state', 'ok');
  await page.getByTestId('settings-close').click();
  await expect(page.getByTestId('settings-segment-size')).toBeHidden();
}

export async function openNetworkView(page: Page): Promise<Locator> {
  const view = page.getByTestId('network-view');
  if (!(await view.isVisible())) await page.getByTestId('network-view-toggle').click();
  await expect(view).toBeVisible();
  return view;
}

export interface ChannelInput {
  loss?: number;
  lossModel?: 'bernoulli' | 'gilbert-elliott';
  geGoodToBad?: number;
  geBadToGood?: number;
  geLossGood?: number;
  geLossBad?: number;
  ber?: number;
  burstBits?: number;
  code?: string;
  delayMs?: number;
  jitterMs?: number;
  duplicate?: number;
  reorder?: number;
}

/**
 * Changes the relay's channel from the network view: the admin token, Load (the fields open
 * with the relay's values), the changes, Apply; resolves once the view says it was applied.
 * Probabilities are fractions from 0 to 1, as the relay takes them.
 */
export async function applyChannel(page: Page, token: string, c: ChannelInput): Promise<void> {
  const view = await openNetworkView(page);
  await view.getByTestId('channel-token').fill(token);
  await view.getByTestId('channel-load').click();
  await expect(view.getByTestId('channel-status')).toHaveAttribute('data-state', 'ok');
  await expect(view.getByTestId('channel-ber')).toBeEnabled();
  // The model first: it shows its own fields.
  if (c.lossModel !== undefined) {
    await view.getByTestId('channel-loss-model').selectOption(c.lossModel);
  }
  const fields: [keyof ChannelInput, string][] = [
    ['loss', 'channel-loss'],
    ['geGoodToBad', 'channel-ge-good-to-bad'],
    ['geBadToGood', 'channel-ge-bad-to-good'],
    ['geLossGood', 'channel-ge-loss-good'],
    ['geLossBad', 'channel-ge-loss-bad'],
    ['ber', 'channel-ber'],
    ['burstBits', 'channel-burst-bits'],
    ['delayMs', 'channel-delay'],
    ['jitterMs', 'channel-jitter'],
    ['duplicate', 'channel-duplicate'],
    ['reorder', 'channel-reorder'],
  ];
  for (const [key, id] of fields) {
    const v = c[key];
    if (v !== undefined) await view.getByTestId(id).fill(String(v));
  }
  if (c.code !== undefined) await view.getByTestId('channel-code').selectOption(c.code);
  await view.getByTestId('channel-apply').click();
  await expect(view.getByTestId('channel-status')).toHaveAttribute('data-state', 'ok');
}

/** A network-view counter's value (its data-value attribute). */
export async function counter(page: Page, name: string): Promise<number> {
  const v = await page.getByTestId(`counter-${name}`).getAttribute('data-value');
  return Number(v);
}

/** The file bubble of the newest file message in this direction. */
export const fileBubble = (page: Page, direction: 'in' | 'out'): Locator =>
  page
    .locator(`[data-testid="message"][data-direction="${direction}"] [data-testid="file-bubble"]`)
    .last();

export interface DroppedFile {
  name: string;
  bytes: Uint8Array;
  type?: string;
}

/**
 * Drags files onto the open chat as a person would from a file manager: a DataTransfer holding
 * Files built in the page, through dragenter, dragover (the drop overlay shows) and drop.
 */
export async function dropFiles(page: Page, files: DroppedFile[]): Promise<void> {
  const payload = files.map((f) => ({
    name: f.name,
    type: f.type ?? 'application/octet-stream',
    base64: Buffer.from(f.bytes).toString('base64'),
  }));
  const dataTransfer = await page.evaluateHandle((list) => {
    // This file is type-checked without the DOM library: the page's globals, as used here.
    const w = globalThis as unknown as {
      DataTransfer: new () => { items: { add(file: unknown): void } };
      File: new (parts: Uint8Array[], name: string, options: { type: string }) => unknown;
    };
    const dt = new w.DataTransfer();
    for (const f of list) {
      const binary = atob(f.base64);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      dt.items.add(new w.File([bytes], f.name, { type: f.type }));
    }
    return dt;
  }, payload);
  const chat = page.getByTestId('chat');
  await chat.dispatchEvent('dragenter', { dataTransfer });
  await chat.dispatchEvent('dragover', { dataTransfer });
  await expect(page.getByTestId('drop-overlay')).toBeVisible();
  await chat.dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('drop-overlay')).toBeHidden();
  await dataTransfer.dispose();
}

/** Picks files through the attach button's file chooser. */
export async function attachFiles(
  page: Page,
  files: { name: string; mimeType: string; buffer: Buffer }[],
): Promise<void> {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByTestId('composer-attach').click(),
  ]);
  expect(chooser.isMultiple()).toBe(true);
  await chooser.setFiles(files);
}

/** The bytes of a file message as the browser host serves them (GET /files/<key>). */
export async function fileBytes(page: Page, bubble: Locator): Promise<Buffer> {
  const key = await bubble
    .locator('xpath=ancestor::*[@data-testid="message"][1]')
    .getAttribute('data-message-id');
  if (key === null) throw new Error('the file bubble is not inside a message');
  const response = await page.request.get(
    new URL(`/files/${encodeURIComponent(key)}`, page.url()).href,
  );
  expect(response.status()).toBe(200);
  return response.body();
}

export interface FileStateSample {
  state: string | null;
  progress: number | null;
}

/**
 * Records, from now on, every state and progress value the page's file bubbles show (a
 * transfer may pass through them faster than a test could poll); the returned function reads
 * the record.
 */
export async function watchFileStates(page: Page): Promise<() => Promise<FileStateSample[]>> {
  await page.evaluate(() => {
    // This file is type-checked without the DOM library: the page's globals, as used here.
    interface El {
      getAttribute(name: string): string | null;
      querySelector(selector: string): El | null;
    }
    const w = globalThis as unknown as {
      document: { body: unknown; querySelectorAll(selector: string): Iterable<El> };
      MutationObserver: new (callback: () => void) => {
        observe(target: unknown, options: Record<string, unknown>): void;
      };
      __fileStates?: FileStateSample[];
    };
    const record: FileStateSample[] = [];
    const sample = () => {
      for (const bubble of w.document.querySelectorAll('[data-testid="file-bubble"]')) {
        const value = bubble
          .querySelector('[data-testid="file-progress"]')
          ?.getAttribute('data-value');
        record.push({
          state: bubble.getAttribute('data-state'),
          progress: value === undefined || value === null ? null : Number(value),
        });
      }
    };
    new w.MutationObserver(sample).observe(w.document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['data-state', 'data-value'],
    });
    w.__fileStates = record;
  });
  return () =>
    page.evaluate(
      () => (globalThis as unknown as { __fileStates: FileStateSample[] }).__fileStates,
    );
}
