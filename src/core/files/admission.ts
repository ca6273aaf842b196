// Which incoming files are taken now, and which wait for their user's word: a file from a
// message request waits until its sender is accepted; one over the auto-download size waits
// for a click (Download, `strata download KEY`). A waiting file writes nothing to disk: only
// its header (segment 0) is kept. A file taken must fit on the disk together with what the
// files already arriving still need, not just alone.
import { statementCache, type Db } from '../store/database.ts';
import type { MessageKey } from '../transport/context.ts';
import { DEFAULT_RESERVE_BYTES, DiskFullError, freeBytes } from './disk.ts';

/** Why an incoming file waits (the files table's `held`). */
export type Held = 'request' | 'size';

export interface AdmissionPolicy {
  /** Whether the peer is an accepted contact (a request's files wait). */
  accepted(user: string): boolean;
  /** The auto-download size in force. */
  autoDownloadBytes(): number;
  /** Free bytes on the file system holding `dir` (tests give their own). */
  freeBytes?: (dir: string) => number;
  /** Bytes always left free (DEFAULT_RESERVE_BYTES). */
  reserveBytes?: number;
}

type InFlightRow = MessageKey & { header: string; count: number; chunks: number };

export class FileAdmission {
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly policy: AdmissionPolicy;

  constructor(db: Db, policy: AdmissionPolicy) {
    this.sql = statementCache(db);
    this.policy = policy;
  }

  /** A file starts arriving from `author`: held when they are a message request. */
  atOpen(author: string): Held | null {
    return this.policy.accepted(author) ? null : 'request';
  }

  /** Its header says `size`: still held for its sender, held for its size, or taken. */
  atHeader(author: string, size: number): Held | null {
    if (!this.policy.accepted(author)) return 'request';
    return size > this.policy.autoDownloadBytes() ? 'size' : null;
  }

  /**
   * Throws DiskFullError unless `dir` has room for `size` more bytes beside what every other
   * incoming file being received (`key` excepted) still needs, and the reserve; `alone`: for
   * the file alone (one that waits: it could never be taken, so it is refused at once).
   */
  checkRoom(dir: string, key: MessageKey, size: number, alone = false): void {
    const inFlight = alone ? 0 : this.inFlightBytes(key);
    const reserve = this.policy.reserveBytes ?? DEFAULT_RESERVE_BYTES;
    const available = (this.policy.freeBytes ?? freeBytes)(dir);
    if (size + inFlight + reserve > available) {
      throw new DiskFullError(dir, size, reserve, available, inFlight);
    }
  }

  /** Bytes the incoming files being received (all but `except`) still have to write. */
  inFlightBytes(except: MessageKey): number {
    const rows = this.sql(
      `SELECT f.author, f.author_device AS authorDevice, f.id, f.header,
         m.segment_count AS count,
         (SELECT count(*) FROM in_file_segments s WHERE s.author = f.author
            AND s.author_device = f.author_device AND s.message_id = f.id AND s.idx > 0) AS chunks
       FROM files f JOIN messages m
         ON m.author = f.author AND m.author_device = f.author_device AND m.id = f.id
       WHERE f.state = 'receiving' AND f.held IS NULL AND f.header IS NOT NULL
         AND m.direction = 'in'`,
    ).all() as InFlightRow[];
    let total = 0;
    for (const r of rows) {
      if (
        r.author === except.author &&
        r.authorDevice === except.authorDevice &&
        r.id === except.id
      )
        continue;
      const size = (JSON.parse(r.header) as { size: number }).size;
      // Every chunk but the last is full: the chunk size follows from the size and the count.
      const chunk = r.count > 1 ? Math.ceil(size / (r.count - 1)) : 0;
      total += Math.max(0, size - r.chunks * chunk);
    }
    return total;
  }
}
