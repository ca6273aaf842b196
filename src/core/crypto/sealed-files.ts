// Files, sealed end to end: decorators of the transport's stream source and sink
// (transport/stream.ts) that src/core/files never sees through. Segment 0 (the header) is a
// sealed body like a text's; every later segment keeps its chunk offset in clear (the
// receiver places it by that, and it says nothing the segment's index does not) and carries
// the chunk's bytes sealed with the file's chunk key, bound to that offset.
import { CHUNK_OFFSET_BYTES, type DataFrame } from '../../shared/protocol/index.ts';
import type { MessageKey } from '../transport/context.ts';
import {
  SegmentDropped,
  type SinkWrite,
  type StreamReader,
  type StreamSink,
  type StreamSource,
  type StreamSpec,
  type StreamState,
} from '../transport/stream.ts';
import type { SenderReceiptKind } from '../../shared/protocol/index.ts';
import { ChunkCipher, TAG_BYTES, type ContentCipher } from './content.ts';

/** What sealing adds to a chunk segment: the tag. */
export const CHUNK_SEAL_BYTES = TAG_BYTES;

/** Reads a file's segments through `inner`, sealing each chunk with the file's key. */
export function sealedSource(inner: StreamSource, cipher: () => ContentCipher): StreamSource {
  return {
    open(spec: StreamSpec): StreamReader {
      const reader = inner.open(spec);
      if (!spec.contentKey) return reader;
      const chunks = new ChunkCipher(spec.contentKey, cipher());
      // One buffer per file, sealed into again for every segment: the frame is encoded
      // (copied) before the next read, as the source's own buffer is.
      let scratch: Uint8Array | null = null;
      return {
        read(index) {
          const plain = reader.read(index);
          if (index === 0) return plain;
          const length = plain.length + CHUNK_SEAL_BYTES;
          if (scratch === null || scratch.length < length) scratch = new Uint8Array(length);
          return chunks.seal(plain, scratch.subarray(0, length));
        },
        close() {
          reader.close();
        },
      };
    },
  };
}

/** What the sink needs of the crypto pipeline. */
export interface SealedSinkHooks {
  /** The file's chunk cipher once its header is opened; null before. */
  chunks(key: MessageKey): ChunkCipher | null;
  /**
   * Settles once the file's header, which has arrived, is opened (true) or could not be
   * (false); null when no header of it waits to be opened.
   */
  whenOpened(key: MessageKey): Promise<boolean> | null;
  /** A sealed header arrived (inside the burst's transaction): keep it and open it. */
  header(key: MessageKey, count: number, sealed: Uint8Array): void;
}

/**
 * A chunk that came while its file's header was being opened: its write waits for that
 * (a few milliseconds), then opens and places it; nothing of it reaches the disk before.
 */
interface DeferredChunk<W extends SinkWrite> extends SinkWrite {
  ready: Promise<W | null>;
  inner: W | null;
}

/**
 * Incoming files through `inner` (src/core/files' sink) once opened: the header is kept
 * sealed until the pipeline opens it and hands it to `inner.begin`; a chunk is taken only
 * after that, and only when its seal checks. A chunk that comes while the header is being
 * opened waits for it; one that comes before the header, or whose seal does not check, is
 * dropped unacknowledged, for the sender to send again. So nothing of a file is written
 * before its header has been opened and checked.
 */
export class SealedSink<W extends SinkWrite> implements StreamSink<W | DeferredChunk<W>> {
  readonly inner: StreamSink<W>;
  private readonly hooks: SealedSinkHooks;

  constructor(inner: StreamSink<W>, hooks: SealedSinkHooks) {
    this.inner = inner;
    this.hooks = hooks;
  }

  measure(frame: DataFrame): number | null {
    if (frame.segmentIndex === 0) return this.inner.measure(frame);
    if (frame.payload.length < CHUNK_OFFSET_BYTES + CHUNK_SEAL_BYTES) return null;
    const plain = frame.payload.subarray(0, frame.payload.length - CHUNK_SEAL_BYTES);
    return this.inner.measure({ ...frame, payload: plain });
  }

  open(key: MessageKey): StreamState {
    return this.inner.open(key);
  }

  state(key: MessageKey): StreamState | null {
    return this.inner.state(key);
  }

  begin(key: MessageKey, count: number, payload: Uint8Array): string | null {
    this.hooks.header(key, count, payload.slice());
    return null;
  }

  place(
    key: MessageKey,
    index: number,
    payload: Uint8Array,
  ): W | DeferredChunk<W> | null | 'later' {
    const chunks = this.hooks.chunks(key);
    if (chunks !== null) return this.placeOpened(chunks, key, index, payload);
    const opened = this.hooks.whenOpened(key);
    if (opened === null) return 'later';
    const sealed = payload.slice();
    const deferred: DeferredChunk<W> = {
      slot: `${key.author}/${key.authorDevice}/${key.id}#${index}`,
      inner: null,
      ready: opened.then((ok) => {
        // Opened, and taking chunks (not a file that waits for its user, or was refused).
        const c = ok && this.inner.state(key) === 'receiving' ? this.hooks.chunks(key) : null;
        const w = c === null ? null : this.placeOpened(c, key, index, sealed);
        return w === 'later' ? null : w;
      }),
    };
    return deferred;
  }

  private placeOpened(
    chunks: ChunkCipher,
    key: MessageKey,
    index: number,
    payload: Uint8Array,
  ): W | null | 'later' {
    if (this.inner.placeChunk) {
      // Opened straight into the sink's chunk: no copy of the bytes with their offset.
      const chunk = chunks.openChunk(payload);
      return chunk === null ? 'later' : this.inner.placeChunk(key, index, chunk);
    }
    const plain = chunks.open(payload);
    return plain === null ? 'later' : this.inner.place(key, index, plain);
  }

  async write(w: W | DeferredChunk<W>): Promise<void> {
    if (!isDeferred(w)) return this.inner.write(w);
    w.inner = await w.ready;
    if (w.inner === null) throw new SegmentDropped('its file could not be opened');
    return this.inner.write(w.inner);
  }

  recorded(w: W | DeferredChunk<W>): void {
    if (!isDeferred(w)) this.inner.recorded(w);
    else if (w.inner !== null) this.inner.recorded(w.inner);
  }

  senderReceipt(key: MessageKey, kind: SenderReceiptKind): void {
    this.inner.senderReceipt(key, kind);
  }

  close(): void {
    this.inner.close();
  }
}

function isDeferred<W extends SinkWrite>(w: W | DeferredChunk<W>): w is DeferredChunk<W> {
  return 'ready' in w;
}
