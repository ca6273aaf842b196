// Scenario 5: the channel turned bad from the network view (loss, bit errors, a Hamming code);
// every message still arrives intact and in order, and the view shows the work it took.
import { expect, test } from './fixtures.ts';
import {
  applyChannel,
  changeSettings,
  counter,
  expectTexts,
  incoming,
  meet,
  openChat,
  openNetworkView,
  outgoing,
  send,
} from './ui.ts';

const POSITIVE = /^[1-9]\d*$/;

/** Ten distinct paragraphs of a few hundred bytes: at 64-byte segments, many segments each. */
const TEXTS = Array.from(
  { length: 10 },
  (_, i) =>
    `Paragraph ${i + 1} of 10. A Hamming (7,4) code adds three parity bits to every four data bits, ` +
    `so one flipped bit per codeword is found and corrected; a lost frame is not, and the ` +
    `transport sends it again after its timer or a later acknowledgement says it is missing. ` +
    `End of paragraph ${i + 1}.`,
);

test('through loss and bit errors set from the network view, messages arrive intact and in order', async ({
  app,
  relay,
}) => {
  const alice = await app('alice');
  const bob = await app('bob');
  await meet(alice.page, 'bob', bob.page, 'alice');
  await changeSettings(alice.page, { segmentSize: 64 });
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');

  await applyChannel(alice.page, relay.adminToken, { loss: 0.2, ber: 0.3, code: 'hamming74' });
  await expect
    .poll(async () => {
      const c = await relay.channel();
      return [c['loss'], c['ber'], c['code']];
    })
    .toEqual([0.2, 0.3, 'hamming74']);

  for (const text of TEXTS) await send(alice.page, text);
  await expectTexts(incoming(bob.page), TEXTS, 60_000);
  const sent = outgoing(alice.page);
  for (let i = 0; i < TEXTS.length; i++) {
    await expect(sent.nth(i)).toHaveAttribute('data-status', 'read');
  }

  const view = await openNetworkView(alice.page);
  await expect(view.getByTestId('counter-transport-retransmissions')).toHaveAttribute(
    'data-value',
    POSITIVE,
  );
  await expect(view.getByTestId('counter-channel-corrected')).toHaveAttribute(
    'data-value',
    POSITIVE,
  );
  await expect(view.getByTestId('counter-channel-lost')).toHaveAttribute('data-value', POSITIVE);
  await expect(view.getByTestId('segment-log').locator('[data-event]').first()).toBeVisible();
});

const SENDER = [
  'segmentsAcked',
  'segmentsLost',
  'segmentsSuperseded',
  'segmentsHeld',
  'segmentsWithdrawn',
  'segmentsInFlight',
] as const;

test('the counters add up, can be reset, the charts window is chosen, and a burst beats the code', async ({
  app,
  relay,
}) => {
  const alice = await app('alice');
  const bob = await app('bob');
  await meet(alice.page, 'bob', bob.page, 'alice');
  await applyChannel(alice.page, relay.adminToken, {
    lossModel: 'bernoulli',
    loss: 0,
    ber: 0,
    burstBits: 1,
    code: 'none',
  });
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');

  // Five texts on a clean channel, all read: five sent, and every one acknowledged.
  const texts = Array.from({ length: 5 }, (_, i) => `count me ${i + 1}`);
  for (const text of texts) await send(alice.page, text);
  await expectTexts(incoming(bob.page), texts);
  for (let i = 0; i < texts.length; i++) {
    await expect(outgoing(alice.page).nth(i)).toHaveAttribute('data-status', 'read');
  }
  const view = await openNetworkView(alice.page);
  await expect(view.getByTestId('counter-transport-firstTransmissions')).toHaveAttribute(
    'data-value',
    '5',
  );
  await expect
    .poll(async () => {
      const fates = await Promise.all(SENDER.map((n) => counter(alice.page, `transport-${n}`)));
      const sent = await counter(alice.page, 'transport-segmentsSent');
      const carried = await counter(alice.page, 'transport-segmentsCarried');
      return fates.reduce((a, b) => a + b, 0) - sent - carried;
    })
    .toBe(0);
  expect(await counter(alice.page, 'transport-segmentsAcked')).toBeGreaterThanOrEqual(5);
  expect(await counter(alice.page, 'transport-segmentsLost')).toBe(0);

  // Reset: this chat's counters and log start from zero.
  await view.getByTestId('network-reset').click();
  await expect(view.getByTestId('counter-transport-segmentsSent')).toHaveAttribute(
    'data-value',
    '0',
  );
  await expect(view.getByTestId('counter-transport-bytesAcked')).toHaveAttribute('data-value', '0');
  await expect(view.getByTestId('segment-log').locator('[data-event]')).toHaveCount(0);

  // The charts' window.
  await view.getByTestId('network-window').selectOption('600');
  await expect(view.getByTestId('network-charts')).toHaveAttribute('data-window', '600');
  await view.getByTestId('network-window').selectOption('30');
  await expect(view.getByTestId('network-charts')).toHaveAttribute('data-window', '30');

  // Burst loss and bit-error bursts from the channel settings; the relay has them.
  await applyChannel(alice.page, relay.adminToken, {
    lossModel: 'gilbert-elliott',
    geGoodToBad: 0.05,
    geBadToGood: 0.25,
    geLossBad: 0.3,
    ber: 0.3,
    burstBits: 3,
    code: 'hamming74',
  });
  await expect(view.getByTestId('channel-mean-burst')).toContainText('4');
  await expect
    .poll(async () => {
      const c = await relay.channel();
      return [c['lossModel'], c['gilbertElliott'], c['burstBits'], c['code']];
    })
    .toEqual([
      'gilbert-elliott',
      { pGoodToBad: 0.05, pBadToGood: 0.25, lossGood: 0, lossBad: 0.3 },
      3,
      'hamming74',
    ]);
  const before = await counter(alice.page, 'channel-uncorrectable');
  // Hamming [7,4] repairs one bit per codeword: a burst of three beats it, and the
  // transport sends again what the code could not repair.
  const burst = Array.from({ length: 3 }, (_, i) => `${TEXTS[i]} (through bursts)`);
  for (const text of burst) await send(alice.page, text);
  await expectTexts(incoming(bob.page), [...texts, ...burst], 60_000);
  await expect
    .poll(() => counter(alice.page, 'channel-uncorrectable'), { timeout: 10_000 })
    .toBeGreaterThan(before);
  await expect
    .poll(() => counter(alice.page, 'transport-retransmissions'), { timeout: 10_000 })
    .toBeGreaterThan(0);
});
