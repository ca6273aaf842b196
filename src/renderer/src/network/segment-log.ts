// The network view's log of recent segments: entries arrive oldest first in batches (those
// after the last sequence number seen) and are shown newest first, at most a fixed number.
import type { TransportStats } from '../../../shared/api.ts';
import type { SegmentLogEntry } from '../../../shared/contract.ts';

/** How many entries the view keeps and shows. */
export const VIEW_LOG_CAPACITY = 200;

/**
 * Adds a batch (oldest first) to the shown log (newest first), keeping at most `capacity`.
 * Entries already shown (same or older sequence number) are skipped, so a batch that repeats
 * entries does no harm. After a host restart, whose numbering starts again, the caller starts
 * over from an empty log (see countersReset).
 */
export function mergeLog(
  shown: readonly SegmentLogEntry[],
  batch: readonly SegmentLogEntry[],
  capacity = VIEW_LOG_CAPACITY,
): SegmentLogEntry[] {
  const newest = shown[0]?.seq ?? -1;
  const fresh: SegmentLogEntry[] = [];
  for (let i = batch.length - 1; i >= 0 && fresh.length < capacity; i--) {
    const entry = batch[i]!;
    if (entry.seq > newest) fresh.push(entry);
  }
  return fresh.concat(shown.slice(0, Math.max(0, capacity - fresh.length)));
}

/**
 * The `since` to ask for next: the newest sequence number seen, or the given one when the
 * batch is empty. Sequence numbers only grow within one host run; see mergeLog for restarts.
 */
export function nextSince(
  since: number | undefined,
  batch: readonly SegmentLogEntry[],
): number | undefined {
  const last = batch.at(-1);
  return last === undefined ? since : last.seq;
}

/**
 * Whether a cumulative counter went down between two snapshots of the same conversation: the
 * host restarted (its log numbering starts again too) or rebuilt the conversation's state.
 */
export function countersReset(prev: TransportStats, cur: TransportStats): boolean {
  return (
    prev.segmentsSent > cur.segmentsSent ||
    prev.segmentsAcked > cur.segmentsAcked ||
    prev.retransmissions > cur.retransmissions ||
    prev.segmentsReceived > cur.segmentsReceived ||
    prev.duplicatesDropped > cur.duplicatesDropped ||
    prev.bytesSent > cur.bytesSent ||
    prev.bytesReceived > cur.bytesReceived
  );
}
