// The chat's messages in a virtual list: only the rows on screen exist in the DOM, each
// measured as it renders, so 100,000 messages scroll like 100. It stays at the bottom while
// the reader is there, keeps its place when older pages arrive at the top, and otherwise
// offers a jump to the newest message.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useLanguage, useT } from '../i18n.ts';
import { startOfDay, updateRows, type Row } from '../model/rows.ts';
import { useStrataStore, type PeerMessages } from '../store/index.ts';
import { ArrowDownIcon } from './Icons.tsx';
import { dayText, MessageRow } from './MessageRow.tsx';
import { useNow } from './useNow.ts';

/** Guesses for rows not measured yet; real heights replace them as rows render. */
const ESTIMATED_ROW_PX = 44;
const ESTIMATED_DAY_PX = 40;
/** Room above the first row for "loading earlier messages" or "start of the chat". */
const TOP_PX = 48;
const BOTTOM_PX = 8;
/** Closer to the bottom than this counts as at the bottom. */
const AT_BOTTOM_PX = 64;
/** Rows rendered beyond the visible ones, for smooth scrolling. */
const OVERSCAN = 10;
/** Fetch the older page when the reader is this many screens from the start. */
const LOAD_OLDER_WITHIN_SCREENS = 2;

export function MessageList({ peer, state }: { peer: string; state: PeerMessages }) {
  const t = useT();
  const { loadOlder } = useStrataStore().getState();
  const language = useLanguage();
  const now = useNow();
  const scrollRef = useRef<HTMLDivElement>(null);
  // Rows are rebuilt only from the first message that changed (see updateRows).
  const rowsRef = useRef<readonly Row[]>([]);
  const rows = useMemo(() => updateRows(rowsRef.current, state.list), [state.list]);
  useEffect(() => {
    rowsRef.current = rows;
  }, [rows]);
  const [atBottom, setAtBottom] = useState(true);
  // The newest message the reader has seen at the bottom: newer incoming ones are "new".
  const [seenKey, setSeenKey] = useState<string | null>(() => rows.at(-1)?.key ?? null);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) =>
      ESTIMATED_ROW_PX + ((rows[i]?.dayStart ?? null) !== null ? ESTIMATED_DAY_PX : 0),
    getItemKey: (i) => rows[i]?.key ?? i,
    overscan: OVERSCAN,
    paddingStart: TOP_PX,
    paddingEnd: BOTTOM_PX,
    // A chat: new rows at the end are followed while at the end, and rows put in front keep
    // the visible ones where they are.
    anchorTo: 'end',
    followOnAppend: true,
    scrollEndThreshold: AT_BOTTOM_PX,
  });

  // Opening a chat shows its newest messages (the list mounts once per chat).
  useLayoutEffect(() => {
    virtualizer.scrollToEnd();
  }, [virtualizer]);

  // A message the user sends shows at once, wherever they had scrolled to.
  const last = rows.at(-1);
  const lastKey = last?.key;
  const lastIsOwnNew = last?.message.direction === 'out' && last.message.status === 'pending';
  const previousLastKey = useRef(lastKey);
  useLayoutEffect(() => {
    if (lastKey !== previousLastKey.current && lastIsOwnNew) virtualizer.scrollToEnd();
    previousLastKey.current = lastKey;
  }, [lastKey, lastIsOwnNew, virtualizer]);

  const items = virtualizer.getVirtualItems();
  const total = virtualizer.getTotalSize();
  // A short chat sits at the bottom, next to the composer, like a long one does.
  const viewport = virtualizer.scrollRect?.height ?? 0;
  const shift = Math.max(0, viewport - total);
  // While scrolling, the day of the topmost message floats above the list.
  const topRow = virtualizer.isScrolling
    ? rows[virtualizer.getVirtualItemForOffset(virtualizer.scrollOffset ?? 0)?.index ?? -1]
    : undefined;

  // Older messages are fetched before the reader reaches the top: on scrolling, and again
  // when a page has arrived and the reader is still up there.
  const { complete, loading } = state;
  const loadOlderIfNearTop = useCallback(() => {
    const el = scrollRef.current;
    if (el === null || complete || loading) return;
    if (el.scrollTop < el.clientHeight * LOAD_OLDER_WITHIN_SCREENS) void loadOlder(peer);
  }, [complete, loading, peer, loadOlder]);
  useEffect(loadOlderIfNearTop, [loadOlderIfNearTop]);

  useEffect(() => {
    if (atBottom && lastKey !== undefined) setSeenKey(lastKey);
  }, [atBottom, lastKey]);

  const unseen = useMemo(() => {
    if (atBottom) return 0;
    let n = 0;
    for (let i = rows.length - 1; i >= 0 && rows[i]!.key !== seenKey; i--) {
      if (rows[i]!.message.direction === 'in') n++;
    }
    return n;
  }, [rows, seenKey, atBottom]);

  function onScroll() {
    const el = scrollRef.current;
    if (el === null) return;
    setAtBottom(el.scrollHeight - el.scrollTop - el.clientHeight <= AT_BOTTOM_PX);
    loadOlderIfNearTop();
  }

  return (
    <div className="message-scroller-wrap">
      <div
        ref={scrollRef}
        className="message-scroller"
        data-testid="message-list"
        onScroll={onScroll}
        tabIndex={0}
        role="log"
        aria-label={t('chat.messages', { name: peer })}
      >
        <div className="message-canvas" style={{ height: total + shift }}>
          <div className="list-top" role="status" style={{ top: shift }}>
            {state.complete ? (
              <span className="list-start">{t('chat.start', { name: peer })}</span>
            ) : state.error !== null ? (
              <button
                type="button"
                className="btn btn-small"
                onClick={() => void loadOlder(peer, { retry: true })}
              >
                {t('chat.loadOlderFailed')}
              </button>
            ) : (
              <span className="list-loading">
                <span className="spinner spinner-small" aria-hidden="true" />
                {t('chat.loadingOlder')}
              </span>
            )}
          </div>
          {items.map((item) => {
            const row = rows[item.index]!;
            return (
              <div
                key={item.key}
                ref={virtualizer.measureElement}
                data-index={item.index}
                className="virtual-row"
                style={{ transform: `translateY(${item.start + shift}px)` }}
              >
                <MessageRow
                  message={row.message}
                  dayStart={row.dayStart}
                  runStart={row.runStart}
                  now={now}
                />
              </div>
            );
          })}
        </div>
      </div>
      {topRow !== undefined && (
        <div className="floating-day" aria-hidden="true">
          <span>{dayText(startOfDay(topRow.message.sentAt), now, t, language)}</span>
        </div>
      )}
      {!atBottom && (
        <button
          type="button"
          className={unseen > 0 ? 'jump-latest has-new' : 'jump-latest'}
          data-testid="jump-to-latest"
          aria-label={unseen > 0 ? t('chat.newMessages', { n: unseen }) : t('chat.toLatest')}
          onClick={() => virtualizer.scrollToEnd({ behavior: 'smooth' })}
        >
          {unseen > 0 && <span className="jump-count">{t('chat.newMessages', { n: unseen })}</span>}
          <ArrowDownIcon />
        </button>
      )}
    </div>
  );
}
