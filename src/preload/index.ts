// The preload script runs sandboxed, in an isolated world, before the renderer. It hands the page
// three things: `strata`, a frozen object of read-only facts; `strataBridge`, the messaging API
// as two functions over an allowlist of IPC channels derived from the contract (bridge.ts); and
// `strataFiles`, one function resolving a File the user dropped or picked to its path
// (files.ts). The page never sees ipcRenderer, webUtils, an IPC event object, or anything of Node.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { createBridge } from './bridge.ts';
import { createFiles } from './files.ts';
import { IPC_GRANT_FILE_CHANNEL } from '../shared/contract.ts';

/** What the renderer sees as `window.strata` (declared for it in src/renderer/src/env.d.ts). */
export interface StrataBridge {
  readonly platform: string;
  readonly versions: {
    readonly electron: string;
    readonly chrome: string;
    readonly node: string;
  };
}

const info: StrataBridge = Object.freeze({
  platform: process.platform,
  versions: Object.freeze({
    electron: process.versions.electron,
    chrome: process.versions.chrome,
    node: process.versions.node,
  }),
});

contextBridge.exposeInMainWorld('strata', info);
contextBridge.exposeInMainWorld('strataBridge', createBridge(ipcRenderer));
contextBridge.exposeInMainWorld(
  'strataFiles',
  createFiles(webUtils, (path) => ipcRenderer.send(IPC_GRANT_FILE_CHANNEL, path)),
);
