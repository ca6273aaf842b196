// The chat's virtual list has one row per message; a message that starts a local calendar day
// carries that day's separator above it. Keeping separators inside message rows gives every
// row a stable key, so the list can keep its place when older pages are put in front.
// Messages are in send order, so the day only moves forward and a new Date is needed once
// per day, not once per message (the list may hold 100,000 of them).
import type { MessageView } from '../../../shared/api.ts';

export interface Row {
  key: string;
  message: MessageView;
  /** Local midnight of the day this message opens, or null within a day. */
  dayStart: number | null;
  /** Where the day this row is shown under ends (the next separator goes at or after it). */
  dayEnd: number;
  /** The first of a run of messages from one side, a few minutes apart at most. */
  runStart: boolean;
}

/** Messages further apart than this start a new visual run (more space, own corner). */
export const RUN_GAP_MS = 5 * 60_000;

/** Local midnight at or before `ms`. */
export function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** Local midnight after the day starting at `dayStart` (days are not always 24 h long). */
export function nextDayStart(dayStart: number): number {
  const d = new Date(dayStart);
  d.setDate(d.getDate() + 1);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function buildRows(messages: readonly MessageView[]): Row[] {
  return updateRows([], messages);
}

/**
 * The rows for `messages`, reusing those of `previous` (built for an earlier version of the
 * list) up to the first message that changed: a new message at the end of 100,000 costs a
 * pointer scan and a copy, not 100,000 new rows.
 */
export function updateRows(previous: readonly Row[], messages: readonly MessageView[]): Row[] {
  let same = 0;
  const limit = Math.min(previous.length, messages.length);
  while (same < limit && previous[same]!.message === messages[same]) same++;
  if (same === messages.length && same === previous.length) return previous as Row[];

  const rows = previous.slice(0, same);
  let dayEnd = rows.at(-1)?.dayEnd ?? Number.NaN;
  let last: MessageView | null = rows.at(-1)?.message ?? null;
  for (let i = same; i < messages.length; i++) {
    const message = messages[i]!;
    let dayStart: number | null = null;
    // Clock skew between devices can put a message before the previous one's day: it stays
    // under the current day, so that each day has one separator.
    if (Number.isNaN(dayEnd) || message.sentAt >= dayEnd) {
      dayStart = startOfDay(message.sentAt);
      dayEnd = nextDayStart(dayStart);
    }
    const runStart =
      dayStart !== null ||
      last === null ||
      last.direction !== message.direction ||
      message.sentAt - last.sentAt > RUN_GAP_MS;
    rows.push({ key: message.key, message, dayStart, dayEnd, runStart });
    last = message;
  }
  return rows;
}

export type DayLabel = { kind: 'today' } | { kind: 'yesterday' } | { kind: 'date'; at: number };

export function dayLabel(dayStart: number, now: number): DayLabel {
  const today = startOfDay(now);
  if (dayStart === today) return { kind: 'today' };
  if (nextDayStart(dayStart) === today) return { kind: 'yesterday' };
  return { kind: 'date', at: dayStart };
}
