/// <reference types="vite/client" />

// What the preload (src/preload/index.ts) exposes. Optional: the renderer also runs in a plain
// browser, where there is no preload and so no `window.strata`.
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
}
