import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { contentSecurityPolicy } from './src/main/security.ts';

const root = import.meta.dirname;

/**
 * In development only, swap the strict policy in index.html's meta tag for the development one
 * (dev server origin, its WebSocket, React Fast Refresh's inline preamble, Vite's injected
 * styles). The production build keeps the meta tag exactly as written.
 */
function devContentSecurityPolicy(): Plugin {
  return {
    name: 'strata:dev-content-security-policy',
    apply: 'serve',
    transformIndexHtml: {
      order: 'pre',
      handler(html, ctx) {
        const devServerUrl =
          process.env['ELECTRON_RENDERER_URL'] ?? ctx.server?.resolvedUrls?.local[0];
        const strict = `content="${contentSecurityPolicy()}"`;
        if (devServerUrl === undefined) throw new Error('The dev server URL is not known yet');
        if (!html.includes(strict)) {
          throw new Error('index.html must carry the production Content-Security-Policy');
        }
        return html.replace(strict, `content="${contentSecurityPolicy({ devServerUrl })}"`);
      },
    },
  };
}

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      rolldownOptions: {
        input: {
          index: resolve(root, 'src/main/index.ts'),
          // The host process (an Electron utilityProcess): the core Host, off the main thread.
          'host-process': resolve(root, 'src/main/host-process.ts'),
          // The core's WAL-checkpoint thread: a Worker needs a file of its own, which
          // checkpointWorkerUrl() (src/node/checkpoints.ts) finds next to host-process.js.
          'checkpoint-worker': resolve(root, 'src/node/checkpoint-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      rolldownOptions: {
        input: { index: resolve(root, 'src/preload/index.ts') },
        // A sandboxed preload is not loaded as an ES module: it must be CommonJS. The .cjs name
        // keeps Node from reading it as ESM under the package's "type": "module".
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src/renderer'),
    plugins: [react(), devContentSecurityPolicy()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      rolldownOptions: {
        input: { index: resolve(root, 'src/renderer/index.html') },
      },
    },
  },
});
