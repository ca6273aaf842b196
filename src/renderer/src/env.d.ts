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

  interface Window {
    readonly strata?: StrataBridge;
    readonly strataBridge?: RawBridge;
  }
}
