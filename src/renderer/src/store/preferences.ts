// The user's preferences: for now the language (the system's, unless the user picked one). The
// host keeps them in the profile and hands them over with the session; the browser host also
// writes the language into the page it serves, so that even the first paint speaks it.
// `t` translates in the current language for the other slices' texts.
import type { PreferencesView } from '../../../shared/contract.ts';
import { describeError } from '../errors.ts';
import {
  detectLanguage,
  isLanguage,
  translate,
  type Language,
  type StringKey,
  type Vars,
} from '../i18n.ts';
import type { Slice } from './types.ts';

export interface PreferencesSlice {
  language: Language;
  /** What the user picked, or null to follow the system. */
  languageChoice: Language | null;
  /** Picks a language (null: follow the system again) and saves the choice in the profile. */
  setLanguage(choice: Language | null): Promise<void>;
  /** Translates in the current language. */
  t(key: StringKey, vars?: Vars): string;

  // For the other slices.
  /** Takes the preferences the host keeps (with every session it sends). */
  applyPreferences(preferences: PreferencesView): void;
}

export const createPreferencesSlice: Slice<PreferencesSlice> = (env) => (set, get) => {
  const choose = (choice: Language | null) =>
    set({ language: detectLanguage(choice, env.systemLanguages()), languageChoice: choice });
  const initial = env.pageLanguage();
  return {
    language: detectLanguage(initial, env.systemLanguages()),
    languageChoice: isLanguage(initial) ? initial : null,

    async setLanguage(choice) {
      // Applied at once; the host's session event confirms it.
      choose(choice);
      const client = get().client();
      if (client === null) return;
      try {
        await client.call('setPreferences', { patch: { language: choice } });
      } catch (e) {
        const { t, showToast } = get();
        showToast(t('error.savePreferences', { detail: describeError(e, t) }));
      }
    },

    t: (key, vars) => translate(get().language, key, vars),

    applyPreferences(preferences) {
      if (preferences.language !== get().languageChoice) choose(preferences.language);
    },
  };
};
