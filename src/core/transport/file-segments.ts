// Incoming files' segments, as the receiver stores them: the header (checked against the
// limit and the disk's room, refused when it does not fit), and chunks written into the
// partial file before they are recorded, so that only what is on disk is acknowledged.
import type { DataFrame } from '../../shared/protocol/index.ts';
import { decodeChunk, decodeFileHeader } from '../../shared/protocol/index.ts';
import { checkRoom, DiskFullError } from '../files/disk.ts';
import { PartialFiles } from '../files/partial.ts';
import type { MessageKey, TransportContext } from './context.ts';
import type { StoreResult } from './receiver.ts';

/** Where incoming files are written, and how large one may be. */
export interface FileOptions {
  /** The folder of partial files (in the profile); null refuses incoming files. */
  partialDir: string | null;
  maxFileBytes: number;
}

/** The row of the message a segment belongs to (see Receiver.incomingRow). */
export type IncomingRow = (
  frame: DataFrame,
  peer: string,
  segmentSize: number,
) => { received: number } | null;

export class IncomingFiles {
  private readonly ctx: TransportContext;
  private readonly incomingRow: IncomingRow;
  /** Incoming files' partial files; null when this transport takes no files. */
  readonly partial: PartialFiles | null;
  /** The largest incoming file accepted (the profile's setting; it may change). */
  maxFileBytes: number;
  /** Incoming files whose last segment could not be written (disk full...). */
  private readonly writeFailures = new Set<string>();
  /** Sizes from stored file headers (JSON), parsed once per file rather than per segment. */
  private readonly headerSizes = new Map<string, number>();

  constructor(ctx: TransportContext, files: FileOptions, incomingRow: IncomingRow) {
    this.ctx = ctx;
    this.incomingRow = incomingRow;
    this.partial = files.partialDir === null ? null : new PartialFiles(files.partialDir);
    this.maxFileBytes = files.maxFileBytes;
  }

  close(): void {
    this.partial?.close();
  }

  /**
   * Writes one segment of an incoming file into its partial file (inside the caller's
   * transaction) and records it; a segment that cannot be written is not recorded, so it is
   * not acknowledged and the sender sends it again.
   */
  store(frame: DataFrame, peer: string): StoreResult | PendingWrite {
    const { from, fromDevice, messageId: id, segmentCount: count, segmentIndex: index } = frame;
    const partial = this.partial;
    if (partial === null) return 'duplicate';
    // Every chunk holds at least a byte: no file of the allowed size has more segments.
    if (count > this.maxFileBytes + 1) return 'duplicate';
    const chunk = index === 0 ? null : decodeChunk(frame.payload);
    if (index > 0 && (chunk === null || chunk.offset + chunk.bytes.length > this.maxFileBytes)) {
      return 'duplicate';
    }
    const direction = from === this.ctx.me.user ? 'out' : 'in';
    if (this.incomingRow(frame, peer, chunk === null ? 0 : chunk.bytes.length) === null) {
      return 'duplicate';
    }
    type File = { path: string; header: string | null; state: string };
    let file = this.ctx.q.fileOf.get(from, fromDevice, id) as File | undefined;
    if (!file) {
      const path = partial.pathOf(from, fromDevice, id);
      this.ctx.q.insertInFile.run(from, fromDevice, id, path);
      file = this.ctx.q.fileOf.get(from, fromDevice, id) as File | undefined;
      partial.begin(path);
    }
    if (!file) return 'duplicate';
    const closed = closedFileResult(file.state, direction === 'in');
    if (closed !== null) return closed;
    if (index > 0) {
      // A chunk is recorded only once its bytes are on disk: it is written first, off the
      // event loop, and recordWritten() records (and counts) it.
      if (this.ctx.q.hasInFileSegment.get(from, fromDevice, id, index)) return 'duplicate';
      const size = file.header === null ? null : this.headerSize(file.header);
      if (size !== null && chunk!.offset + chunk!.bytes.length > size) return 'duplicate';
      return { frame, path: file.path, offset: chunk!.offset, bytes: chunk!.bytes };
    }
    if (this.ctx.q.insertInFileSegment.run(from, fromDevice, id, index).changes === 0) {
      return 'duplicate';
    }
    {
      const header = decodeFileHeader(frame.payload);
      // The header must describe this many segments, in chunks of at least one byte.
      const fits =
        header !== null &&
        header.size <= this.maxFileBytes &&
        count <= header.size + 1 &&
        (header.size === 0 ? count === 1 : count >= 2);
      let room: string | null = null;
      if (fits) {
        try {
          checkRoom(partial.dir, header.size);
        } catch (e) {
          if (!(e instanceof DiskFullError)) throw e;
          room = `refused: ${e.message}`;
        }
      }
      if (!fits || room !== null) {
        const why =
          room ??
          (header === null
            ? 'the sender described the file in a way this version does not understand'
            : header.size > this.maxFileBytes
              ? `the file is larger than the ${this.maxFileBytes}-byte limit`
              : 'the file header does not match its segments');
        this.ctx.q.fileFailedIn.run(why, from, fromDevice, id);
        partial.remove(file.path);
        return 'failed';
      }
      this.ctx.q.fileHeader.run(JSON.stringify(header), from, fromDevice, id);
    }
    return this.countFileSegment(frame);
  }

  /**
   * Records a chunk once its write is over (inside the caller's transaction): a chunk that
   * could not be written is not recorded, so it is not acknowledged and the sender sends it
   * again; the file may have been cancelled or refused meanwhile.
   */
  recordWritten(w: PendingWrite, error: Error | null): StoreResult {
    const { from, fromDevice, messageId: id, segmentIndex: index } = w.frame;
    const keyText = `${from}/${fromDevice}/${id}`;
    if (error !== null) {
      // Said once per file until a write succeeds again, not once per segment.
      if (!this.writeFailures.has(keyText)) {
        this.writeFailures.add(keyText);
        this.ctx.emit(
          'fileWriteFailed',
          { author: from, authorDevice: fromDevice, id },
          error.message,
        );
      }
      return 'refused';
    }
    this.writeFailures.delete(keyText);
    const file = this.ctx.q.fileOf.get(from, fromDevice, id) as { state: string } | undefined;
    const closed = closedFileResult(file?.state, from !== this.ctx.me.user);
    if (closed !== null) return closed;
    if (this.ctx.q.insertInFileSegment.run(from, fromDevice, id, index).changes === 0) {
      return 'duplicate';
    }
    this.partial?.recorded(w.path, w.offset, w.bytes);
    return this.countFileSegment(w.frame);
  }

  /** Counts a recorded segment of a file: its first, another, or the last one. */
  private countFileSegment(frame: DataFrame): StoreResult {
    const { from, fromDevice, messageId: id, segmentCount: count } = frame;
    this.ctx.q.progress.run(from, fromDevice, id);
    const { received } = this.ctx.q.message.get(from, fromDevice, id) as { received: number };
    if (received === 1) this.ctx.emit('fileActivity');
    if (received < count) return received === 1 ? 'first' : 'stored';
    return 'fileComplete';
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

  /** Incoming files whose segments are all in but which are not verified yet. */
  awaitingVerification(): MessageKey[] {
    return this.ctx.q.awaitingVerification.all() as MessageKey[];
  }

  /** Writes a chunk at its offset, off the event loop; resolves to the error, if any. */
  write(w: PendingWrite): Promise<Error | null> {
    return this.partial!.write(w.path, w.offset, w.bytes).then(
      () => null,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    );
  }
}

/**
 * What becomes of a segment of a file no longer receiving (null while it is). Still coming
 * after we cancelled or refused it: the sender has not heard (our receipt may have been lost
 * while we were offline), so it is dropped and the receipt goes again.
 */
function closedFileResult(state: string | undefined, incoming: boolean): StoreResult | null {
  if (state === 'receiving') return null;
  if (incoming && state === 'cancelled') return 'cancelledFile';
  if (incoming && state === 'failed') return 'refusedFile';
  return 'duplicate';
}

/** A chunk of a file that passed every check, to be written at its offset and then recorded. */
export interface PendingWrite {
  frame: DataFrame;
  path: string;
  offset: number;
  bytes: Uint8Array;
}
