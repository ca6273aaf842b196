// The file part of a message's view: what the UI and the CLI show of a file, from its row in
// the files table and the segments that arrived (incoming) or were acknowledged (outgoing).
import { basename } from 'node:path';
import type { FileState, FileView } from '../../shared/api.ts';
import { fileFailure } from '../../shared/failures.ts';
import { decodeFileHeader, type FileHeader } from '../../shared/protocol/index.ts';
import type { statementCache } from '../store/database.ts';
import type { MessageKey } from '../transport/transport.ts';

export interface FileRow {
  path: string;
  size: number;
  header: string | null;
  state: FileState;
  error: string | null;
  /** Where a verified incoming file is being saved (until 'done' is committed). */
  savingTo: string | null;
  /** Which end cancelled it (null in rows from before this was recorded: this end). */
  cancelledBy: 'sender' | 'receiver' | null;
  /** An incoming file's sender has paused it. */
  senderPaused: 0 | 1;
  /** Why an incoming file waits for this user (admission.ts); null when it does not. */
  held: 'request' | 'size' | null;
  /**
   * One of ours whose recipient asked us to hold it (1: its state is 'paused' meanwhile), or
   * then to go on (2: from then on a `wait` from another of its devices, still undecided, is
   * not obeyed: the device that took it would never ask again).
   */
  peerHeld: 0 | 1 | 2;
}

/** The message a file view is for: its key, direction, body and segmentation. */
export interface FileMessage {
  key: MessageKey;
  direction: 'in' | 'out';
  body: Uint8Array | null;
  segmentCount: number;
  segmentSize: number;
}

export function fileView(
  sql: ReturnType<typeof statementCache>,
  me: { user: string; device: number },
  row: FileRow,
  { key, direction, body, segmentCount, segmentSize }: FileMessage,
): FileView {
  const header =
    row.header !== null
      ? (JSON.parse(row.header) as FileHeader)
      : body === null
        ? null
        : decodeFileHeader(body);
  const size = header?.size ?? null;
  let done: number;
  if (direction === 'out' && key.author === me.user && key.authorDevice === me.device) {
    const acked = sql(
      'SELECT count(*) AS n FROM out_segments WHERE message_id = ? AND acked = 1 AND idx > 0',
    ).get(key.id) as { n: number };
    done = row.state === 'done' ? (size ?? 0) : acked.n * segmentSize;
  } else {
    // Chunks written so far (segment 0 is the header).
    const chunks = sql(
      `SELECT count(*) AS n FROM in_file_segments
         WHERE author = ? AND author_device = ? AND message_id = ? AND idx > 0`,
    ).get(key.author, key.authorDevice, key.id) as { n: number };
    // The chunk size follows from the size and the count; before the header, from the
    // first chunk that came.
    const chunk =
      size !== null && segmentCount > 1 ? Math.ceil(size / (segmentCount - 1)) : segmentSize;
    done = row.state === 'done' || body !== null ? (size ?? 0) : chunks.n * chunk;
  }
  const thisEnd = direction === 'out' ? 'sender' : 'receiver';
  const held =
    row.state === 'receiving' && row.held !== null
      ? row.held
      : row.state === 'paused' && row.peerHeld === 1
        ? 'peer'
        : null;
  return {
    name: direction === 'in' && row.state === 'done' ? basename(row.path) : (header?.name ?? null),
    size,
    type: header?.type ?? null,
    sha256: header?.sha256 ?? null,
    state:
      held !== null
        ? 'waiting'
        : row.state === 'receiving' && row.senderPaused === 1
          ? 'paused'
          : row.state,
    held,
    bytesDone: size === null ? done : Math.min(done, size),
    path: direction === 'out' || row.state === 'done' ? row.path : null,
    error: row.error,
    reason: row.error === null ? null : fileFailure(row.error),
    cancelledBy:
      row.state !== 'cancelled' ? null : (row.cancelledBy ?? thisEnd) === thisEnd ? 'me' : 'peer',
  };
}
