// Scenario 5: the channel turned bad from the network view (loss, bit errors, a Hamming code);
// every message still arrives intact and in order, and the view shows the work it took.
import { expect, test } from './fixtures.ts';
import {
  applyChannel,
  changeSettings,
  expectOnline,
  expectTexts,
  incoming,
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
  await expectOnline(alice.page, 'bob');
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
