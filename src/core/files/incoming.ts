// Incoming files as the transport's stream sink (transport/stream.ts): a file's first
// segment is its header, checked against the size limit, its segment count and the room on
// disk (a file that does not fit is refused, and its sender hears so); every later segment
// is a chunk at an offset, written into the file's partial file in the profile. A file that
// waits for its user's word (admission.ts) takes its header and nothing more.
import type { DataFrame, SenderReceiptKind } from '../../shared/protocol/index.ts';
import { decodeChunk, decodeFileHeader } from '../../shared/protocol/index.ts';
import { statementCache, type Db } from '../store/database.ts';
import type { MessageKey } from '../transport/context.ts';
import type { Chunk, SinkWrite, StreamSink, StreamState } from '../transport/stream.ts';
import type { FileAdmission, Held } from './admission.ts';
import { checkRoom, DiskFullError } from './disk.ts';
import { PartialFiles } from './partial.ts';

/** Where incoming files are written, and how large one may be. */
export interface IncomingFileOptions {
  /** The folder of partial files (in the profile). */
  partialDir: string;
  maxFileBytes: number;
  /** Which files wait for their user (requests, large files); without it all are taken. */
  admission?: FileAdmission;
}

/** A chunk that passed every check, to be written at its offset. */
interface ChunkWrite extends SinkWrite {
  path: string;
  offset: number;
  bytes: Uint8Array;
}

/** Takes what the sender of an incoming file says about it (see FileTransfers). */
export type SenderReceiptListener = (key: MessageKey, kind: SenderReceiptKind) => void;

type FileRow = { path: string; header: string | null; state: string; held: Held | null };

const STATES: Record<string, StreamState> = {
  receiving: 'receiving',
  cancelled: 'cancelled',
  failed: 'refused',
};

export class IncomingFiles implements StreamSink<ChunkWrite> {
  private readonly sql: ReturnType<typeof statementCache>;
  /** The partial files of files being received. */
  readonly partial: PartialFiles;
  /** The largest incoming file accepted (the profile's setting; it may change). */
  maxFileBytes: number;
  /** Sizes from stored file headers (JSON), parsed once per file rather than per segment. */
  private readonly headerSizes = new Map<string, number>();
  private senderReceiptListener: SenderReceiptListener | null = null;
  private readonly admission: FileAdmission | null;

  constructor(db: Db, options: IncomingFileOptions) {
    this.sql = statementCache(db);
    this.admission = options.admission ?? null;
    this.partial = new PartialFiles(options.partialDir);
    this.maxFileBytes = options.maxFileBytes;
  }

  measure(frame: DataFrame): number | null {
    // Every chunk holds at least a byte: no file of the allowed size has more segments.
    if (frame.segmentCount > this.maxFileBytes + 1) return null;
    if (frame.segmentIndex === 0) return 0;
    const chunk = decodeChunk(frame.payload);
    if (chunk === null || chunk.offset + chunk.bytes.length > this.maxFileBytes) return null;
    return chunk.bytes.length;
  }

  open(key: MessageKey): StreamState {
    let file = this.row(key);
    if (!file) {
      const path = this.partial.pathOf(key.author, key.authorDevice, key.id);
      const held = this.admission?.atOpen(key.author) ?? null;
      this.sql(
        `INSERT INTO files (author, author_device, id, path, state, held)
         VALUES (?, ?, ?, ?, 'receiving', ?) ON CONFLICT DO NOTHING`,
      ).run(key.author, key.authorDevice, key.id, path, held);
      file = this.row(key);
      this.partial.begin(path);
    }
    return stateOf(file);
  }

  state(key: MessageKey): StreamState | null {
    const file = this.row(key);
    return file ? stateOf(file) : null;
  }

  begin(key: MessageKey, count: number, payload: Uint8Array): string | null {
    const header = decodeFileHeader(payload);
    // The header must describe this many segments, in chunks of at least one byte.
    const fits =
      header !== null &&
      header.size <= this.maxFileBytes &&
      count <= header.size + 1 &&
      (header.size === 0 ? count === 1 : count >= 2);
    let room: string | null = null;
    // A file that waits is checked beside the files in flight when its user takes it; now,
    // only whether it could ever fit.
    const held = fits ? this.held(key, header.size) : null;
    if (fits) {
      try {
        if (this.admission) {
          this.admission.checkRoom(this.partial.dir, key, header.size, held !== null);
        } else checkRoom(this.partial.dir, header.size);
      } catch (e) {
        if (!(e instanceof DiskFullError)) throw e;
        room = `refused: ${e.message}`;
      }
    }
    if (fits && room === null) {
      this.sql(
        'UPDATE files SET header = ?, held = ? WHERE author = ? AND author_device = ? AND id = ?',
      ).run(JSON.stringify(header), held, key.author, key.authorDevice, key.id);
      return null;
    }
    const why =
      room ??
      (header === null
        ? 'the sender described the file in a way this version does not understand'
        : header.size > this.maxFileBytes
          ? `the file is larger than the ${this.maxFileBytes}-byte limit`
          : 'the file header does not match its segments');
    this.sql(
      `UPDATE files SET state = 'failed', error = ? WHERE author = ? AND author_device = ? AND id = ?`,
    ).run(why, key.author, key.authorDevice, key.id);
    const file = this.row(key);
    if (file) this.partial.remove(file.path);
    return why;
  }

  place(key: MessageKey, index: number, payload: Uint8Array): ChunkWrite | null {
    const chunk = decodeChunk(payload);
    return chunk === null ? null : this.placeChunk(key, index, chunk);
  }

  placeChunk(key: MessageKey, index: number, chunk: Chunk): ChunkWrite | null {
    const file = this.row(key);
    if (!file) return null;
    const size = file.header === null ? null : this.headerSize(file.header);
    if (size !== null && chunk.offset + chunk.bytes.length > size) return null;
    return {
      slot: `${file.path}#${index}`,
      path: file.path,
      offset: chunk.offset,
      bytes: chunk.bytes,
    };
  }

  write(w: ChunkWrite): Promise<void> {
    return this.partial.write(w.path, w.offset, w.bytes);
  }

  recorded(w: ChunkWrite): void {
    this.partial.recorded(w.path, w.offset, w.bytes);
  }

  senderReceipt(key: MessageKey, kind: SenderReceiptKind): void {
    this.senderReceiptListener?.(key, kind);
  }

  /** Whoever decides what a sender's withdrawal, pause or resume means (one listener). */
  onSenderReceipt(listener: SenderReceiptListener): void {
    this.senderReceiptListener = listener;
  }

  /**
   * The user takes a file that waited: throws DiskFullError when it does not fit on the disk
   * beside the files already arriving (it keeps waiting).
   */
  take(key: MessageKey): void {
    const row = this.row(key);
    if (!row) return;
    if (row.header !== null && this.admission !== null) {
      this.admission.checkRoom(this.partial.dir, key, this.headerSize(row.header));
    }
    this.hold(key, null);
  }

  /** Sets why a file waits (null: it does not). */
  hold(key: MessageKey, held: Held | null): void {
    this.sql('UPDATE files SET held = ? WHERE author = ? AND author_device = ? AND id = ?').run(
      held,
      key.author,
      key.authorDevice,
      key.id,
    );
  }

  /** Incoming files whose segments are all in but which are not verified yet. */
  awaitingVerification(): MessageKey[] {
    return this.sql(
      `SELECT m.author, m.author_device AS authorDevice, m.id FROM messages m
         JOIN files f ON f.author = m.author AND f.author_device = m.author_device AND f.id = m.id
       WHERE m.body IS NULL AND m.received = m.segment_count AND f.state IN ('receiving', 'verifying')`,
    ).all() as MessageKey[];
  }

  close(): void {
    this.partial.close();
  }

  /**
   * Whether a file whose header says `size` waits, and why (null: it is taken now). Accepting
   * a request before its file's header came does not take a file over the auto-download size.
   */
  private held(key: MessageKey, size: number): Held | null {
    return this.admission?.atHeader(key.author, size) ?? null;
  }

  private row(key: MessageKey): FileRow | undefined {
    return this.sql(
      `SELECT path, header, state, held FROM files
       WHERE author = ? AND author_device = ? AND id = ?`,
    ).get(key.author, key.authorDevice, key.id) as FileRow | undefined;
  }

  private headerSize(header: string): number {
    let size = this.headerSizes.get(header);
    if (size === undefined) {
      size = (JSON.parse(header) as { size: number }).size;
      if (this.headerSizes.size >= 64) this.headerSizes.clear();
      this.headerSizes.set(header, size);
    }
    return size;
  }
}

function stateOf(file: FileRow | undefined): StreamState {
  if (file?.state === 'receiving' && file.held !== null) return 'waiting';
  return (file !== undefined && STATES[file.state]) || 'over';
}
