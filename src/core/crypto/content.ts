// The content layer of end-to-end encryption (docs/security.md, "What is encrypted"): every
// message gets a fresh 256-bit content key. Its body is sealed once with that key, and the
// key alone goes to each device through that device's Signal session, in a key table that
// travels with the body. A file's chunks are sealed with a key derived from the same content
// key, one AES-256-GCM operation per segment, so that a bad segment is rejected alone and a
// resumed transfer seals each chunk again the same way. The relay and the channel see one
// body for every device: a file's bytes cross the relay once per recipient device, not once
// per key.
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { Reader, ReadFailure, Writer, encodeUtf8 } from '../../shared/protocol/bytes.ts';
import { CHUNK_OFFSET_BYTES, isValidUserName, MAX_DEVICE_ID } from '../../shared/protocol/index.ts';

/** The first byte of a sealed body: no plain message kind uses it. */
export const SEALED_MAGIC = 0xe2;
export const SEALED_VERSION = 1;
export const CONTENT_KEY_BYTES = 32;
export const TAG_BYTES = 16;
const IV_BYTES = 12;
/** What the Signal message to one device carries: version, content key, message id. */
const KEY_MESSAGE_BYTES = 1 + CONTENT_KEY_BYTES + 8;
/** Devices one body's key table may name: an account's and its peer's, both full. */
const MAX_ENTRIES = 32;

/** One device's copy of the content key, as its Signal session encrypted it. */
export interface KeyEntry {
  user: string;
  device: number;
  /** libsignal's CiphertextMessageType: 2 (whisper) or 3 (prekey). */
  type: number;
  ciphertext: Uint8Array;
}

/** A sealed body taken apart: the key table and the body's ciphertext. */
export interface SealedBody {
  entries: KeyEntry[];
  iv: Uint8Array;
  ciphertext: Uint8Array;
}

/** Which cipher seals bodies and chunks: `copy` is the benchmark's baseline only. */
export type ContentCipher = 'aes-256-gcm' | 'copy';

export class SealError extends Error {
  override name = 'SealError';
}

export function newContentKey(): Uint8Array {
  return new Uint8Array(randomBytes(CONTENT_KEY_BYTES));
}

/** What the Signal session encrypts for each device: the key, bound to the message id. */
export function keyMessage(contentKey: Uint8Array, messageId: number): Uint8Array {
  const w = new Writer(KEY_MESSAGE_BYTES);
  w.u8(SEALED_VERSION);
  w.bytesFrom(contentKey);
  w.u64(messageId);
  return w.bytes;
}

/** The content key from a decrypted key message, checked against the message's id. */
export function readKeyMessage(bytes: Uint8Array, messageId: number): Uint8Array {
  if (bytes.length !== KEY_MESSAGE_BYTES || bytes[0] !== SEALED_VERSION) {
    throw new SealError('the key message is malformed');
  }
  const r = new Reader(bytes);
  r.u8('version');
  const key = r.bytesView(CONTENT_KEY_BYTES, 'key').slice();
  if (r.u64('id') !== messageId) throw new SealError('the key was sealed for another message');
  return key;
}

/**
 * What a sealed body is: a message's body, or a control (a typing indicator or a receipt,
 * controls.ts). Each has its own associated data, so neither opens as the other.
 */
export type SealedPurpose = 'body' | 'control';

/** Who seals a body: a message's author and id (a control has id 0), and what it is. */
export interface SealAuthor {
  user: string;
  device: number;
  id: number;
  purpose?: SealedPurpose;
}

/**
 * The associated data of a body: who sent which message. The relay cannot move a sealed
 * body to another message id or sender, nor pass a control off as a message.
 */
function bodyAad({ user, device, id, purpose = 'body' }: SealAuthor): Uint8Array {
  return encodeUtf8(`strata-${purpose}/${user}/${device}/${id}`);
}

/** Seals a message body with its content key, after the key table. */
export function sealBody(
  body: Uint8Array,
  contentKey: Uint8Array,
  entries: readonly KeyEntry[],
  author: SealAuthor,
  cipher: ContentCipher = 'aes-256-gcm',
): Uint8Array {
  if (entries.length === 0 || entries.length > MAX_ENTRIES) {
    throw new SealError(`a body is sealed for 1 to ${MAX_ENTRIES} devices`);
  }
  const iv = new Uint8Array(randomBytes(IV_BYTES));
  const ciphertext = aead(cipher, true, contentKey, iv, bodyAad(author), body);
  let size = 3 + IV_BYTES + ciphertext.length;
  for (const e of entries) size += 1 + encodeUtf8(e.user).length + 4 + 1 + 2 + e.ciphertext.length;
  const w = new Writer(size);
  w.u8(SEALED_MAGIC);
  w.u8(SEALED_VERSION);
  w.u8(entries.length);
  for (const e of entries) {
    const name = encodeUtf8(e.user);
    w.u8(name.length);
    w.bytesFrom(name);
    w.u32(e.device);
    w.u8(e.type);
    w.u16(e.ciphertext.length);
    w.bytesFrom(e.ciphertext);
  }
  w.bytesFrom(iv);
  w.bytesFrom(ciphertext);
  return w.bytes;
}

/** Takes a sealed body apart; throws SealError when it is not one. */
export function parseSealed(wire: Uint8Array): SealedBody {
  try {
    const r = new Reader(wire);
    if (r.u8('magic') !== SEALED_MAGIC) throw new SealError('the message is not sealed');
    if (r.u8('version') !== SEALED_VERSION) throw new SealError('unknown sealing version');
    const n = r.u8('entries');
    if (n === 0 || n > MAX_ENTRIES) throw new SealError('bad key table');
    const entries: KeyEntry[] = [];
    for (let i = 0; i < n; i++) {
      const user = r.utf8(r.u8('name length'), 'name');
      const device = r.u32('device');
      const type = r.u8('type');
      const ciphertext = r.bytesView(r.u16('length'), 'ciphertext').slice();
      if (!isValidUserName(user) || device < 1 || device > MAX_DEVICE_ID) {
        throw new SealError('bad key table entry');
      }
      entries.push({ user, device, type, ciphertext });
    }
    const iv = r.bytesView(IV_BYTES, 'iv').slice();
    const ciphertext = r.bytesView(r.remaining, 'ciphertext').slice();
    if (ciphertext.length < TAG_BYTES) throw new SealError('the body is cut short');
    return { entries, iv, ciphertext };
  } catch (e) {
    if (e instanceof ReadFailure) throw new SealError(`the sealed body is malformed: ${e.detail}`);
    throw e;
  }
}

/** Opens a sealed body's ciphertext with its content key; throws SealError if it was altered. */
export function openBody(
  sealed: SealedBody,
  contentKey: Uint8Array,
  author: SealAuthor,
  cipher: ContentCipher = 'aes-256-gcm',
): Uint8Array {
  return aead(cipher, false, contentKey, sealed.iv, bodyAad(author), sealed.ciphertext);
}

/** The key a file's chunks are sealed with, derived from its content key. */
function chunkKey(contentKey: Uint8Array): Uint8Array {
  return new Uint8Array(
    hkdfSync('sha256', contentKey, new Uint8Array(0), 'strata-file-chunks', CONTENT_KEY_BYTES),
  );
}

/**
 * Seals and opens one file's chunk segments: `[offset][bytes]` in clear becomes
 * `[offset][ciphertext][tag]`. The nonce is the chunk's offset, unique within the file, and
 * the offset is authenticated too, so a chunk cannot be moved. One per file: its key is
 * imported once, and each segment costs one cipher operation and one buffer.
 */
export class ChunkCipher {
  private readonly key: KeyObject;
  private readonly cipher: ContentCipher;

  constructor(contentKey: Uint8Array, cipher: ContentCipher = 'aes-256-gcm') {
    this.key = createSecretKey(chunkKey(contentKey));
    this.cipher = cipher;
  }

  /** A chunk segment sealed, into `into` when given (exactly its length), else a new buffer. */
  seal(segment: Uint8Array, into?: Uint8Array): Uint8Array {
    const bytes = segment.subarray(CHUNK_OFFSET_BYTES);
    const out = into ?? new Uint8Array(segment.length + TAG_BYTES);
    out.set(segment.subarray(0, CHUNK_OFFSET_BYTES));
    if (this.cipher === 'copy') {
      out.set(bytes, CHUNK_OFFSET_BYTES);
      out.fill(0, segment.length);
      return out;
    }
    const offset = readOffset(segment);
    const c = createCipheriv('aes-256-gcm', this.key, chunkIv(offset));
    c.setAAD(chunkAad(offset));
    out.set(c.update(bytes), CHUNK_OFFSET_BYTES);
    c.final();
    out.set(c.getAuthTag(), segment.length);
    return out;
  }

  /** A sealed chunk segment's offset and opened bytes; null when it was altered on the way. */
  openChunk(sealed: Uint8Array): { offset: number; bytes: Uint8Array } | null {
    const end = sealed.length - TAG_BYTES;
    if (end < CHUNK_OFFSET_BYTES) return null;
    const offset = readOffset(sealed);
    const body = sealed.subarray(CHUNK_OFFSET_BYTES, end);
    if (this.cipher === 'copy') return { offset, bytes: body };
    const d = createDecipheriv('aes-256-gcm', this.key, chunkIv(offset));
    d.setAAD(chunkAad(offset));
    d.setAuthTag(sealed.subarray(end));
    const bytes = d.update(body);
    try {
      d.final();
    } catch {
      return null;
    }
    return { offset, bytes };
  }

  /** A sealed chunk segment opened; null when it was altered on the way (dropped alone). */
  open(sealed: Uint8Array): Uint8Array | null {
    const end = sealed.length - TAG_BYTES;
    if (end < CHUNK_OFFSET_BYTES) return null;
    const out = new Uint8Array(end);
    out.set(sealed.subarray(0, CHUNK_OFFSET_BYTES));
    if (this.cipher === 'copy') {
      out.set(sealed.subarray(CHUNK_OFFSET_BYTES, end), CHUNK_OFFSET_BYTES);
      return out;
    }
    const offset = readOffset(sealed);
    const d = createDecipheriv('aes-256-gcm', this.key, chunkIv(offset));
    d.setAAD(chunkAad(offset));
    d.setAuthTag(sealed.subarray(end));
    out.set(d.update(sealed.subarray(CHUNK_OFFSET_BYTES, end)), CHUNK_OFFSET_BYTES);
    try {
      d.final();
    } catch {
      return null;
    }
    return out;
  }
}

function readOffset(segment: Uint8Array): number {
  return Number(
    new DataView(segment.buffer, segment.byteOffset, CHUNK_OFFSET_BYTES).getBigUint64(0),
  );
}

function chunkIv(offset: number): Uint8Array {
  const iv = new Uint8Array(IV_BYTES);
  new DataView(iv.buffer).setBigUint64(4, BigInt(offset));
  return iv;
}

function chunkAad(offset: number): Uint8Array {
  return encodeUtf8(`strata-chunk/${offset}`);
}

/**
 * AES-256-GCM with the tag after the ciphertext. `copy` moves the bytes with a tag of zeros
 * and checks nothing: the benchmark's measure of what the cipher itself costs.
 */
function aead(
  cipher: ContentCipher,
  encrypt: boolean,
  key: Uint8Array,
  iv: Uint8Array,
  aad: Uint8Array,
  input: Uint8Array,
): Uint8Array {
  if (cipher === 'copy') {
    if (encrypt) {
      const out = new Uint8Array(input.length + TAG_BYTES);
      out.set(input);
      return out;
    }
    return input.slice(0, input.length - TAG_BYTES);
  }
  // As a KeyObject: given bytes, node:crypto first tries them as a KeyObject and as a
  // CryptoKey, and each try throws and catches an exception (a tenth of a text's sealing).
  const secret = createSecretKey(key);
  if (encrypt) {
    const c = createCipheriv('aes-256-gcm', secret, iv);
    c.setAAD(aad);
    const out = new Uint8Array(input.length + TAG_BYTES);
    out.set(c.update(input));
    c.final();
    out.set(c.getAuthTag(), input.length);
    return out;
  }
  if (input.length < TAG_BYTES) throw new SealError('the ciphertext is cut short');
  const d = createDecipheriv('aes-256-gcm', secret, iv);
  d.setAAD(aad);
  d.setAuthTag(input.subarray(input.length - TAG_BYTES));
  const out = new Uint8Array(input.length - TAG_BYTES);
  out.set(d.update(input.subarray(0, input.length - TAG_BYTES)));
  try {
    d.final();
  } catch {
    throw new SealError('the ciphertext was altered');
  }
  return out;
}
