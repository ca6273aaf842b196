// Room on disk for a received file, checked before the transfer starts: a peer announces the
// size up front, and it is better to refuse a file the user cannot store than to fill the
// disk (and the profile's database on it) halfway through. A reserve stays free so the
// messenger itself, and everything else on the machine, can still write.
import { statfsSync } from 'node:fs';

const MiB = 1024 * 1024;

/** What checkRoom leaves free by default, beyond the file itself. */
export const DEFAULT_RESERVE_BYTES = 64 * MiB;

/** Bytes an unprivileged process may still write on the file system holding dir. */
export function freeBytes(dir: string): number {
  // bavail, not bfree: blocks kept for root are no use to the user's files.
  const { bavail, bsize } = statfsSync(dir);
  return bavail * bsize;
}

/** The file system holding a folder has no room for a file of the announced size. */
export class DiskFullError extends Error {
  override readonly name = 'DiskFullError';
  readonly dir: string;
  /** The file's size plus the reserve. */
  readonly needed: number;
  readonly available: number;

  constructor(dir: string, bytes: number, reserve: number, available: number, inFlight = 0) {
    const others =
      inFlight > 0 ? `, ${formatBytes(inFlight)} still to come for the files already arriving` : '';
    super(
      `not enough free space in ${dir}: need ${formatBytes(bytes + inFlight + reserve)}, ` +
        `have ${formatBytes(available)} ` +
        `(${formatBytes(bytes)} for the file${others} and ${formatBytes(reserve)} kept free)`,
    );
    this.dir = dir;
    this.needed = bytes + inFlight + reserve;
    this.available = available;
  }
}

/**
 * Throws DiskFullError unless dir's file system has bytes + reserve free, and `inFlight` more:
 * what the files already arriving still need (each was checked alone when it began, so
 * together they could overcommit the disk).
 */
export function checkRoom(
  dir: string,
  bytes: number,
  reserve: number = DEFAULT_RESERVE_BYTES,
  inFlight = 0,
) {
  for (const [what, value] of [
    ['file size', bytes],
    ['reserve', reserve],
    ['bytes in flight', inFlight],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${what} must be a whole number of bytes ≥ 0, not ${value}`);
    }
  }
  const available = freeBytes(dir);
  if (bytes + inFlight + reserve > available) {
    throw new DiskFullError(dir, bytes, reserve, available, inFlight);
  }
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 512 → '512 B', 1536 → '1.5 KiB', 64 MiB → '64.0 MiB'. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}
