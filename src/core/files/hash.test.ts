import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256OfFile } from './hash.ts';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('sha256OfFile', () => {
  it('hashes files across read boundaries, and an empty one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-hash-'));
    for (const size of [0, 1, 1024 * 1024, 2.5 * 1024 * 1024 + 3]) {
      const bytes = randomBytes(size);
      const path = join(dir, `f${size}`);
      writeFileSync(path, bytes);
      expect(await sha256OfFile(path)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('fails on a missing file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-hash-'));
    await expect(sha256OfFile(join(dir, 'nope'))).rejects.toThrow(/ENOENT/);
  });
});
