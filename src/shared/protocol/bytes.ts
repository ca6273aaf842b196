// Bounds-checked big-endian readers and writers over Uint8Array. Every read checks the
// remaining length first, so a decoder never reads past a frame or allocates from a length
// it has not yet proven to be present.

/** Thrown inside a decoder and turned into a typed result at its boundary; never escapes. */
export class ReadFailure {
  readonly reason: 'truncated' | 'malformed';
  readonly detail: string;
  constructor(reason: 'truncated' | 'malformed', detail: string) {
    this.reason = reason;
    this.detail = detail;
  }
}

const TWO_32 = 0x1_0000_0000;
/** The high word of a u64 that still fits in Number.MAX_SAFE_INTEGER. */
const MAX_SAFE_HIGH = 0x1f_ffff;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

export function encodeUtf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

export class Reader {
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new ReadFailure('truncated', `${what}: need ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** A u64 that must fit in a JavaScript safe integer (2^53 - 1). */
  u64(what: string): number {
    this.need(8, what);
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    if (hi > MAX_SAFE_HIGH) throw new ReadFailure('malformed', `${what}: exceeds 2^53 - 1`);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  /** A view (not a copy) of the next `n` bytes. */
  bytesView(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  utf8(n: number, what: string): string {
    const v = this.bytesView(n, what);
    try {
      return utf8.decode(v);
    } catch {
      throw new ReadFailure('malformed', `${what}: not valid UTF-8`);
    }
  }
}

export class Writer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  pos = 0;

  /** Writes into `into` (exactly `size` bytes long) when given, else into a new array. */
  constructor(size: number, into?: Uint8Array) {
    if (into !== undefined && into.length !== size) {
      throw new RangeError(`a writer of ${size} bytes was given ${into.length}`);
    }
    this.bytes = into ?? new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  u8(v: number): void {
    this.view.setUint8(this.pos++, v);
  }

  u16(v: number): void {
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  u32(v: number): void {
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  u64(v: number): void {
    this.view.setUint32(this.pos, Math.floor(v / TWO_32));
    this.view.setUint32(this.pos + 4, v >>> 0);
    this.pos += 8;
  }

  bytesFrom(src: Uint8Array): void {
    this.bytes.set(src, this.pos);
    this.pos += src.length;
  }
}
