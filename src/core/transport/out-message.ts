// One outgoing message while it is being sent: where each segment's bytes come from (a slice
// of the text, or a file read segment by segment) and each segment's state (sent how often,
// held by the relay, acknowledged by the peer).
import { CHUNK_OFFSET_BYTES, writeChunkOffset } from '../../shared/protocol/index.ts';
import { FileSource } from '../files/source.ts';
import { segmentBounds, segmentCount } from './segments.ts';

export interface OutMessage {
  peer: string;
  /** The payload of segment `index`: a slice of the text, or a file's header or chunk. */
  read: (index: number) => Uint8Array;
  /** A file's source, open while the file is being sent; null for text. */
  file: FileSource | null;
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
}

/** A segment's marks as stored in `out_segments`. */
export interface SegmentMarks {
  idx: number;
  held: number;
  acked: number;
}

/** The message a row describes, with no segment marked yet. */
export function outMessageOf(r: OutRow, now: number): OutMessage {
  if (r.path === null) return textMessage(r.peer, new Uint8Array(r.body), r.size, now);
  const header = new Uint8Array(r.body);
  const file = new FileSource(r.path, { size: r.fileSize!, mtimeMs: r.mtimeMs! });
  const size = r.fileSize!;
  const chunk = r.size;
  let scratch: Uint8Array | null = null;
  return {
    ...emptyOutMessage(r.peer, r.size, r.count, now),
    file,
    read: (index) => {
      if (index === 0) return header;
      const offset = (index - 1) * chunk;
      const length = Math.min(chunk, size - offset);
      // One buffer per file, read into again for every segment: the frame is encoded
      // (copied) before send() returns, and nothing keeps a payload after that.
      if (scratch === null || scratch.length < CHUNK_OFFSET_BYTES + length) {
        scratch = new Uint8Array(CHUNK_OFFSET_BYTES + chunk);
      }
      const payload = scratch.subarray(0, CHUNK_OFFSET_BYTES + length);
      writeChunkOffset(payload, offset);
      file.readInto(payload, CHUNK_OFFSET_BYTES, offset, length);
      return payload;
    },
  };
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
