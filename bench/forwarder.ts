// The baseline for the relay's figures: the least a WebSocket forwarder can do. The two
// clients say who they are in their first message ("a" or "b"); every later binary message
// goes to the other one, untouched. Started as its own process, like the relay, on the
// address given as its argument (default loopback).
import { WebSocketServer, type WebSocket } from 'ws';

const host = process.argv[2] ?? '127.0.0.1';
const wss = new WebSocketServer({ host, port: 0, perMessageDeflate: false });
const peers = new Map<string, WebSocket>();
wss.on('connection', (ws) => {
  let me: string | null = null;
  ws.on('message', (data, isBinary) => {
    if (me === null) {
      me = data.toString();
      peers.set(me, ws);
      ws.send('ready');
      return;
    }
    peers.get(me === 'a' ? 'b' : 'a')?.send(data, { binary: isBinary });
  });
});
wss.on('listening', () => {
  const address = wss.address();
  if (address && typeof address === 'object') {
    process.stdout.write(`listening ws://${host}:${address.port}/\n`);
  }
});
