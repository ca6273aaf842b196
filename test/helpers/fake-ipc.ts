// An in-memory stand-in for Electron's IPC, for tests that run in plain Node (there is no
// Electron binary on the machines that run them). It keeps the semantics the bridge relies on:
// - invoke() reaches the one handler of its channel with an event carrying `senderFrame`, and
//   returns a promise; a handler that throws rejects it with Electron's flattened message;
// - every payload, both ways, goes through structuredClone, as Electron's IPC serialises with
//   the structured clone algorithm: functions, class prototypes and Errors' fields do not cross;
// - webContents.send() reaches the renderer's listeners later (IPC is asynchronous) with
//   (event, payload);
// - a second handle() for a channel throws, as in Electron.
import type { IpcMain, IpcMainInvokeEvent, IpcRenderer, IpcRendererEvent } from 'electron';

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown;
type Listener = (event: IpcRendererEvent, ...args: unknown[]) => void;

export interface FakeIpc {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  ipcRenderer: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;
  webContents: {
    isDestroyed(): boolean;
    send(channel: string, ...args: unknown[]): void;
    /** Test control: destroys the page (send() then throws, as Electron's does). */
    destroy(): void;
    /** Test control: the URL of the sending frame, or null for a frame that is gone. */
    setSenderUrl(url: string | null): void;
  };
  /** Channels with a handler registered now. */
  handledChannels(): string[];
  /** How many listeners the renderer side has on `channel`. */
  listenerCount(channel: string): number;
  /** How many invoke() calls reached a handler (or found none). */
  readonly invocations: string[];
}

export function createFakeIpc(senderUrl: string): FakeIpc {
  const handlers = new Map<string, Handler>();
  const listeners = new Map<string, Set<Listener>>();
  const invocations: string[] = [];
  let frameUrl: string | null = senderUrl;
  let destroyed = false;

  const ipcMain = {
    handle(channel: string, handler: Handler): void {
      if (handlers.has(channel)) {
        throw new Error(`Attempted to register a second handler for '${channel}'`);
      }
      handlers.set(channel, handler);
    },
    removeHandler(channel: string): void {
      handlers.delete(channel);
    },
  };

  const ipcRenderer = {
    async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
      invocations.push(channel);
      const sent = structuredClone(args);
      const handler = handlers.get(channel);
      if (handler === undefined) throw new Error(`No handler registered for '${channel}'`);
      const event = {
        senderFrame: frameUrl === null ? null : { url: frameUrl },
        sender: webContents,
        processId: 1,
        frameId: 1,
      } as unknown as IpcMainInvokeEvent;
      let result: unknown;
      try {
        result = await handler(event, ...sent);
      } catch (e) {
        throw new Error(`Error invoking remote method '${channel}': ${String(e)}`, { cause: e });
      }
      return structuredClone(result);
    },
    on(channel: string, listener: Listener) {
      let set = listeners.get(channel);
      if (set === undefined) listeners.set(channel, (set = new Set()));
      set.add(listener);
      return ipcRenderer;
    },
    removeListener(channel: string, listener: Listener) {
      listeners.get(channel)?.delete(listener);
      return ipcRenderer;
    },
  };

  const webContents = {
    isDestroyed: () => destroyed,
    send(channel: string, ...args: unknown[]): void {
      if (destroyed) throw new Error('Object has been destroyed');
      const payload = structuredClone(args);
      setImmediate(() => {
        const event = { sender: ipcRenderer, ports: [] } as unknown as IpcRendererEvent;
        for (const listener of [...(listeners.get(channel) ?? [])]) listener(event, ...payload);
      });
    },
    destroy(): void {
      destroyed = true;
    },
    setSenderUrl(url: string | null): void {
      frameUrl = url;
    },
  };

  return {
    ipcMain: ipcMain as unknown as FakeIpc['ipcMain'],
    ipcRenderer: ipcRenderer as unknown as FakeIpc['ipcRenderer'],
    webContents,
    handledChannels: () => [...handlers.keys()],
    listenerCount: (channel) => listeners.get(channel)?.size ?? 0,
    invocations,
  };
}
