import { describe, expect, it } from 'vitest';
import { FILE_FAILURES, fileFailureText, type FileFailureCode } from '../../shared/failures.ts';
import { ApiError } from '../../shared/contract.ts';
import { ERROR_CODES } from '../../shared/protocol/constants.ts';
import { describeError } from './errors.ts';
import {
  detectLanguage,
  dictionaries,
  interpolate,
  translate,
  type Entry,
  type Language,
  type StringKey,
  type Translate,
} from './i18n.ts';
import { describeClose, describeEngineError, describeFileFailure } from './model/reasons.ts';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const forms = (e: Entry): string[] => (typeof e === 'string' ? [e] : Object.values(e));
const tr =
  (language: Language): Translate =>
  (key, vars) =>
    translate(language, key, vars);

/** Latin letters left in a Russian text, once the names that stay Latin are taken out. */
/** Latin words left in a text, but for SHA-256 and the hex of a fingerprint. */
const english = (s: string) =>
  s
    .replace(/SHA-256/g, '')
    .replace(/\b[0-9a-f]{64}\b/g, '')
    .match(/[A-Za-z]+/g) ?? [];

describe('dictionaries', () => {
  it('have every key in both languages, with the same placeholders in every form', () => {
    const en = dictionaries.en as Record<string, Entry>;
    const ru = dictionaries.ru as Record<string, Entry>;
    expect(Object.keys(ru).sort()).toEqual(Object.keys(en).sort());
    for (const [key, entry] of Object.entries(en)) {
      const want = placeholders(forms(entry)[0]!);
      for (const form of [...forms(entry), ...forms(ru[key]!)]) {
        expect(placeholders(form), key).toEqual(want);
        expect(form.trim(), key).not.toBe('');
      }
      // A count's forms: Russian needs one, few and many.
      if (typeof ru[key] !== 'string') expect(Object.keys(ru[key]!), key).toContain('few');
    }
  });

  it('choose plural forms by Intl.PluralRules in both languages', () => {
    const over = (language: Language, n: number) => translate(language, 'composer.tooLong', { n });
    expect(over('en', 1)).toBe('1 character over the limit');
    expect(over('en', 2400)).toBe('2400 characters over the limit');
    expect(over('ru', 1)).toBe('Лимит превышен на 1 символ');
    expect(over('ru', 3)).toBe('Лимит превышен на 3 символа');
    expect(over('ru', 11)).toBe('Лимит превышен на 11 символов');
    expect(over('ru', 21)).toBe('Лимит превышен на 21 символ');
    expect(over('ru', 2400)).toBe('Лимит превышен на 2400 символов');
  });

  it('name the network and settings labels plainly in Russian', () => {
    const ru = tr('ru');
    expect(ru('network.counter.channel.uncorrectable')).toBe('Неисправимых кадров');
    expect(ru('network.counter.transport.spuriousRetransmissions')).toBe('Ложных повторов');
    expect(ru('settings.maxFileMb')).toMatch(/^Максимальный размер файла/);
  });
});

describe('the Russian UI', () => {
  const ru = tr('ru');
  const cases: [string, string][] = [];
  // Every file failure, with values as the core writes them.
  const vars: Record<string, string> = {
    peer: 'борис',
    detail: 'нет доступа',
    path: '/дом/отчёт.pdf',
    dir: '/дом/Загрузки',
    need: '1.0 GiB',
    have: '12.0 MiB',
    size: '1.0 GiB',
    reserve: '64.0 MiB',
    limit: '1000',
    relayCode: 'unknownRecipient',
    days: '30',
  };
  for (const code of Object.keys(FILE_FAILURES) as FileFailureCode[]) {
    cases.push([`file ${code}`, describeFileFailure({ code, vars }, ru, 'ru')]);
  }
  // Every refusal the relay can send, about a message to a peer or not.
  for (const code of Object.keys(ERROR_CODES)) {
    const event = { code, text: `no user "zed" has ever connected to this relay` };
    cases.push([`relay ${code}`, describeEngineError(event, 'борис', ru, 'ru')]);
    cases.push([`relay ${code} (no peer)`, describeEngineError(event, null, ru, 'ru')]);
  }
  const failed = { code: 'fileFailed', text: fileFailureText('peerRefused', { peer: 'борис' }) };
  cases.push(['fileFailed event', describeEngineError(failed, null, ru, 'ru')]);
  // Why the link to the relay closed.
  for (const detail of ['1000 bye', '1001 relay shutting down', '1006', '1008 bad hello', '1011']) {
    cases.push([`close ${detail}`, describeClose(detail, ru)]);
  }
  cases.push(['close 4000', describeClose('4000 replaced', ru)]);
  cases.push(['close unknown code', describeClose('4321 whatever', ru)]);
  cases.push(['close without a code', describeClose('ping timeout', ru)]);
  const changed =
    `the relay's certificate changed: expected sha256 ${'ab'.repeat(32)} (pinned by the ` +
    `relay URL), got ${'cd'.repeat(32)}. Someone may be impersonating the relay`;
  cases.push(['close: certificate changed', describeClose(changed, ru)]);
  // The renderer's link to its host failing, as the WebSocket client reports it.
  const lost = new ApiError('unreachable', 'the app host is not connected');
  cases.push(['host unreachable', describeError(lost, ru)]);
  cases.push(['not logged in', describeError(new ApiError('notLoggedIn', 'log in first'), ru)]);
  for (const key of ['network.channel.loaded', 'network.channel.applied'] as StringKey[]) {
    cases.push([key, ru(key, { summary: 'потери 2 %' })]);
  }

  it.each(cases)('says %s without English', (_name, text) => {
    expect(text.trim()).not.toBe('');
    expect(english(text)).toEqual([]);
  });

  it('says what the relay and the close code mean', () => {
    expect(describeEngineError({ code: 'unknownRecipient', text: 'x' }, 'борис', ru, 'ru')).toBe(
      'Ретранслятор не принял сообщение для борис: пользователь с таким именем ни разу не подключался к этому ретранслятору',
    );
    expect(describeClose('1001 relay shutting down', ru)).toBe(
      'ретранслятор выключается или перезапускается',
    );
    expect(describeClose('1001 relay shutting down', tr('en'))).toBe(
      'the relay is shutting down or restarting',
    );
    const changed = `the relay's certificate changed: expected sha256 ${'ab'.repeat(32)} (first seen at relay.lan:7000 and kept in this profile), got ${'cd'.repeat(32)}. Someone...`;
    expect(describeClose(changed, tr('en'))).toMatch(
      new RegExp(
        `^the relay’s certificate changed \\(SHA-256 ${'cd'.repeat(32)}, expected ${'ab'.repeat(32)}\\)`,
      ),
    );
    expect(describeFileFailure({ code: 'noRoom', vars }, ru, 'ru')).toBe(
      'недостаточно места: нужно 1\u00a0ГБ, свободно 12\u00a0МБ',
    );
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
