import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkpointWorkerUrl } from './checkpoints.ts';

describe('checkpointWorkerUrl', () => {
  it('finds the TypeScript worker next to checkpoints.ts when Node runs the sources', () => {
    const url = checkpointWorkerUrl(new URL('./checkpoints.ts', import.meta.url).href);
    expect(fileURLToPath(url)).toBe(
      fileURLToPath(new URL('./checkpoint-worker.ts', import.meta.url)),
    );
    expect(existsSync(url)).toBe(true);
  });

  it("finds the worker's bundle next to the Electron main bundle", () => {
    const bundle = pathToFileURL('/opt/Strata/resources/app.asar/out/main/index.js').href;
    expect(checkpointWorkerUrl(bundle).href).toBe(
      pathToFileURL('/opt/Strata/resources/app.asar/out/main/checkpoint-worker.js').href,
    );
  });

  it('keeps a path with spaces and a query-free file URL intact', () => {
    const bundle = pathToFileURL('/home/a b/Strata/out/main/index.js').href;
    expect(fileURLToPath(checkpointWorkerUrl(bundle))).toBe(
      '/home/a b/Strata/out/main/checkpoint-worker.js',
    );
  });
});
