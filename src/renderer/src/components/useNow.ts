// The current time for relative labels ("5 min ago"), refreshed often enough for them.
import { useEffect, useState } from 'react';

export const NOW_TICK_MS = 30_000;

export function useNow(tickMs = NOW_TICK_MS): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), tickMs);
    return () => clearInterval(timer);
  }, [tickMs]);
  return now;
}
