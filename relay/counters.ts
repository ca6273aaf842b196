// The relay's own counters, shared by its modules (admission, routing, the offline queue).
import type { Metrics } from './metrics.ts';

export function relayCounters(m: Metrics) {
  return {
    framesIn: m.counter('frames_in', 'Frames received from clients, by type.', 'type'),
    framesOut: m.counter('frames_out', 'Frames written to clients, by type.', 'type'),
    bytesIn: m.counter('bytes_in', 'Bytes received from clients.'),
    bytesOut: m.counter('bytes_out', 'Bytes written to clients.'),
    rejected: m.counter('frames_rejected', 'Frames refused, by reason.', 'reason'),
    stored: m.counter('offline_queued', 'Frames stored for offline devices.'),
    storedDelivered: m.counter('offline_delivered', 'Stored frames delivered on reconnect.'),
    expired: m.counter('offline_expired', 'Stored frames discarded at the age limit.'),
    backlogs: m.counter(
      'slow_recipient_backlogs',
      'Times a connected recipient fell a send buffer behind and its frames went to the store.',
    ),
    connections: m.counter('connections_opened', 'WebSocket connections accepted.'),
    connectionsRefused: m.counter(
      'connections_refused',
      'TCP connections refused or closed by a limit per address or of the relay, by reason.',
      'reason',
    ),
    closedForAbuse: m.counter('connections_closed_abuse', 'Connections closed for abuse.'),
  };
}

export type RelayCounters = ReturnType<typeof relayCounters>;
