// The renderer's state: one zustand store of slices by concern (session, account, contacts,
// messages, transfers, what the window shows, toasts, preferences, host events). Actions sit
// next to the state they change; derived data (sorted contacts, rows, totals) is computed by
// selectors, never stored twice. createStrataStore makes a fresh store with its own timers and caches;
// the app makes one at start and hands it to its components through StoreProvider.
import { createStore, type StoreApi } from 'zustand';
import { connectApi } from '../api/index.ts';
import { createAccountSlice } from './account.ts';
import { createContactsSlice } from './contacts.ts';
import { createEventsSlice } from './events.ts';
import { createMessagesSlice } from './messages.ts';
import { createPreferencesSlice } from './preferences.ts';
import { createSafetySlice } from './safety.ts';
import { createSessionSlice } from './session.ts';
import { createToastsSlice } from './toasts.ts';
import { createTransfersSlice } from './transfers.ts';
import type { StoreEnv, Strata } from './types.ts';
import { createUiSlice } from './ui.ts';

export type { Strata, StoreEnv } from './types.ts';
export type { Phase } from './session.ts';
export type { PeerMessages } from './messages.ts';
export { HISTORY_PAGE } from './messages.ts';
export type { Toast } from './toasts.ts';
export { MAX_TOASTS } from './toasts.ts';
export type { TransferRate, Upload } from './transfers.ts';
export { StoreProvider, useStrata, useStrataStore } from './context.ts';

export type StrataStore = StoreApi<Strata>;

/** The browser's surroundings: the host's API, the window's focus, the system's languages. */
export function browserEnv(): StoreEnv {
  return {
    connect: connectApi,
    windowIsActive: () => document.visibilityState === 'visible' && document.hasFocus(),
    pageLanguage: () => document.documentElement.dataset['language'] ?? null,
    systemLanguages() {
      const nav = globalThis.navigator as Navigator | undefined;
      if (nav === undefined) return [];
      return nav.languages?.length ? nav.languages : [nav.language];
    },
  };
}

export function createStrataStore(env: StoreEnv = browserEnv()): StrataStore {
  return createStore<Strata>()((...a) => ({
    ...createSessionSlice(env)(...a),
    ...createAccountSlice(env)(...a),
    ...createSafetySlice(env)(...a),
    ...createContactsSlice(env)(...a),
    ...createMessagesSlice(env)(...a),
    ...createTransfersSlice(env)(...a),
    ...createUiSlice(env)(...a),
    ...createToastsSlice(env)(...a),
    ...createPreferencesSlice(env)(...a),
    ...createEventsSlice(env)(...a),
  }));
}
