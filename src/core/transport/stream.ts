// Streamed messages (files): the transport moves their segments, with the same acks,
// retransmission and custody as any message, but their bytes live elsewhere. These two small
// interfaces are all it knows of them; src/core/files implements both (disks, file headers,
// size limits and refusals are its business, not the transport's).
import type { DataFrame, SenderReceiptKind } from '../../shared/protocol/index.ts';
import type { MessageKey } from './context.ts';

/** The source of a streamed message cannot be read any more (changed, gone): it fails. */
export class StreamSourceError extends Error {
  override name = 'StreamSourceError';
}

/** What identifies the version of a source the message was sent from. */
export interface SourceIdentity {
  size: number;
  mtimeMs: number;
}

/** One of our streamed messages as stored: segment 0 is `header`, the rest come from `path`. */
export interface StreamSpec {
  header: Uint8Array;
  path: string;
  identity: SourceIdentity;
  /** The bytes of the source in each segment after the first. */
  chunk: number;
  /** The content key its chunks are sealed with (src/core/crypto); null: sent as they are. */
  contentKey?: Uint8Array | null;
}

/** The sending side: where a streamed message's segments come from. */
export interface StreamSource {
  open(spec: StreamSpec): StreamReader;
}

export interface StreamReader {
  /**
   * Segment `index`'s payload, valid until the next read (the frame is encoded before that);
   * throws StreamSourceError when the source changed or vanished.
   */
  read(index: number): Uint8Array;
  close(): void;
}

/**
 * A sink's write that turned out to have nothing to write after all (the segment was dropped
 * on its way to disk): it is neither recorded nor acknowledged, and no failure is reported.
 */
export class SegmentDropped extends Error {
  override name = 'SegmentDropped';
}

/** A later segment of a stream taken apart: where its bytes go, and the bytes. */
export interface Chunk {
  offset: number;
  bytes: Uint8Array;
}

/**
 * Where an incoming stream stands, as its sink keeps it. `waiting`: it takes its first segment
 * (the description) but no later one until its user says so (see the `wait` receipt).
 */
export type StreamState = 'receiving' | 'waiting' | 'cancelled' | 'refused' | 'over';

/** Bytes of a later segment to be written off the event loop, then recorded. */
export interface SinkWrite {
  /** Where they go: a second copy of a segment in one burst is written once. */
  readonly slot: string;
}

/**
 * The receiving side: where an incoming streamed message's segments go. The transport calls
 * it inside the transaction that stores a burst, after its own checks (the message's row,
 * duplicates); it records which segments arrived and acknowledges only those.
 */
export interface StreamSink<W extends SinkWrite = SinkWrite> {
  /**
   * Whether a segment may belong to an acceptable stream at all, checked before anything is
   * stored for it: the source's bytes it carries, or null to drop it.
   */
  measure(frame: DataFrame): number | null;
  /** The stream's state, its record made (and its state `receiving`) on its first segment. */
  open(key: MessageKey): StreamState;
  /** The stream's state, or null when it has no record. */
  state(key: MessageKey): StreamState | null;
  /** Its first segment (the description): null when taken, or why the stream is refused. */
  begin(key: MessageKey, count: number, payload: Uint8Array): string | null;
  /**
   * A later segment: what to write, null to drop it (it does not fit the stream), or `later`
   * to drop it unacknowledged, so that the sender sends it again (the stream cannot take it
   * yet, or it was damaged on the way).
   */
  place(key: MessageKey, index: number, payload: Uint8Array): W | null | 'later';
  /**
   * The same for a segment already taken apart (its offset and bytes), when the sink can:
   * a decorator that made the bytes (decrypting them) spares a copy.
   */
  placeChunk?(key: MessageKey, index: number, chunk: Chunk): W | null;
  /**
   * Writes it; rejects when the bytes could not be written (the disk is full...), or with
   * SegmentDropped when it turned out there was nothing to write.
   */
  write(w: W): Promise<void>;
  /** A write that is on disk was recorded as arrived. */
  recorded(w: W): void;
  /**
   * The stream's sender withdrew it (final), paused it or resumed it. Its record may not
   * exist yet: a withdrawal can overtake the segments.
   */
  senderReceipt(key: MessageKey, kind: SenderReceiptKind): void;
  close(): void;
}
