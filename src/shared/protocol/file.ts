// The payloads of a file message's segments (docs/protocol.md, "Files"): segment 0 is the
// file's header, every other segment is a chunk that carries its own offset. With the offset in
// the chunk, a receiver can write any segment to its place in the partial file the moment it
// arrives, in whatever order the channel delivers them, before it has even seen the header.
import { encodeUtf8 } from './bytes.ts';

export const FILE_HEADER_VERSION = 1;
/** The header's limit, whatever the segment size (its segment may exceed the usual X). */
export const MAX_FILE_HEADER_BYTES = 4096;
export const CHUNK_OFFSET_BYTES = 8;
/** The largest file the protocol describes (the app sets its own, lower limit). */
export const MAX_FILE_SIZE = 2 ** 50;
const NAME_MAX_CHARS = 1024;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface FileHeader {
  /** The name as the sender has it; a receiver sanitises it before using it. */
  name: string;
  size: number;
  /** Media type, e.g. image/png. */
  type: string;
  /** SHA-256 of the whole file, lowercase hex. */
  sha256: string;
}

export function encodeFileHeader(h: FileHeader): Uint8Array {
  const problem = checkHeader(h);
  if (problem !== null) throw new RangeError(`file header: ${problem}`);
  const json = encodeUtf8(
    JSON.stringify({ name: h.name, size: h.size, type: h.type, sha256: h.sha256 }),
  );
  if (json.length + 1 > MAX_FILE_HEADER_BYTES) throw new RangeError('file header: too long');
  const out = new Uint8Array(json.length + 1);
  out[0] = FILE_HEADER_VERSION;
  out.set(json, 1);
  return out;
}

/** The header in a segment 0, or null when it is not one this version understands. */
export function decodeFileHeader(bytes: Uint8Array): FileHeader | null {
  if (bytes.length < 2 || bytes.length > MAX_FILE_HEADER_BYTES) return null;
  if (bytes[0] !== FILE_HEADER_VERSION) return null;
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(1)));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const { name, size, type, sha256 } = v as Record<string, unknown>;
  const h = { name, size, type, sha256 } as FileHeader;
  return checkHeader(h) === null ? h : null;
}

function checkHeader(h: FileHeader): string | null {
  if (typeof h.name !== 'string' || h.name.length === 0 || h.name.length > NAME_MAX_CHARS) {
    return `name must be 1 to ${NAME_MAX_CHARS} characters`;
  }
  if (!Number.isSafeInteger(h.size) || h.size < 0 || h.size > MAX_FILE_SIZE) {
    return 'size must be a whole number of bytes';
  }
  if (typeof h.type !== 'string' || !MEDIA_TYPE.test(h.type)) return 'type must be a media type';
  if (typeof h.sha256 !== 'string' || !SHA256_HEX.test(h.sha256)) {
    return 'sha256 must be 64 lowercase hex digits';
  }
  return null;
}

/** Segments of a file of `size` bytes in chunks of `chunk` bytes: the header, then the chunks. */
export function fileSegmentCount(size: number, chunk: number): number {
  return 1 + Math.ceil(size / chunk);
}

/** A chunk segment: its offset in the file, then its bytes. */
export function encodeChunk(offset: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHUNK_OFFSET_BYTES + bytes.length);
  writeChunkOffset(out, offset);
  out.set(bytes, CHUNK_OFFSET_BYTES);
  return out;
}

/**
 * Writes a chunk segment's offset into its first CHUNK_OFFSET_BYTES: a sender then reads the
 * file straight into the rest.
 */
export function writeChunkOffset(segment: Uint8Array, offset: number): void {
  new DataView(segment.buffer, segment.byteOffset, CHUNK_OFFSET_BYTES).setBigUint64(
    0,
    BigInt(offset),
  );
}

export function decodeChunk(payload: Uint8Array): { offset: number; bytes: Uint8Array } | null {
  if (payload.length < CHUNK_OFFSET_BYTES) return null;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const offset = view.getBigUint64(0);
  if (offset > BigInt(MAX_FILE_SIZE)) return null;
  return { offset: Number(offset), bytes: payload.subarray(CHUNK_OFFSET_BYTES) };
}
