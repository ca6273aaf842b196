// One message: a bubble on the right for ours, on the left for theirs, with its time and, for
// ours, how far it got. An incoming message still arriving shows its progress; one handed over
// incomplete says which segments never came. A file message shows as a file bubble.
import { memo } from 'react';
import type { MessageStatus, MessageView } from '../../../shared/api.ts';
import { useLanguage, useT, type Language, type Translate } from '../i18n.ts';
import { dayLabel } from '../model/rows.ts';
import { formatClock } from '../model/time.ts';
import { useStrataStore } from '../store/index.ts';
import { FileBubble } from './FileBubble.tsx';
import { formatDate } from './format.ts';
import { AlertIcon, CheckIcon, ClockIcon, DoubleCheckIcon, RetryIcon } from './Icons.tsx';

/** Missing segment indices listed by name; the rest are counted. */
const MISSING_SHOWN = 12;

export const MessageRow = memo(function MessageRow({
  message: m,
  dayStart,
  runStart,
  now,
}: {
  message: MessageView;
  dayStart: number | null;
  runStart: boolean;
  now: number;
}) {
  const t = useT();
  const language = useLanguage();
  const { retryMessage } = useStrataStore().getState();
  // A file that failed (its source changed or vanished) can be sent again like a message; one
  // we cancelled did not fail, and is over.
  const cancelled = m.file?.state === 'cancelled';
  const failed =
    m.direction === 'out' && !cancelled && (m.status === 'failed' || m.file?.state === 'failed');
  const className = ['msg-line', m.direction, runStart ? 'run-start' : ''].join(' ').trim();
  return (
    <>
      {dayStart !== null && (
        <div className="day-separator" data-testid="day-separator">
          <span>{dayText(dayStart, now, t, language)}</span>
        </div>
      )}
      <div className={className}>
        <div
          className={['bubble', m.error ? 'bubble-error' : '', m.file !== null ? 'bubble-file' : '']
            .join(' ')
            .trim()}
          data-testid="message"
          data-direction={m.direction}
          data-status={m.status}
          data-error={m.error ? 'true' : 'false'}
          data-message-id={m.key}
        >
          {m.file !== null && <FileBubble m={m} file={m.file} />}
          {(m.file === null || m.error) && <MessageBody m={m} t={t} />}
          <span className="meta">
            <time dateTime={new Date(m.sentAt).toISOString()}>{formatClock(m.sentAt)}</time>
            {m.direction === 'out' && !cancelled && <StatusMark status={m.status} t={t} />}
          </span>
        </div>
        {failed && (
          <button
            type="button"
            className="retry-btn"
            data-testid="message-retry"
            onClick={() => void retryMessage(m.key)}
            aria-label={t('message.retry')}
            title={t('message.retry')}
          >
            <RetryIcon />
          </button>
        )}
      </div>
    </>
  );
});

export function dayText(dayStart: number, now: number, t: Translate, language: Language): string {
  const label = dayLabel(dayStart, now);
  if (label.kind === 'today') return t('day.today');
  if (label.kind === 'yesterday') return t('day.yesterday');
  const sameYear = new Date(label.at).getFullYear() === new Date(now).getFullYear();
  return formatDate(label.at, language, !sameYear);
}

function MessageBody({ m, t }: { m: MessageView; t: Translate }) {
  if (m.error) {
    const shown = m.missing.slice(0, MISSING_SHOWN).join(', ');
    const more = m.missing.length - MISSING_SHOWN;
    return (
      <span className="msg-incomplete" data-testid="message-incomplete">
        <AlertIcon />
        <span>
          {t('message.incomplete', {
            missing: more > 0 ? t('message.missingMore', { list: shown, n: more }) : shown,
            received: m.received,
            total: m.segmentCount,
          })}
        </span>
      </span>
    );
  }
  if (m.unreadable !== undefined) {
    return (
      <span className="msg-incomplete" data-testid="message-unreadable">
        <AlertIcon />
        <span>{t('message.unreadable', { reason: m.unreadable })}</span>
      </span>
    );
  }
  if (m.text === null) {
    return (
      <span className="msg-receiving" data-testid="message-receiving">
        <span>{t('message.receiving', { received: m.received, n: m.segmentCount })}</span>
        <progress max={m.segmentCount} value={m.received} aria-hidden="true" />
      </span>
    );
  }
  return <span className="msg-text">{m.text}</span>;
}

function StatusMark({ status, t }: { status: MessageStatus; t: Translate }) {
  const label = t(`status.${status}`);
  return (
    <span className={`status status-${status}`} title={label} role="img" aria-label={label}>
      {status === 'pending' && <ClockIcon />}
      {status === 'sent' && <CheckIcon />}
      {(status === 'delivered' || status === 'read') && <DoubleCheckIcon />}
      {status === 'failed' && <span className="status-failed-mark">!</span>}
    </span>
  );
}
