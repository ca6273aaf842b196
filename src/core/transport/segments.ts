// Segmentation: a message of any length is cut into segments of `segmentSize` bytes (the
// last one shorter); a message of zero bytes is one empty segment, so that it still
// travels and is acknowledged.
import { MAX_SEGMENT_PAYLOAD } from '../../shared/protocol/index.ts';

export const MIN_SEGMENT_SIZE = 64;
export const MAX_SEGMENT_SIZE = MAX_SEGMENT_PAYLOAD;
/**
 * Strata's own default, the largest segment the protocol carries: per-segment work (a frame,
 * its checksum, an acknowledgement, a row of state) dominates a file's cost at 16 KiB, and
 * 64 KiB doubled file goodput in bench/files.ts. The course's variants use 100 to 2000 bytes.
 */
export const DEFAULT_SEGMENT_SIZE = 64 * 1024;

export function checkSegmentSize(size: number): void {
  if (!Number.isInteger(size) || size < MIN_SEGMENT_SIZE || size > MAX_SEGMENT_SIZE) {
    throw new RangeError(
      `segment size must be an integer from ${MIN_SEGMENT_SIZE} to ${MAX_SEGMENT_SIZE} bytes, not ${size}`,
    );
  }
}

export function segmentCount(length: number, segmentSize: number): number {
  return Math.max(1, Math.ceil(length / segmentSize));
}

/** Byte offsets `[start, end)` of segment `index` in a message of `length` bytes. */
export function segmentBounds(
  index: number,
  length: number,
  segmentSize: number,
): [number, number] {
  const start = index * segmentSize;
  return [start, Math.min(length, start + segmentSize)];
}
