// The transport's recent segments, newest first; retransmissions and losses stand out.
import type { SegmentLogEntry } from '../../../shared/contract.ts';
import { useLanguage, useT } from '../i18n.ts';
import { formatClock, formatCount } from './format.ts';

/**
 * Message ids are clock readings (ms × 1024, sixteen digits) that differ in their last digits;
 * those tell messages apart in a narrow column, and the full id is in the tooltip.
 */
const SHORT_ID_DIGITS = 6;
const shortId = (id: number): string => {
  const text = String(id);
  return text.length > SHORT_ID_DIGITS ? `…${text.slice(-SHORT_ID_DIGITS)}` : text;
};

export function SegmentLog(props: { entries: readonly SegmentLogEntry[] }) {
  const t = useT();
  const language = useLanguage();
  return (
    <div
      className="net-log"
      data-testid="segment-log"
      tabIndex={0}
      aria-label={t('network.log.title')}
    >
      {props.entries.length === 0 ? (
        <p className="net-state">{t('network.log.empty')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('network.log.time')}</th>
              <th scope="col">{t('network.log.event')}</th>
              <th scope="col" className="num">
                {t('network.log.message')}
              </th>
              <th scope="col" className="num">
                {t('network.log.segment')}
              </th>
              <th scope="col" className="num">
                {t('network.log.count')}
              </th>
              <th scope="col" className="num">
                {t('network.log.bytes')}
              </th>
            </tr>
          </thead>
          <tbody>
            {props.entries.map((e) => (
              <tr key={e.seq} className={`event-${e.event}`} data-event={e.event}>
                <td>{formatClock(e.at)}</td>
                <td>{t(`network.event.${e.event}`)}</td>
                <td className="num" title={String(e.messageId)}>
                  {shortId(e.messageId)}
                </td>
                <td className="num">{e.index}</td>
                <td className="num">{e.segmentCount}</td>
                <td className="num">{formatCount(language, e.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
