// Words for times and people, shared by the contact list and the chat.
import type { MessageView } from '../../../shared/api.ts';
import type { Language, Translate } from '../i18n.ts';
import { filePreview } from '../model/files.ts';
import { startOfDay } from '../model/rows.ts';
import { describeLastSeen, formatClock } from '../model/time.ts';

export function formatDate(ms: number, language: Language, withYear: boolean): string {
  return new Intl.DateTimeFormat(language, {
    day: 'numeric',
    month: 'long',
    ...(withYear ? { year: 'numeric' } : {}),
  }).format(ms);
}

/** The contact list's time: the clock today, else a short date. */
export function shortStamp(ms: number, now: number, language: Language): string {
  if (ms >= startOfDay(now)) return formatClock(ms);
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return new Intl.DateTimeFormat(language, {
    day: 'numeric',
    month: 'short',
    ...(sameYear ? {} : { year: '2-digit' }),
  }).format(ms);
}

export function presenceLine(
  online: boolean,
  lastSeen: number | null,
  now: number,
  t: Translate,
  language: Language,
  known = true,
): string {
  if (!known) return t('presence.unknown');
  if (online) return t('presence.online');
  const seen = describeLastSeen(lastSeen, now);
  switch (seen.kind) {
    case 'unknown':
      return t('presence.offline');
    case 'justNow':
      return t('presence.justNow');
    case 'minutes':
      return t('presence.minutes', { n: seen.n });
    case 'hours':
      return t('presence.hours', { n: seen.n });
    case 'yesterday':
      return t('presence.yesterday', { time: formatClock(seen.at) });
    case 'date':
      return t('presence.date', {
        date: formatDate(
          seen.at,
          language,
          new Date(seen.at).getFullYear() !== new Date(now).getFullYear(),
        ),
      });
  }
}

const PREVIEW_CHARS = 200;

/** One line about a message for the contact list. */
export function previewText(m: MessageView, t: Translate): string {
  let body: string;
  // The list shows one line: a long text need not be scanned whole.
  const file = filePreview(m);
  if (file !== null) body = file.slice(0, PREVIEW_CHARS);
  else if (m.text !== null) body = m.text.slice(0, PREVIEW_CHARS).replace(/\s+/g, ' ').trim();
  else if (m.error) body = t('preview.incomplete');
  else body = t('preview.receiving');
  return m.direction === 'out' ? t('preview.you', { text: body }) : body;
}
