import { describe, expect, it } from 'vitest';
import { detectLanguage, interpolate, translate } from './i18n.ts';
import { strings } from './strings/app.ts';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('dictionaries', () => {
  it('have the same keys and the same placeholders in English and Russian', () => {
    expect(Object.keys(strings.ru).sort()).toEqual(Object.keys(strings.en).sort());
    for (const [key, en] of Object.entries(strings.en)) {
      const ru = (strings.ru as Record<string, string>)[key]!;
      expect(placeholders(ru), key).toEqual(placeholders(en));
      expect(ru.trim(), key).not.toBe('');
    }
  });
});

describe('interpolate', () => {
  it('fills placeholders and leaves unknown ones visible', () => {
    expect(interpolate('{name} is typing…', { name: 'bob' })).toBe('bob is typing…');
    expect(interpolate('{a} of {b}', { a: 1 })).toBe('1 of {b}');
    expect(interpolate('no vars')).toBe('no vars');
  });

  it('translates into either language', () => {
    expect(translate('en', 'chat.typing', { name: 'bob' })).toBe('bob is typing…');
    expect(translate('ru', 'chat.typing', { name: 'bob' })).toBe('bob печатает…');
  });
});

describe('detectLanguage', () => {
  it('follows a saved choice, else the first system language spoken', () => {
    expect(detectLanguage('ru', ['en-US'])).toBe('ru');
    expect(detectLanguage(null, ['ru-RU', 'en'])).toBe('ru');
    expect(detectLanguage(null, ['de-DE', 'ru'])).toBe('ru');
    expect(detectLanguage(null, ['de-DE'])).toBe('en');
    expect(detectLanguage('klingon', ['en-GB'])).toBe('en');
    expect(detectLanguage(null, [])).toBe('en');
  });
});
