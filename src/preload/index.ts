// The preload script runs sandboxed, in an isolated world, before the renderer. It hands the page
// one frozen object of read-only facts and nothing else: no ipcRenderer, no Node, no functions.
// The messaging API arrives later through a typed allowlist of channels.
import { contextBridge } from 'electron';

/** What the renderer sees as `window.strata` (declared for it in src/renderer/src/env.d.ts). */
export interface StrataBridge {
  readonly platform: string;
  readonly versions: {
    readonly electron: string;
    readonly chrome: string;
    readonly node: string;
  };
}

const bridge: StrataBridge = Object.freeze({
  platform: process.platform,
  versions: Object.freeze({
    electron: process.versions.electron,
    chrome: process.versions.chrome,
    node: process.versions.node,
  }),
});

contextBridge.exposeInMainWorld('strata', bridge);
