import { describe, expect, it } from 'vitest';
import {
  CHECKSUM_BYTES,
  DATA_FLAG_FILE,
  ENVELOPE_FIXED_BYTES,
  FRAME_TYPE_CODES,
  MAX_ACK_RANGES,
  MAX_FRAME_BYTES,
  MAX_SEALED_CONTROL_BYTES,
  MAX_SEGMENT_PAYLOAD,
  decodeFrame,
  encodeFrame,
  encodedSize,
  crc32,
  isValidUserName,
  type DecodeResult,
  type Frame,
} from './index.ts';
import { sampleFrames, seededRandom } from './testing.ts';

/** Rewrites the trailer so that a mutated frame passes the checksum and reaches the parser. */
function reseal(bytes: Uint8Array): Uint8Array {
  const end = bytes.length - CHECKSUM_BYTES;
  if (end < 0) return bytes;
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(end, crc32(bytes, 0, end));
  return bytes;
}

function expectError(result: DecodeResult, kind: string): void {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error.kind).toBe(kind);
}

describe('encodeFrame into a given buffer', () => {
  it("writes the same bytes into the caller's buffer, at any offset", () => {
    const big = new Uint8Array(MAX_FRAME_BYTES + 16);
    for (const frame of sampleFrames()) {
      const plain = encodeFrame(frame);
      const into = encodeFrame(frame, (size) => big.subarray(3, 3 + size));
      expect(into.buffer).toBe(big.buffer);
      expect(into.byteOffset).toBe(3);
      expect([...into]).toEqual([...plain]);
      expect(decodeFrame(into)).toMatchObject({ ok: true });
    }
    expect(() => encodeFrame(sampleFrames()[0]!, () => new Uint8Array(1))).toThrow(RangeError);
  });
});

describe('frames round-trip', () => {
  for (const frame of sampleFrames()) {
    it(`${frame.type} ${JSON.stringify(frame).slice(0, 60)}`, () => {
      const bytes = encodeFrame(frame);
      expect(bytes.length).toBe(encodedSize(frame));
      const result = decodeFrame(bytes);
      expect(result).toEqual({ ok: true, frame });
    });
  }

  it('carries a maximal data segment within MAX_FRAME_BYTES', () => {
    const name = 'ж'.repeat(32);
    const frame: Frame = {
      type: 'data',
      from: name,
      fromDevice: 1,
      to: name,
      toDevice: 2,
      messageId: 3,
      transmission: 4,
      segmentCount: 1,
      segmentIndex: 0,
      payload: new Uint8Array(MAX_SEGMENT_PAYLOAD),
    };
    const bytes = encodeFrame(frame);
    expect(bytes.length).toBe(MAX_FRAME_BYTES);
    expect(decodeFrame(bytes).ok).toBe(true);
  });

  it('decodes payloads as views, not copies', () => {
    const frame = sampleFrames().find((f) => f.type === 'data')!;
    const bytes = encodeFrame(frame);
    const result = decodeFrame(bytes);
    if (!result.ok || result.frame.type !== 'data') throw new Error('expected data');
    expect(result.frame.payload.buffer).toBe(bytes.buffer);
  });
});

describe('frames are rejected with a typed error', () => {
  const data = encodeFrame(sampleFrames().find((f) => f.type === 'data')!);

  it('when truncated at any length', () => {
    for (const frame of sampleFrames()) {
      const bytes = encodeFrame(frame);
      for (let n = 0; n < bytes.length; n++) {
        const cut = decodeFrame(reseal(bytes.slice(0, n)));
        expect(cut.ok, `${frame.type} cut at ${n}`).toBe(false);
      }
    }
  });

  it('when a bit is flipped anywhere (the checksum catches it)', () => {
    for (let bit = 0; bit < data.length * 8; bit++) {
      const copy = data.slice();
      copy[bit >> 3]! ^= 0x80 >> (bit & 7);
      const result = decodeFrame(copy);
      expect(result.ok).toBe(false);
      if (!result.ok && bit >= 8) expect(result.error.kind).toBe('checksum');
    }
  });

  it('for an unknown version', () => {
    const copy = data.slice();
    copy[0] = 2;
    expectError(decodeFrame(reseal(copy)), 'unsupported-version');
  });

  it('for an unknown type', () => {
    const copy = data.slice();
    copy[1] = 0x7f;
    expectError(decodeFrame(reseal(copy)), 'unknown-type');
  });

  it('for reserved flags', () => {
    // Data frames define one flag (file); every other bit, and any flag on other types, is reserved.
    for (const flags of [0x02, 0x80, 0xff]) {
      const copy = data.slice();
      copy[2] = flags;
      expectError(decodeFrame(reseal(copy)), 'malformed');
    }
    const ack = encodeFrame(sampleFrames().find((f) => f.type === 'ack')!);
    ack[2] = DATA_FLAG_FILE;
    expectError(decodeFrame(reseal(ack)), 'malformed');
  });

  it('carries the file flag of data frames, and only when set', () => {
    const plain = decodeFrame(data);
    expect(plain.ok && plain.frame.type === 'data' && plain.frame.file).toBe(undefined);
    const copy = data.slice();
    copy[2] = DATA_FLAG_FILE;
    const file = decodeFrame(reseal(copy));
    if (!file.ok || file.frame.type !== 'data') throw new Error('expected a data frame');
    expect(file.frame.file).toBe(true);
    expect(encodeFrame(file.frame)).toEqual(reseal(copy));
  });

  it('when oversized, before reading it', () => {
    expectError(decodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1)), 'oversized');
    expectError(decodeFrame(data, { maxFrameBytes: data.length - 1 }), 'oversized');
  });

  it('when a length field claims more than the frame holds', () => {
    // payloadLength sits 4 bytes before the payload; claim 2^32 - 1 bytes.
    const payloadLength = data.length - CHECKSUM_BYTES - 300 - 4;
    const copy = data.slice();
    new DataView(copy.buffer).setUint32(payloadLength, 0xffff_ffff);
    const result = decodeFrame(reseal(copy));
    expect(result.ok).toBe(false);
  });

  it('with trailing bytes after the body', () => {
    const typing = encodeFrame(sampleFrames().find((f) => f.type === 'typing')!);
    const longer = new Uint8Array(typing.length + 1);
    longer.set(typing.subarray(0, typing.length - CHECKSUM_BYTES));
    expectError(decodeFrame(reseal(longer)), 'malformed');
  });

  it('for invalid UTF-8 or invalid names in the envelope', () => {
    const copy = data.slice();
    copy[13] = 0xff; // first byte of the sender's name
    expectError(decodeFrame(reseal(copy)), 'malformed');
    const space = data.slice();
    space[13] = 0x20;
    expectError(decodeFrame(reseal(space)), 'malformed');
  });

  it('for a data segment index beyond its count', () => {
    const frame = { ...sampleFrames().find((f) => f.type === 'data')! } as Frame & { type: 'data' };
    expect(() => encodeFrame({ ...frame, segmentIndex: 10 })).toThrow(/index/);
  });

  it('for ack ranges that would go below zero', () => {
    const ack = encodeFrame({
      type: 'ack',
      from: 'a',
      fromDevice: 1,
      to: 'b',
      toDevice: 1,
      ackDelayMicros: 0,
      ranges: [[3, 5]],
    });
    const copy = ack.slice();
    // firstRange is the 8 bytes before the checksum; claim 6 below a largest of 5.
    new DataView(copy.buffer).setUint32(copy.length - CHECKSUM_BYTES - 4, 6);
    expectError(decodeFrame(reseal(copy)), 'malformed');
  });

  it('refuses to encode what the format cannot carry', () => {
    const base = { from: 'a', fromDevice: 1, to: 'b', toDevice: 0 };
    expect(() =>
      encodeFrame({
        type: 'ack',
        ...base,
        ackDelayMicros: 0,
        ranges: [
          [1, 2],
          [3, 4],
        ],
      }),
    ).toThrow(/descending/);
    const sealed = new Uint8Array([1]);
    expect(() => encodeFrame({ type: 'typing', ...base, from: 'a b', sealed })).toThrow();
    expect(() => encodeFrame({ type: 'typing', ...base, fromDevice: 0, sealed })).toThrow();
    expect(() => encodeFrame({ type: 'sealed', ...base, sealed: new Uint8Array(0) })).toThrow();
    expect(() =>
      encodeFrame({
        type: 'sealed',
        ...base,
        sealed: new Uint8Array(MAX_SEALED_CONTROL_BYTES + 1),
      }),
    ).toThrow(/sealed body length/);
  });
});

describe('held frames', () => {
  const ranges: [number, number][] = [
    [90, 100],
    [50, 60],
    [0, 0],
  ];
  const fromRelay = { from: '', fromDevice: 0, to: 'alice', toDevice: 7 };

  it('carry exactly the body of an ack frame, with their own type code', () => {
    const held = encodeFrame({ type: 'held', ...fromRelay, ackDelayMicros: 0, ranges });
    const ack = encodeFrame({
      type: 'ack',
      from: 'bob',
      fromDevice: 3,
      to: 'alice',
      toDevice: 7,
      ackDelayMicros: 0,
      ranges,
    });
    expect(held[1]).toBe(0x09);
    // The body follows the envelope and its two names (lengths at bytes 3 and 4).
    const bodyOf = (b: Uint8Array) =>
      b.slice(ENVELOPE_FIXED_BYTES + b[3]! + b[4]!, b.length - CHECKSUM_BYTES);
    expect(bodyOf(held)).toEqual(bodyOf(ack));
    expect(held.length).toBe(ENVELOPE_FIXED_BYTES + 5 + 8 + 4 + 2 + 8 + 2 * 16 + CHECKSUM_BYTES);
  });

  it('decode only from the relay to a user', () => {
    const good = encodeFrame({ type: 'held', ...fromRelay, ackDelayMicros: 0, ranges });
    expect(decodeFrame(good)).toEqual({
      ok: true,
      frame: { type: 'held', ...fromRelay, ackDelayMicros: 0, ranges },
    });
    // Turn an ack from alice into a held frame: a held frame with a user as sender.
    const ack = encodeFrame({
      type: 'ack',
      from: 'alice',
      fromDevice: 7,
      to: 'bob',
      toDevice: 1,
      ackDelayMicros: 0,
      ranges,
    });
    ack[1] = FRAME_TYPE_CODES.held;
    expectError(decodeFrame(reseal(ack)), 'malformed');
    expect(() =>
      encodeFrame({ type: 'held', ...fromRelay, from: 'relay', ackDelayMicros: 0, ranges }),
    ).toThrow(/from must be empty/);
    expect(() =>
      encodeFrame({ type: 'held', ...fromRelay, fromDevice: 1, ackDelayMicros: 0, ranges }),
    ).toThrow(/device 0/);
    expect(() =>
      encodeFrame({ type: 'held', ...fromRelay, to: '', ackDelayMicros: 0, ranges }),
    ).toThrow(/not a valid name/);
  });

  it('follow the ack rules for ranges', () => {
    const base = { type: 'held', ...fromRelay, ackDelayMicros: 0 } as const;
    expect(() => encodeFrame({ ...base, ranges: [] })).toThrow(/range count/);
    expect(() =>
      encodeFrame({
        ...base,
        ranges: [
          [5, 6],
          [7, 8],
        ],
      }),
    ).toThrow(/descending/);
    const max = Array.from(
      { length: MAX_ACK_RANGES },
      (_, i) => [(MAX_ACK_RANGES - i) * 3, (MAX_ACK_RANGES - i) * 3] as const,
    );
    expect(decodeFrame(encodeFrame({ ...base, ranges: max })).ok).toBe(true);
    expect(() => encodeFrame({ ...base, ranges: [[9999, 9999], ...max] })).toThrow(/range count/);
  });
});

describe('user names', () => {
  it('accepts letters, digits and . _ - in any script', () => {
    for (const ok of ['alice', 'Борис', 'bob.smith', 'x_1-2', '李雷', 'a'.repeat(32)]) {
      expect(isValidUserName(ok), ok).toBe(true);
    }
  });
  it('rejects empty, long, spaced, control, path-like and non-NFC names', () => {
    for (const bad of ['', 'a'.repeat(33), 'a b', 'a\u0000', '../x', 'a/b', '.hidden', 'e\u0301']) {
      expect(isValidUserName(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('fuzz: random and mutated frames never crash the decoder', () => {
  const ITERATIONS = 100_000;

  it(`${ITERATIONS} random byte strings and mutations of valid frames`, () => {
    const rand = seededRandom(0x5eed);
    const samples = sampleFrames().map((f) => encodeFrame(f));
    const outcomes = new Map<string, number>();
    const tally = (r: DecodeResult) => {
      const key = r.ok ? `ok:${r.frame.type}` : r.error.kind;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    };
    for (let i = 0; i < ITERATIONS; i++) {
      let bytes: Uint8Array;
      const mode = i % 4;
      if (mode === 0) {
        // Pure noise, sometimes with a valid version and type to get past the first checks.
        bytes = Uint8Array.from({ length: Math.floor(rand() * 200) }, () => (rand() * 256) | 0);
        if (bytes.length > 2 && rand() < 0.5) {
          bytes[0] = 1;
          bytes[1] = 1 + Math.floor(rand() * Object.keys(FRAME_TYPE_CODES).length);
        }
      } else {
        bytes = samples[i % samples.length]!.slice();
        const edits = 1 + Math.floor(rand() * 4);
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(rand() * bytes.length);
          const roll = rand();
          if (roll < 0.6) bytes[at] = (rand() * 256) | 0;
          else if (roll < 0.8) bytes = bytes.slice(0, at);
          else {
            const grown = new Uint8Array(bytes.length + 1 + Math.floor(rand() * 8));
            grown.set(bytes);
            bytes = grown;
          }
          if (bytes.length === 0) break;
        }
      }
      // Half of the mutations get a valid checksum so that the body parsers see them.
      if (mode >= 2) reseal(bytes);
      let result: DecodeResult;
      try {
        result = decodeFrame(bytes);
      } catch (e) {
        throw new Error(`decoder threw on input ${i}`, { cause: e });
      }
      tally(result);
      if (result.ok) {
        // Whatever decodes must re-encode to the very same bytes: one meaning per frame.
        expect(encodeFrame(result.frame)).toEqual(bytes);
      }
    }
    // The fuzzer must reach the parsers, not only the checksum.
    expect(outcomes.get('malformed') ?? 0).toBeGreaterThan(1000);
    expect(outcomes.get('truncated') ?? 0).toBeGreaterThan(1000);
    expect(outcomes.get('checksum') ?? 0).toBeGreaterThan(1000);
  });
});
