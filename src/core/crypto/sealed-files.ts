// Files, sealed end to end: decorators of the transport's stream source and sink
// (transport/stream.ts) that src/core/files never sees through. Segment 0 (the header) is a
// sealed body like a text's; every later segment keeps its chunk offset in clear (the
// receiver places it by that, and it says nothing the segment's index does not) and carries
// the chunk's bytes sealed with the file's chunk key, bound to that offset.
import { CHUNK_OFFSET_BYTES, decodeChunk, type DataFrame } from '../../shared/protocol/index.ts';
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
import { chunkKey, openChunk, sealChunk, TAG_BYTES, type ContentCipher } from './content.ts';

/** What sealing adds to a chunk segment: the tag. */
export const CHUNK_SEAL_BYTES = TAG_BYTES;

/** Reads a file's segments through `inner`, sealing each chunk with the file's key. */
export function sealedSource(inner: StreamSource, cipher: () => ContentCipher): StreamSource {
  return {
    open(spec: StreamSpec): StreamReader {
      const reader = inner.open(spec);
      if (!spec.contentKey) return reader;
      const key = chunkKey(spec.contentKey);
      return {
        read(index) {
          const plain = reader.read(index);
          if (index === 0) return plain;
          const chunk = decodeChunk(plain)!;
          const sealed = sealChunk(key, chunk.offset, chunk.bytes, cipher());
          const out = new Uint8Array(CHUNK_OFFSET_BYTES + sealed.length);
          out.set(plain.subarray(0, CHUNK_OFFSET_BYTES));
          out.set(sealed, CHUNK_OFFSET_BYTES);
          return out;
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
  /** The key of the file's chunks once its header is opened; null before. */
  chunkKey(key: MessageKey): Uint8Array | null;
  /** A sealed header arrived (inside the burst's transaction): keep it and open it. */
  header(key: MessageKey, count: number, sealed: Uint8Array): void;
  cipher(): ContentCipher;
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
    const fileKey = this.hooks.chunkKey(key);
    if (fileKey === null) return 'later';
    const chunk = decodeChunk(payload);
    if (chunk === null) return null;
    const bytes = openChunk(fileKey, chunk.offset, chunk.bytes, this.hooks.cipher());
    if (bytes === null) return 'later';
    const plain = new Uint8Array(CHUNK_OFFSET_BYTES + bytes.length);
    plain.set(payload.subarray(0, CHUNK_OFFSET_BYTES));
    plain.set(bytes, CHUNK_OFFSET_BYTES);
    return this.inner.place(key, index, plain);
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
