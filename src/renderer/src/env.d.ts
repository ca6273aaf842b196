/// <reference types="vite/client" />
import type { RawBridge } from '../../shared/contract.ts';

// What the preload (src/preload) exposes. Optional: the renderer also runs in a plain browser,
// where there is no preload; it then talks to the browser host over a WebSocket.
declare global {
  interface StrataBridge {
    readonly platform: string;
    readonly versions: {
      readonly electron: string;
      readonly chrome: string;
      readonly node: string;
    };
  }

  /** The Electron preload's file helper (src/preload/files.ts). */
  interface StrataFiles {
    /**
     * The path on disk of a File the user dropped or picked (Electron's webUtils); null for a
     * File that no file on disk backs. Throws TypeError for anything not a File.
     */
    pathForFile(file: File): string | null;
  }

  interface Window {
    readonly strataFiles?: StrataFiles;
    readonly strata?: StrataBridge;
    readonly strataBridge?: RawBridge;
  }
}
