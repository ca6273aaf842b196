// Loaded with --import into a child of child_process.fork: stands in for Electron's
// process.parentPort, so that the host process's entry (src/main/host-process.ts) runs under
// plain Node. The fork's IPC channel (serialization 'advanced': structured clones, as Electron's
// ports carry) is the port; each message arrives wrapped in an event with its data, as there.
import { EventEmitter } from 'node:events';

const port = new EventEmitter();
process.on('message', (data) => port.emit('message', { data, ports: [] }));
Object.defineProperty(process, 'parentPort', {
  value: Object.assign(port, { postMessage: (message: unknown) => process.send!(message) }),
});
