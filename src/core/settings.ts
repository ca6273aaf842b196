// The engine's settings: the transport's (X, N, K) and the files', their defaults and checks.
import { isAbsolute } from 'node:path';
import type { TransportSettings } from '../shared/api.ts';
import { MessengerError } from './errors.ts';
import type { FileSettings } from './files/transfers.ts';
import { DEFAULT_SEGMENT_SIZE, checkSegmentSize } from './transport/segments.ts';

export const DEFAULT_SETTINGS: TransportSettings = {
  segmentSize: DEFAULT_SEGMENT_SIZE,
  assemblyPeriodMs: 1000,
  idleCycles: 3,
};
export const DEFAULT_MAX_FILE_BYTES = 8 * 1024 ** 3;
/** Files from accepted contacts up to this size download by themselves (larger ones wait). */
export const DEFAULT_AUTO_DOWNLOAD_BYTES = 100 * 1024 ** 2;

export function checkSettings(s: TransportSettings): void {
  checkSegmentSize(s.segmentSize);
  if (
    !Number.isInteger(s.assemblyPeriodMs) ||
    s.assemblyPeriodMs < 50 ||
    s.assemblyPeriodMs > 60_000
  ) {
    throw new MessengerError('the assembly period must be 50 to 60000 ms');
  }
  if (!Number.isInteger(s.idleCycles) || s.idleCycles < 1 || s.idleCycles > 3) {
    throw new MessengerError('idle cycles (K) must be 1, 2 or 3');
  }
}

export function checkFileSettings(s: FileSettings): void {
  if (typeof s.downloadsDir !== 'string' || !isAbsolute(s.downloadsDir)) {
    throw new MessengerError('the downloads folder must be an absolute path');
  }
  if (!Number.isSafeInteger(s.maxFileBytes) || s.maxFileBytes < 1) {
    throw new MessengerError('the largest file must be a positive number of bytes');
  }
  if (!Number.isSafeInteger(s.autoDownloadBytes) || s.autoDownloadBytes < 0) {
    throw new MessengerError('the auto-download size must be a whole number of bytes ≥ 0');
  }
}
