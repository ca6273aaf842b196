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
  close(): Promise<void>;
}

export async function captureProxy(target: { host: string; port: number }): Promise<CaptureProxy> {
  const chunks: Buffer[] = [];
  const upstreams: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const up: Buffer[] = [];
    upstreams.push(up);
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
    upstream.on('data', (d) => {
      chunks.push(Buffer.from(d));
      client.write(d);
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
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
