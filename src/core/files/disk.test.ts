import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RESERVE_BYTES, DiskFullError, checkRoom, formatBytes, freeBytes } from './disk.ts';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-disk-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Others share this disk, so free space moves a little between two readings. */
const DRIFT = 256 * 1024 * 1024;

describe('freeBytes', () => {
  it('agrees with df on the space available to unprivileged users', () => {
    const free = freeBytes(dir);
    expect(Number.isSafeInteger(free)).toBe(true);
    expect(free).toBeGreaterThan(0);
    // POSIX df -P -k: the fourth column is available 1024-byte blocks (root's reserve excluded).
    const row = execFileSync('df', ['-P', '-k', dir], { encoding: 'utf8' }).trim().split('\n')[1];
    const available = Number(row?.split(/\s+/)[3]) * 1024;
    expect(Math.abs(free - available)).toBeLessThan(DRIFT);
    const { blocks, bsize } = statfsSync(dir);
    expect(free).toBeLessThanOrEqual(blocks * bsize);
  });

  it('fails for a folder that is not there', () => {
    expect(() => freeBytes(join(dir, 'missing'))).toThrow(/ENOENT/);
  });
});

describe('checkRoom', () => {
  it('passes when the file and the reserve fit', () => {
    const free = freeBytes(dir);
    expect(free).toBeGreaterThan(DEFAULT_RESERVE_BYTES + DRIFT); // the test's premise
    expect(() => checkRoom(dir, 0)).not.toThrow();
    expect(() => checkRoom(dir, free - DEFAULT_RESERVE_BYTES - DRIFT)).not.toThrow();
    expect(() => checkRoom(dir, 1024, 0)).not.toThrow();
  });

  it('throws DiskFullError naming the folder, the need and the space there is', () => {
    const huge = 2 ** 52;
    let caught: unknown;
    try {
      checkRoom(dir, huge);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DiskFullError);
    const error = caught as DiskFullError;
    expect(error.name).toBe('DiskFullError');
    expect(error.dir).toBe(dir);
    expect(error.needed).toBe(huge + DEFAULT_RESERVE_BYTES);
    expect(Math.abs(error.available - freeBytes(dir))).toBeLessThan(DRIFT);
    expect(error.message).toBe(
      `not enough free space in ${dir}: need 4.0 PiB, have ${formatBytes(error.available)} ` +
        `(4.0 PiB for the file and 64.0 MiB kept free)`,
    );
  });

  it('counts the reserve', () => {
    const free = freeBytes(dir);
    expect(() => checkRoom(dir, 0, free + DRIFT)).toThrow(DiskFullError);
    expect(() => checkRoom(dir, free - DEFAULT_RESERVE_BYTES + DRIFT)).toThrow(
      /not enough free space/,
    );
  });

  it('refuses sizes that are not whole numbers of bytes', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => checkRoom(dir, bad)).toThrow(RangeError);
      expect(() => checkRoom(dir, 0, bad)).toThrow(RangeError);
    }
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [64 * 1024 * 1024, '64.0 MiB'],
    [5 * 1024 ** 3 + 512 * 1024 ** 2, '5.5 GiB'],
    [2 ** 60, '1024.0 PiB'],
  ])('%d → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
