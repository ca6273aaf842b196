// What the engine does with the relay's error frames: an answer to an account request (a
// refusal, a rate limit), a message the relay will not take (it fails, with the relay's
// reason kept for the UI), and, every time, an `error` event for whoever shows it.
import type { MessengerEvent } from '../shared/api.ts';
import { relayRefusalReason } from '../shared/failures.ts';
import type { ErrorFrame } from '../shared/protocol/index.ts';
import type { AccountBook } from './account.ts';
import type { Transport } from './transport/transport.ts';

/**
 * Relay errors that mean a message cannot be delivered as sent. `storeUnavailable` (the relay's
 * disk failed to write) is not one: the transport sends the frames again.
 */
const REFUSALS: ReadonlySet<string> = new Set([
  'unknownRecipient',
  'quotaExceeded',
  'frameTooLarge',
]);

export interface RelayErrorParts {
  me: { user: string; device: number };
  accounts: AccountBook;
  transport: Transport;
  /** Why the relay refused a message, by message key. */
  refusals: Map<string, string>;
  emit(e: MessengerEvent): void;
}

export function onRelayError(frame: ErrorFrame, p: RelayErrorParts): void {
  if (frame.code === 'accountRefused') p.accounts.onAccountRefused(frame.text);
  if (frame.code === 'rateLimited') p.accounts.onRateLimited(frame.text);
  // The relay refused one of our messages outright: it will never arrive as it is.
  const refused = frame.messageId !== 0 && REFUSALS.has(frame.code);
  const message = `${p.me.user}/${p.me.device}/${frame.messageId}`;
  if (refused) {
    p.refusals.set(message, frame.text);
    p.transport.refuse(frame.messageId, relayRefusalReason(frame.code, frame.text));
  }
  p.emit({ type: 'error', code: frame.code, text: frame.text, ...(refused ? { message } : {}) });
}
