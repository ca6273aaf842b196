// One outgoing message while it is being sent: where each segment's bytes come from (a slice
// of the text, or a file read segment by segment) and each segment's state (sent how often,
// held by the relay, acknowledged by the peer).
import { segmentBounds, segmentCount } from './segments.ts';
import type { StreamReader, StreamSource } from './stream.ts';

export interface OutMessage {
  peer: string;
  /** The payload of segment `index`: a slice of the text, or a file's header or chunk. */
  read: (index: number) => Uint8Array;
  /** A streamed message's (a file's) reader, open while it is being sent; null for text. */
  file: StreamReader | null;
  size: number;
  count: number;
  /** When this run started sending it (for the attempt limit). */
  since: number;
  acked: Uint8Array;
  held: Uint8Array;
  sends: Uint16Array;
  ackedCount: number;
  heldCount: number;
  /** Segments held by the relay or acknowledged by the peer: all of them means sent. */
  coveredCount: number;
}

/** A row describing one of our messages, with its file when it is one. */
export interface OutRow {
  peer: string;
  body: Buffer;
  size: number;
  count: number;
  path: string | null;
  fileSize: number | null;
  mtimeMs: number | null;
  fileState: string | null;
  /** A sealed file's content key (its chunks are sealed with a key derived from it). */
  contentKey?: Buffer | null;
}

/** A segment's marks as stored in `out_segments`. */
export interface SegmentMarks {
  idx: number;
  held: number;
  acked: number;
}

/** The message a row describes, with no segment marked yet; a stream's comes from `streams`. */
export function outMessageOf(r: OutRow, now: number, streams: StreamSource | null): OutMessage {
  if (r.path === null) return textMessage(r.peer, new Uint8Array(r.body), r.size, now);
  if (streams === null) throw new Error('this transport sends no streamed messages');
  const file = streams.open({
    header: new Uint8Array(r.body),
    path: r.path,
    identity: { size: r.fileSize!, mtimeMs: r.mtimeMs! },
    chunk: r.size,
    contentKey: r.contentKey ? new Uint8Array(r.contentKey) : null,
  });
  return { ...emptyOutMessage(r.peer, r.size, r.count, now), file, read: (i) => file.read(i) };
}

/** A text message, cut into segments of `size` bytes. */
export function textMessage(peer: string, body: Uint8Array, size: number, now: number): OutMessage {
  const count = segmentCount(body.length, size);
  return {
    ...emptyOutMessage(peer, size, count, now),
    read: (index) => {
      const [start, end] = segmentBounds(index, body.length, size);
      return body.subarray(start, end);
    },
  };
}

function emptyOutMessage(
  peer: string,
  size: number,
  count: number,
  now: number,
): Omit<OutMessage, 'read'> {
  return {
    peer,
    file: null,
    size,
    count,
    since: now,
    acked: new Uint8Array(count),
    held: new Uint8Array(count),
    sends: new Uint16Array(count),
    ackedCount: 0,
    heldCount: 0,
    coveredCount: 0,
  };
}

/** Sets a segment's flag; returns false if it was set already. */
export function markSegment(msg: OutMessage, flag: 'acked' | 'held', index: number): boolean {
  if (index >= msg.count || msg[flag][index]) return false;
  if (!msg.acked[index] && !msg.held[index]) msg.coveredCount++;
  msg[flag][index] = 1;
  if (flag === 'acked') msg.ackedCount++;
  else msg.heldCount++;
  return true;
}

/** Marks what the database says was held or acknowledged. */
export function restoreMarks(msg: OutMessage, marks: Iterable<SegmentMarks>): void {
  for (const m of marks) {
    if (m.held) markSegment(msg, 'held', m.idx);
    if (m.acked) markSegment(msg, 'acked', m.idx);
  }
}
