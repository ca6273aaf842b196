// A TCP proxy on loopback that records every byte passing between clients and a relay, both
// ways: what an attacker on the network path (or the relay's operator with a packet capture)
// would see.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface CaptureProxy {
  /** ws:// URL of the proxy. */
  url: string;
  /** Everything captured so far, both directions, in arrival order. */
  captured(): Buffer;
  /** Each connection's bytes towards the relay, one buffer per connection. */
  towardsRelay(): Buffer[];
  /** Every binary WebSocket message captured, both ways (what each frame of Strata's is). */
  messages(): Uint8Array[];
  /**
   * Writes `message` to every open client as if the relay had sent it (an attacker on the
   * path, or the relay's operator): between two whole WebSocket frames of the relay's.
   */
  inject(message: Uint8Array): void;
  close(): Promise<void>;
}

export async function captureProxy(target: { host: string; port: number }): Promise<CaptureProxy> {
  const chunks: Buffer[] = [];
  const upstreams: Buffer[][] = [];
  const downstreams: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const clients = new Set<{ socket: Socket; boundary: () => Promise<void> }>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const up: Buffer[] = [];
    const down: Buffer[] = [];
    upstreams.push(up);
    downstreams.push(down);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d) => {
      chunks.push(Buffer.from(d));
      up.push(Buffer.from(d));
      upstream.write(d);
    });
    // Towards the client, bytes go on only as whole WebSocket frames (the upgrade answer
    // first), so that an injected one never lands inside one of the relay's.
    let held = Buffer.alloc(0);
    let upgraded = false;
    let waiting: (() => void)[] = [];
    upstream.on('data', (d) => {
      chunks.push(Buffer.from(d));
      down.push(Buffer.from(d));
      held = Buffer.concat([held, d]);
      let whole = 0;
      if (!upgraded) {
        const end = held.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = true;
        whole = end + 4;
      }
      for (let n = frameLength(held, whole); n > 0; n = frameLength(held, whole)) whole += n;
      client.write(held.subarray(0, whole));
      held = held.subarray(whole);
      if (held.length === 0) for (const w of waiting.splice(0)) w();
    });
    const entry = {
      socket: client,
      boundary: () =>
        upgraded && held.length === 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => waiting.push(resolve)),
    };
    clients.add(entry);
    client.on('close', () => {
      clients.delete(entry);
      waiting = [];
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    captured: () => Buffer.concat(chunks),
    towardsRelay: () => upstreams.map((u) => Buffer.concat(u)),
    inject: (message) => {
      const head =
        message.length < 126
          ? Buffer.from([0x82, message.length])
          : Buffer.from([0x82, 126, message.length >> 8, message.length & 0xff]);
      for (const c of clients) {
        void c.boundary().then(() => c.socket.write(Buffer.concat([head, message])));
      }
    },
    messages: () =>
      [...upstreams, ...downstreams].flatMap((parts) => webSocketMessages(Buffer.concat(parts))),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The binary messages of one direction of a WebSocket connection (RFC 6455 section 5.2),
 * after its HTTP upgrade: unmasked, unfragmented as `ws` sends them (no compression).
 */
export function webSocketMessages(stream: Buffer): Uint8Array[] {
  const start = stream.indexOf('\r\n\r\n');
  if (start < 0) return [];
  const out: Uint8Array[] = [];
  let at = start + 4;
  while (at + 2 <= stream.length) {
    const opcode = stream[at]! & 0x0f;
    const masked = (stream[at + 1]! & 0x80) !== 0;
    let length = stream[at + 1]! & 0x7f;
    let head = 2;
    if (length === 126) {
      length = stream.readUInt16BE(at + 2);
      head = 4;
    } else if (length === 127) {
      length = Number(stream.readBigUInt64BE(at + 2));
      head = 10;
    }
    const key = masked ? stream.subarray(at + head, at + head + 4) : null;
    if (masked) head += 4;
    if (at + head + length > stream.length) break;
    const payload = Uint8Array.from(stream.subarray(at + head, at + head + length));
    if (key) for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i % 4]!;
    if (opcode === 0x2) out.push(payload);
    at += head + length;
  }
  return out;
}

/** The length of the whole WebSocket frame at `at` in `b`, or 0 if it has not all come. */
function frameLength(b: Buffer, at: number): number {
  if (at + 2 > b.length) return 0;
  let length = b[at + 1]! & 0x7f;
  let head = 2 + ((b[at + 1]! & 0x80) !== 0 ? 4 : 0);
  if (length === 126) {
    if (at + 4 > b.length) return 0;
    length = b.readUInt16BE(at + 2);
    head += 2;
  } else if (length === 127) {
    if (at + 10 > b.length) return 0;
    length = Number(b.readBigUInt64BE(at + 2));
    head += 8;
  }
  return at + head + length <= b.length ? head + length : 0;
}
