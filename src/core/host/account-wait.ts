// What the host needs to know of the engine's account around a login: whether its name is
// settled, and waiting (boundedly) for the relay's verdict on a new one.
import type { MessengerEvent } from '../../shared/api.ts';
import type { Messenger } from '../messenger.ts';

/** Registered, removed or unknown: the name is the account's and no longer changes. */
export function isRegistered(m: Messenger): boolean {
  const { state } = m.account();
  return state !== 'new' && state !== 'name-taken';
}

/** Resolves once the engine's account leaves the state 'new', or after `ms` at the latest. */
export function accountSettled(m: Messenger, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      m.off('event', onEvent);
      resolve();
    };
    const onEvent = (e: MessengerEvent) => {
      if (e.type === 'account' && e.account.state !== 'new') done();
    };
    const timer = setTimeout(done, ms);
    m.on('event', onEvent);
    if (m.account().state !== 'new') done();
  });
}
