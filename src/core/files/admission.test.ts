import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFileHeader } from '../../shared/protocol/index.ts';
import { closeDatabase, openDatabase, type Db } from '../store/database.ts';
import { FileAdmission } from './admission.ts';
import { DiskFullError } from './disk.ts';
import { IncomingFiles } from './incoming.ts';

const KiB = 1024;
let db: Db;
let files: IncomingFiles;
afterEach(() => {
  files.close();
  closeDatabase(db);
});

/** Incoming files with a disk of `free` bytes, contacts `accepted`, auto-download `auto`. */
function setup(opts: { free?: number; accepted?: string[]; auto?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'strata-admission-'));
  db = openDatabase(dir);
  const accepted = new Set(opts.accepted ?? ['alice', 'carol']);
  const admission = new FileAdmission(db, {
    accepted: (u) => accepted.has(u),
    autoDownloadBytes: () => opts.auto ?? 1024 * KiB,
    freeBytes: () => opts.free ?? 1024 ** 4,
    reserveBytes: 10 * KiB,
  });
  files = new IncomingFiles(db, {
    partialDir: join(dir, 'partial'),
    maxFileBytes: 1024 ** 3,
    admission,
  });
  return { admission, partial: join(dir, 'partial') };
}

/** A file from `author` as the transport stores its first segment: rows, then the header. */
function arrive(author: string, id: number, size: number, chunk = 10 * KiB) {
  const count = 1 + Math.ceil(size / chunk);
  db.prepare(
    `INSERT INTO messages (author, author_device, id, peer, direction, segment_count,
       segment_size, status) VALUES (?, 1, ?, ?, 'in', ?, ?, 'delivered')`,
  ).run(author, id, author, count, chunk);
  const key = { author, authorDevice: 1, id };
  const state = files.open(key);
  const header = encodeFileHeader({
    name: `f${id}.bin`,
    size,
    type: 'x/y',
    sha256: '0'.repeat(64),
  });
  return { key, state, refused: files.begin(key, count, header), count };
}

function chunksIn(author: string, id: number, n: number) {
  const add = db.prepare(
    'INSERT INTO in_file_segments (author, author_device, message_id, idx) VALUES (?, 1, ?, ?)',
  );
  for (let i = 1; i <= n; i++) add.run(author, id, i);
}

describe('which incoming files wait', () => {
  it("a request's file waits from its first segment, whatever its size", () => {
    const { partial } = setup();
    const f = arrive('mallory', 1, 5 * KiB);
    expect(f.state).toBe('waiting');
    expect(f.refused).toBeNull();
    expect(files.state(f.key)).toBe('waiting');
    expect(readdirSync(partial)).toEqual([]);
  });

  it("a contact's file over the auto-download size waits; one within it is taken", () => {
    setup({ auto: 100 * KiB });
    expect(arrive('alice', 1, 100 * KiB).state).toBe('receiving');
    expect(files.state({ author: 'alice', authorDevice: 1, id: 1 })).toBe('receiving');
    arrive('alice', 2, 100 * KiB + 1);
    expect(files.state({ author: 'alice', authorDevice: 1, id: 2 })).toBe('waiting');
  });

  it('a file taken stops waiting', () => {
    setup({ auto: 0 });
    const f = arrive('alice', 1, 5 * KiB);
    expect(files.state(f.key)).toBe('waiting');
    files.take(f.key);
    expect(files.state(f.key)).toBe('receiving');
  });
});

describe('room for the files in flight together', () => {
  it('counts what every file being received still has to write', () => {
    const { admission } = setup();
    arrive('alice', 1, 100 * KiB); // 10 chunks of 10 KiB
    chunksIn('alice', 1, 4);
    arrive('carol', 2, 50 * KiB);
    arrive('mallory', 3, 500 * KiB); // a request: waits, reserves nothing
    const other = { author: 'zed', authorDevice: 1, id: 9 };
    expect(admission.inFlightBytes(other)).toBe(60 * KiB + 50 * KiB);
    // A file does not count against itself.
    expect(admission.inFlightBytes({ author: 'alice', authorDevice: 1, id: 1 })).toBe(50 * KiB);
  });

  it('refuses a file that fits alone but not beside the files already arriving', () => {
    // 200 KiB free, 10 KiB kept: a 150 KiB file fits alone.
    setup({ free: 200 * KiB });
    expect(arrive('alice', 1, 150 * KiB).refused).toBeNull();
    const second = arrive('carol', 2, 150 * KiB);
    expect(second.refused).toMatch(/^refused: not enough free space/);
    expect(second.refused).toMatch(/150\.0 KiB still to come for the files already arriving/);
    expect(files.state(second.key)).toBe('refused');
    // Once the first is in, the second would fit.
    chunksIn('alice', 1, 15);
    expect(arrive('carol', 3, 150 * KiB).refused).toBeNull();
  });

  it('checks a waiting file again when the user takes it', () => {
    setup({ free: 200 * KiB, auto: 0 });
    const a = arrive('alice', 1, 150 * KiB);
    const b = arrive('alice', 2, 150 * KiB);
    files.take(a.key);
    expect(() => files.take(b.key)).toThrow(DiskFullError);
    expect(files.state(b.key)).toBe('waiting');
  });
});
