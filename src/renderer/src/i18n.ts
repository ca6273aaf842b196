// Every string the user sees goes through t(). The language follows the system
// (navigator.language: Russian for ru*, English otherwise) unless the user picked one (the
// store's preferences slice keeps it). Dictionaries are plain modules, one per part of the UI.
import { useCallback } from 'react';
import { strings as appStrings } from './strings/app.ts';
import { strings as networkStrings } from './strings/network.ts';
import { useStrata } from './store/context.ts';

export const LANGUAGES = ['en', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];

const dictionaries = {
  en: { ...appStrings.en, ...networkStrings.en },
  ru: { ...appStrings.ru, ...networkStrings.ru },
};
export type StringKey = keyof typeof dictionaries.en;
// A Russian dictionary missing an English key fails the type check, not the user.
const russianIsComplete: Readonly<Record<StringKey, string>> = dictionaries.ru;
const tables: Record<Language, Readonly<Record<StringKey, string>>> = {
  en: dictionaries.en,
  ru: russianIsComplete,
};

export type Vars = Readonly<Record<string, string | number>>;

/** Whether `key` names a string (for keys built at run time, such as an error code's). */
export function isStringKey(key: string): key is StringKey {
  return Object.hasOwn(dictionaries.en, key);
}

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

export function translate(language: Language, key: StringKey, vars?: Vars): string {
  return interpolate(tables[language][key], vars);
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
