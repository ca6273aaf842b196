// The entry of the host process: an Electron utilityProcess (forked by index.ts) running the
// core Host of one profile, so that the engine's SQLite calls and file reads happen off the main
// process, which keeps serving the window. Its only Electron part is process.parentPort.
import type { Link } from './host-link.ts';
import { serveHost } from './host-service.ts';

/** process.parentPort as a Link: Electron wraps each message in an event with its data. */
function parentLink(): Link {
  const port = process.parentPort;
  return {
    post: (message) => port.postMessage(message),
    onMessage: (listener) => port.on('message', (event) => listener(event.data)),
  };
}

serveHost(parentLink());
