// A MessageView and TransportStats for tests, with only what a test cares about spelled out.
import type { MessageView, TransportStats } from '../../../shared/api.ts';

export function message(over: Partial<MessageView> & { id: number }): MessageView {
  const author = over.author ?? (over.direction === 'in' ? 'bob' : 'alice');
  const authorDevice = over.authorDevice ?? 1;
  return {
    key: `${author}:${authorDevice}:${over.id}`,
    author,
    authorDevice,
    peer: 'bob',
    direction: 'out',
    text: 'hi',
    sentAt: over.id,
    status: 'sent',
    error: false,
    missing: [],
    segmentCount: 1,
    received: 1,
    file: null,
    ...over,
  };
}

/** Transport counters, all zero but `over`. */
export function transportStats(over: Partial<TransportStats> = {}): TransportStats {
  return {
    peer: 'bob',
    segmentsSent: 0,
    firstTransmissions: 0,
    segmentsLost: 0,
    segmentsSuperseded: 0,
    segmentsHeld: 0,
    segmentsWithdrawn: 0,
    segmentsInFlight: 0,
    segmentsCarried: 0,
    bytesAcked: 0,
    bytesLost: 0,
    bytesSuperseded: 0,
    bytesHeld: 0,
    bytesWithdrawn: 0,
    bytesCarried: 0,
    segmentsAcked: 0,
    retransmissions: 0,
    spuriousRetransmissions: 0,
    segmentsReceived: 0,
    duplicatesDropped: 0,
    bytesSent: 0,
    bytesReceived: 0,
    rttMs: 0,
    minRttMs: 0,
    windowBytes: 0,
    bytesInFlight: 0,
    lossRate: 0,
    ...over,
  };
}
