// A stand-in for the built renderer folder: just what the browser host insists on (an
// index.html with its Content-Security-Policy) and one asset, for tests of the host itself.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './relay-process.ts';

/** A static folder with just the index.html the web server insists on (its CSP). */
export function staticFixture(): string {
  const dir = tempDir('strata-static-');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; connect-src 'self'"><div id="root"></div>`,
  );
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1);\n');
  return dir;
}
