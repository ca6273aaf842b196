// Files, sealed end to end: decorators of the transport's stream source and sink
// (transport/stream.ts) that src/core/files never sees through. Segment 0 (the header) is a
// sealed body like a text's; every later segment keeps its chunk offset in clear (the
// receiver places it by that, and it says nothing the segment's index does not) and carries
// the chunk's bytes sealed with the file's chunk key, bound to that offset.
import { CHUNK_OFFSET_BYTES, type DataFrame } from '../../shared/protocol/index.ts';
import type { MessageKey } from '../transport/context.ts';
import type {
  SinkWrite,
  StreamReader,
  StreamSink,
  StreamSource,
  StreamSpec,
  StreamState,
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
  /** A sealed header arrived (inside the burst's transaction): keep it and open it. */
  header(key: MessageKey, count: number, sealed: Uint8Array): void;
}

/**
 * Incoming files through `inner` (src/core/files' sink) once opened: the header is kept
 * sealed until the pipeline opens it and hands it to `inner.begin`; a chunk is taken only
 * after that, and only when its seal checks. Until then chunks are dropped unacknowledged,
 * so nothing of a file is written before its header has been opened and checked.
 */
export class SealedSink<W extends SinkWrite> implements StreamSink<W> {
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

  place(key: MessageKey, index: number, payload: Uint8Array): W | null | 'later' {
    const chunks = this.hooks.chunks(key);
    if (chunks === null) return 'later';
    const plain = chunks.open(payload);
    return plain === null ? 'later' : this.inner.place(key, index, plain);
  }

  write(w: W): Promise<void> {
    return this.inner.write(w);
  }

  recorded(w: W): void {
    this.inner.recorded(w);
  }

  senderReceipt(key: MessageKey, kind: SenderReceiptKind): void {
    this.inner.senderReceipt(key, kind);
  }

  close(): void {
    this.inner.close();
  }
}
