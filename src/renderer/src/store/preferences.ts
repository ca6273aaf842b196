// The user's preferences: for now the language (the system's, unless the user picked one).
// `t` translates in the current language for the other slices' texts.
import {
  detectLanguage,
  isLanguage,
  translate,
  type Language,
  type StringKey,
  type Vars,
} from '../i18n.ts';
import type { Slice } from './types.ts';

const STORAGE_KEY = 'strata.language';

function readSaved(): string | null {
  try {
    return globalThis.localStorage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null; // storage disabled: follow the system
  }
}

export interface PreferencesSlice {
  language: Language;
  /** What the user picked, or null to follow the system. */
  languageChoice: Language | null;
  /** Picks a language (null: follow the system again) and remembers the choice. */
  setLanguage(choice: Language | null): void;
  /** Translates in the current language. */
  t(key: StringKey, vars?: Vars): string;
}

export const createPreferencesSlice: Slice<PreferencesSlice> = (env) => (set, get) => {
  const saved = readSaved();
  return {
    language: detectLanguage(saved, env.systemLanguages()),
    languageChoice: isLanguage(saved) ? saved : null,

    setLanguage(choice) {
      try {
        if (choice === null) globalThis.localStorage?.removeItem(STORAGE_KEY);
        else globalThis.localStorage?.setItem(STORAGE_KEY, choice);
      } catch {
        // Not remembered, but still applied for this session.
      }
      set({ language: detectLanguage(choice, env.systemLanguages()), languageChoice: choice });
    },

    t: (key, vars) => translate(get().language, key, vars),
  };
};
