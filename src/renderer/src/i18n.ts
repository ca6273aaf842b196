// Every string the user sees goes through t(). The language follows the system
// (navigator.language: Russian for ru*, English otherwise) unless the user picked one (the
// store's preferences slice keeps it). Dictionaries are plain modules, one per part of the UI.
// An entry that depends on a count is a set of plural forms ({ one, few, many, other }, the
// categories of Intl.PluralRules), chosen by the value of its {n}.
import { useCallback } from 'react';
import { strings as accountStrings } from './strings/account.ts';
import { strings as appStrings } from './strings/app.ts';
import { strings as consentStrings } from './strings/consent.ts';
import { strings as networkStrings } from './strings/network.ts';
import { strings as reasonStrings } from './strings/reasons.ts';
import { strings as safetyStrings } from './strings/safety.ts';
import { useStrata } from './store/context.ts';

export const LANGUAGES = ['en', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];

/** The forms of an entry that depends on the count {n}; `other` is the fallback. */
export type PluralForms = { readonly [rule in Intl.LDMLPluralRule]?: string } & {
  readonly other: string;
};
export type Entry = string | PluralForms;

export const dictionaries = {
  en: {
    ...appStrings.en,
    ...accountStrings.en,
    ...networkStrings.en,
    ...reasonStrings.en,
    ...safetyStrings.en,
    ...consentStrings.en,
  },
  ru: {
    ...appStrings.ru,
    ...accountStrings.ru,
    ...networkStrings.ru,
    ...reasonStrings.ru,
    ...safetyStrings.ru,
    ...consentStrings.ru,
  },
};
export type StringKey = keyof typeof dictionaries.en;
// A Russian dictionary missing an English key fails the type check, not the user.
const russianIsComplete: Readonly<Record<StringKey, Entry>> = dictionaries.ru;
const tables: Record<Language, Readonly<Record<StringKey, Entry>>> = {
  en: dictionaries.en,
  ru: russianIsComplete,
};

export type Vars = Readonly<Record<string, string | number>>;

/** Replaces {name} with vars.name; a placeholder without a value stays visible. */
export function interpolate(template: string, vars?: Vars): string {
  if (vars === undefined) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(vars, name) ? String(vars[name]) : whole,
  );
}

export function isLanguage(v: unknown): v is Language {
  return typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);
}

/** The saved choice if there is one, else the system's first language we speak. */
export function detectLanguage(saved: string | null, systemLanguages: readonly string[]): Language {
  if (isLanguage(saved)) return saved;
  for (const tag of systemLanguages) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

const PLURAL_RULES: Record<Language, Intl.PluralRules> = {
  en: new Intl.PluralRules('en'),
  ru: new Intl.PluralRules('ru'),
};

/** The form of `forms` for the count vars.n in `language` (`other` without a count). */
export function pluralForm(language: Language, forms: PluralForms, vars?: Vars): string {
  const n = vars?.['n'];
  if (typeof n !== 'number') return forms.other;
  return forms[PLURAL_RULES[language].select(n)] ?? forms.other;
}

export function translate(language: Language, key: StringKey, vars?: Vars): string {
  const entry = tables[language][key];
  return interpolate(typeof entry === 'string' ? entry : pluralForm(language, entry, vars), vars);
}

export type Translate = (key: StringKey, vars?: Vars) => string;

/** The translator for a component: it re-renders when the language changes. */
export function useT(): Translate {
  const language = useLanguage();
  return useCallback((key: StringKey, vars?: Vars) => translate(language, key, vars), [language]);
}

export function useLanguage(): Language {
  return useStrata((s) => s.language);
}
