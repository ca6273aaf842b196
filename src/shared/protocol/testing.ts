// Deterministic generators of frames for the protocol's tests and the relay's tests.
import type { Frame, HeldFrame } from './frames.ts';

export { seededRandom } from '../random.ts';

/** One example of every frame type, with awkward values (multi-byte names, big numbers). */
export function sampleFrames(): Frame[] {
  const env = { from: 'alice', fromDevice: 7, to: 'Борис', toDevice: 0 };
  const relay = { from: '', fromDevice: 0, to: 'alice', toDevice: 7 };
  return [
    {
      type: 'hello',
      from: 'alice',
      fromDevice: 0xffff_ffff,
      to: '',
      toDevice: 0,
      auth: { scheme: 'none', data: new Uint8Array([1, 2, 3]) },
      agent: 'strata-test/1.0',
    },
    { type: 'welcome', ...relay, serverTime: 1_780_000_000_000, maxFrameBytes: 65_709, queued: 3 },
    {
      type: 'data',
      ...env,
      messageId: Number.MAX_SAFE_INTEGER,
      transmission: 2 ** 40 + 5,
      segmentCount: 10,
      segmentIndex: 9,
      payload: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff),
    },
    {
      type: 'data',
      ...env,
      messageId: 1,
      transmission: 0,
      segmentCount: 1,
      segmentIndex: 0,
      payload: new Uint8Array(0),
    },
    {
      type: 'data',
      ...env,
      messageId: 2 ** 42,
      transmission: 77,
      segmentCount: 65_537,
      segmentIndex: 65_536,
      payload: Uint8Array.from({ length: 40 }, (_, i) => 255 - i),
      file: true,
    },
    {
      type: 'ack',
      ...env,
      ackDelayMicros: 25_000,
      ranges: [
        [90, 100],
        [50, 60],
        [0, 0],
      ],
    },
    { type: 'ack', ...env, ackDelayMicros: 0, ranges: [[5, 5]] },
    {
      type: 'presence',
      ...relay,
      kind: 'snapshot',
      entries: [
        { user: 'bob', online: true, devices: 2, lastSeen: 1_780_000_000_000 },
        { user: 'ёж_1', online: false, devices: 0, lastSeen: 0 },
      ],
    },
    { type: 'presence', ...relay, kind: 'update', entries: [] },
    {
      type: 'watch',
      from: 'alice',
      fromDevice: 7,
      to: '',
      toDevice: 0,
      kind: 'set',
      users: ['bob', 'Борис', 'ёж_1'],
    },
    { type: 'watch', from: 'alice', fromDevice: 7, to: '', toDevice: 0, kind: 'add', users: [] },
    {
      type: 'challenge',
      from: '',
      fromDevice: 0,
      to: '',
      toDevice: 0,
      nonce: new Uint8Array(32).fill(7),
      relayId: new Uint8Array(32).fill(9),
    },
    {
      type: 'account',
      from: 'alice',
      fromDevice: 7,
      to: '',
      toDevice: 0,
      body: new TextEncoder().encode('{"kind":"devices"}'),
    },
    { type: 'account', ...relay, to: '', toDevice: 0, body: new Uint8Array(0) },
    {
      type: 'hello',
      from: '',
      fromDevice: 9,
      to: '',
      toDevice: 0,
      auth: { scheme: 'link', data: new Uint8Array([0, 1, 2]) },
      agent: 'strata/test',
    },
    { type: 'typing', ...env, sealed: new Uint8Array([0xe2, 1, 2, 3]) },
    { type: 'sealed', ...env, sealed: new Uint8Array(300).fill(7) },
    { type: 'receipt', ...env, kind: 'read', messageDevice: 9, messageIds: [1, 2, 2 ** 50] },
    { type: 'receipt', ...env, kind: 'withdrawn', messageDevice: 7, messageIds: [3] },
    { type: 'error', ...relay, code: 'quotaExceeded', messageId: 42, text: 'очередь полна' },
    {
      type: 'held',
      ...relay,
      ackDelayMicros: 0,
      ranges: [
        [2 ** 40, 2 ** 40 + 5],
        [1000, 1019],
        [0, 0],
      ],
    },
    {
      type: 'held',
      ...relay,
      to: 'Борис',
      toDevice: 0xffff_ffff,
      ackDelayMicros: 0,
      ranges: [[7, 7]],
    },
  ];
}

/** The relay's custody receipt to `to`'s device `toDevice`, naming the transmissions in `ranges`. */
export function heldFrame(
  ranges: readonly (readonly [number, number])[],
  to = 'alice',
  toDevice = 1,
): HeldFrame {
  return {
    type: 'held',
    from: '',
    fromDevice: 0,
    to,
    toDevice,
    ackDelayMicros: 0,
    ranges: [...ranges],
  };
}
