// Node's zlib computes the frame checksum (CRC-32) natively, several times faster than the
// portable JavaScript in src/shared/protocol/crc32.ts. Imported for its effect by everything
// in Node that encodes or decodes frames: the engine's connection and the relay.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { useCrc32 } from '../shared/protocol/crc32.ts';

useCrc32((bytes, start, end, seed) =>
  zlibCrc32(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), seed),
);
