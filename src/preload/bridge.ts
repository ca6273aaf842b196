// The renderer's only door to the main process: one IPC channel per method of the contract,
// and one channel of events. The allowlist is the contract's METHOD_NAMES, so a method that is
// not in the table never reaches IPC at all; what does reach it is validated again in main
// (src/main/ipc.ts), which is the side that must not trust the renderer.
import type { IpcRenderer, IpcRendererEvent } from 'electron';
import {
  IPC_EVENT_CHANNEL,
  ipcChannel,
  isMethodName,
  type Envelope,
  type HostEvent,
  type RawBridge,
} from '../shared/contract.ts';

export type BridgeIpc = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

export function createBridge(ipcRenderer: BridgeIpc): RawBridge {
  return Object.freeze({
    invoke(method: string, params: unknown): Promise<Envelope> {
      if (!isMethodName(method)) {
        return Promise.resolve({
          ok: false,
          error: { code: 'forbidden', message: `unknown method ${String(method)}` },
        });
      }
      return ipcRenderer.invoke(ipcChannel(method), params) as Promise<Envelope>;
    },
    onEvent(listener: (event: HostEvent) => void): () => void {
      // The IpcRendererEvent (with its sender, a handle on ipcRenderer) must not reach the page.
      const forward = (_event: IpcRendererEvent, payload: HostEvent) => listener(payload);
      ipcRenderer.on(IPC_EVENT_CHANNEL, forward);
      return () => {
        ipcRenderer.removeListener(IPC_EVENT_CHANNEL, forward);
      };
    },
  });
}
