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

export async function expectOnline(page: Page, peer: string): Promise<void> {
  await expect(contact(page, peer)).toHaveAttribute('data-presence', 'online');
}

export async function openChat(page: Page, peer: string): Promise<void> {
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
  ber?: number;
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
  await expect(view.getByTestId('channel-loss')).toBeEnabled();
  const fields: [keyof ChannelInput, string][] = [
    ['loss', 'channel-loss'],
    ['ber', 'channel-ber'],
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
