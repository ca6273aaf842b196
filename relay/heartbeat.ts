// The relay's half of the heartbeat: a WebSocket ping to every connection each interval,
// and a connection that has sent nothing at all since the last ping (no pong, no frame) is
// dropped. TCP alone never tells the relay of a link that died silently (no FIN, no RST):
// the user would stay online in presence, and frames would be queued into a dead socket,
// until TCP gave up after some fifteen minutes. A dead link is now dropped after one to two
// intervals, and presence goes offline. Clients answer pings themselves (ws does, and so
// does every browser), so this needs nothing from them. docs/relay.md, "Heartbeat".
import type { WebSocket } from 'ws';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

/** A connection as the heartbeat needs it: its socket, and its name for the log. */
export interface Beating {
  readonly ws: WebSocket;
  readonly label: string;
}

/**
 * Starts pinging the open connections every `intervalMs` (none if 0) and returns the timers
 * to clear when the relay closes.
 */
export function startHeartbeat(
  connections: Iterable<Beating>,
  intervalMs: number,
  log: Logger,
  metrics: Metrics,
): ReturnType<typeof setInterval>[] {
  const dropped = metrics.counter(
    'heartbeat_timeouts',
    'Connections dropped for answering nothing, not even a ping, for a heartbeat interval.',
  );
  if (intervalMs <= 0) return [];
  /** Per connection: whether anything came from it since the last ping. */
  const heard = new WeakMap<WebSocket, { since: boolean }>();
  const sweep = () => {
    for (const { ws, label } of connections) {
      if (ws.readyState !== ws.OPEN) continue;
      let state = heard.get(ws);
      if (ws.isPaused) {
        // The relay is not reading it: its silence is ours. Once reading resumes it has a
        // whole interval again.
        if (state) state.since = true;
        continue;
      }
      if (!state) {
        const fresh = { since: false };
        const mark = () => (fresh.since = true);
        // Any frame counts as an answer: behind a queue of data, a pong may come late.
        ws.on('pong', mark);
        ws.on('message', mark);
        heard.set(ws, fresh);
        state = fresh;
      } else if (!state.since) {
        dropped();
        log.info(`dropping ${label}: nothing from it, not even a pong, for ${intervalMs / 1000} s`);
        // No close handshake: whatever is on the other side of this link cannot take part.
        ws.terminate();
        continue;
      }
      state.since = false;
      ws.ping();
    }
  };
  return [setInterval(sweep, intervalMs)];
}
