// The renderer's store is one zustand store made of slices, one per concern; this file names
// the whole and what every slice may use. Nothing here lives at module level: each
// createStrataStore() call makes its own state, timers and caches.
import type { StateCreator } from 'zustand';
import type { AccountSlice } from './account.ts';
import type { ContactsSlice } from './contacts.ts';
import type { EventsSlice } from './events.ts';
import type { MessagesSlice } from './messages.ts';
import type { PreferencesSlice } from './preferences.ts';
import type { SafetySlice } from './safety.ts';
import type { SessionSlice } from './session.ts';
import type { ToastsSlice } from './toasts.ts';
import type { TransfersSlice } from './transfers.ts';
import type { UiSlice } from './ui.ts';
import type { ApiClient } from '../api/index.ts';

export type Strata = SessionSlice &
  AccountSlice &
  SafetySlice &
  ContactsSlice &
  MessagesSlice &
  TransfersSlice &
  UiSlice &
  ToastsSlice &
  PreferencesSlice &
  EventsSlice;

/** What a store needs from its surroundings (tests pass their own). */
export interface StoreEnv {
  /** Reaches the host. */
  connect(): Promise<ApiClient>;
  /** Whether the window is visible and focused: only then do open chats count as read. */
  windowIsActive(): boolean;
  /** The system's languages, most preferred first. */
  systemLanguages(): readonly string[];
  /** The language the page was served in (the browser host writes the profile's choice). */
  pageLanguage(): string | null;
}

/** A slice's creator, given the store's surroundings. */
export type Slice<T> = (env: StoreEnv) => StateCreator<Strata, [], [], T>;
