// How long ago someone was seen, in the coarse steps people use ("5 min ago", "yesterday at
// 14:05"), as a key and values for the translator: the wording is the dictionary's business.
import { nextDayStart, startOfDay } from './rows.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

export type LastSeen =
  | { kind: 'unknown' }
  | { kind: 'justNow' }
  | { kind: 'minutes'; n: number }
  | { kind: 'hours'; n: number }
  | { kind: 'yesterday'; at: number }
  | { kind: 'date'; at: number };

export function describeLastSeen(lastSeen: number | null, now: number): LastSeen {
  if (lastSeen === null) return { kind: 'unknown' };
  const ago = Math.max(0, now - lastSeen);
  if (ago < MINUTE_MS) return { kind: 'justNow' };
  if (ago < HOUR_MS) return { kind: 'minutes', n: Math.floor(ago / MINUTE_MS) };
  const today = startOfDay(now);
  if (lastSeen >= today) return { kind: 'hours', n: Math.floor(ago / HOUR_MS) };
  if (nextDayStart(startOfDay(lastSeen)) === today) return { kind: 'yesterday', at: lastSeen };
  return { kind: 'date', at: lastSeen };
}

/** HH:MM in local time, 24-hour, whatever the locale's habit. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
