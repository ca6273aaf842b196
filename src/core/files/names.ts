// File names that arrive from the network, and the files made from them. A peer chooses the
// name of a file it sends, so the name is hostile input: it may try to climb out of the
// downloads folder ('../../.bashrc'), hide its real extension behind a right-to-left override
// ('evil\u202Egnp.exe' reads as 'evilexe.png') or fake one with a dot look-alike
// ('invoice\u2024pdf' has none), name a Windows device ('CON', 'lpt1.txt'),
// be longer than any file system allows, or collide with a file (or a planted symlink)
// already in the folder. sanitizeFileName turns any string into one safe path component;
// uniqueDestination and moveToUniqueDestination create the file under that name without ever
// overwriting, following a symlink, or writing outside the folder.
import {
  closeSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DOT_LOOKALIKE, splitExtension, withoutInvisible } from '../../shared/file-names.ts';

/** The longest file name, in UTF-8 bytes, that ext4, APFS, NTFS and btrfs all accept. */
export const MAX_NAME_BYTES = 255;

/** What an empty or all-dots name becomes. */
const FALLBACK_NAME = 'file';

/** How many numbered names ('x (1).txt' … 'x (9999).txt') are tried before giving up. */
const MAX_NUMBERED_CANDIDATES = 9999;

/**
 * Invalid in a name on Windows (<>:"/\|?*), macOS (':' in Finder) or Linux ('/'), and the
 * slash and backslash look-alikes (fraction slash, division slash, fullwidth solidi), which
 * could make a name read as a path.
 */
const INVALID = /[<>:"/\\|?*\u2044\u2215\u2216\u29F8\u29F9\uFF0F\uFF3C]/gu;

/** A code unit of a surrogate pair with no partner: not encodable in UTF-8. */
const LONE_SURROGATE = /\p{Cs}/gu;

const LEADING_SPACE = /^\p{White_Space}+/u;
/** Windows drops trailing dots and spaces, so 'x. . ' and 'x' would be the same file there. */
const TRAILING_SPACE_OR_DOT = /[\p{White_Space}.]+$/u;

/**
 * Windows device names, reserved with any extension and in any case: 'con', 'Aux.txt',
 * 'lpt1.tar.gz', 'COM¹'. COM0/LPT0 and CONIN$/CONOUT$ are reserved by newer Windows too.
 */
const RESERVED_DEVICE = /^(?:CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|(?:COM|LPT)[0-9¹²³])$/iu;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * One safe path component for a name that came from the network. Never empty, at most
 * MAX_NAME_BYTES of UTF-8, NFC, no separator, control, bidi or invisible character, no dot
 * look-alike (it becomes '_', so the only extension is the one shown), not '.' or '..',
 * no leading dot (a received '.bashrc' becomes '_.bashrc': visible in the folder, never taken
 * for a configuration file), no Windows device name ('CON.txt' becomes '_CON.txt'). Only the
 * last non-empty path component counts: 'a/b/c.txt' is 'c.txt', 'photos/' is 'photos'.
 * Idempotent: a sanitized name comes back unchanged.
 */
export function sanitizeFileName(name: string): string {
  const component =
    name
      .replace(LONE_SURROGATE, '_')
      .normalize('NFC')
      .split(/[/\\]/)
      .findLast((part) => part !== '') ?? '';
  const cleaned = withoutInvisible(component)
    .replace(INVALID, '_')
    .replace(DOT_LOOKALIKE, '_')
    .replace(LEADING_SPACE, '')
    .replace(TRAILING_SPACE_OR_DOT, '');
  if (cleaned === '') return FALLBACK_NAME;
  const [stem, extension] = splitExtension(cleaned);
  return fitName(needsPrefix(cleaned) ? `_${stem}` : stem, extension, '');
}

/** A leading dot hides the file; a device name opens the device on Windows. */
function needsPrefix(name: string): boolean {
  const beforeFirstDot = name.split('.', 1)[0] ?? '';
  return name.startsWith('.') || RESERVED_DEVICE.test(beforeFirstDot.trimEnd());
}

/**
 * stem + suffix + extension within MAX_NAME_BYTES, shortening only the stem and only between
 * grapheme clusters, so no surrogate pair, combining sequence or emoji sequence is split.
 */
function fitName(stem: string, extension: string, suffix: string): string {
  const budget = MAX_NAME_BYTES - utf8Bytes(extension) - utf8Bytes(suffix);
  if (utf8Bytes(stem) <= budget) return stem + suffix + extension;
  let cut = takeWithin(
    Array.from(graphemes.segment(stem), (s) => s.segment),
    budget,
  );
  // A single grapheme longer than the budget ('a' with 300 combining marks): cut by code point.
  if (cut === '') cut = takeWithin(Array.from(stem), budget);
  if (extension === '' && suffix === '') cut = cut.replace(TRAILING_SPACE_OR_DOT, '');
  return cut + suffix + extension;
}

function takeWithin(pieces: string[], budget: number): string {
  let out = '';
  let used = 0;
  for (const piece of pieces) {
    used += utf8Bytes(piece);
    if (used > budget) break;
    out += piece;
  }
  return out;
}

/** The n-th alternative of a sanitized name: 'photo (2).jpg', within MAX_NAME_BYTES. */
export function numberedName(name: string, n: number): string {
  const [stem, extension] = splitExtension(name);
  return fitName(stem, extension, ` (${n})`);
}

/** The sanitized name, then its numbered alternatives. */
function* candidateNames(name: string): Generator<string> {
  const safe = sanitizeFileName(name);
  yield safe;
  for (let n = 1; n <= MAX_NUMBERED_CANDIDATES; n++) yield numberedName(safe, n);
}

/** The canonical path of an existing directory, which every destination must sit directly in. */
function realDirectory(dir: string): string {
  const real = realpathSync(dir);
  if (!statSync(real).isDirectory()) throw new Error(`${dir} is not a directory`);
  return real;
}

/** join(realDir, candidate), refusing anything that would not be a direct child of realDir. */
function childPath(realDir: string, candidate: string): string {
  const path = join(realDir, candidate);
  if (dirname(path) !== realDir || basename(path) !== candidate) {
    throw new Error(`refusing file name ${JSON.stringify(candidate)}: it leaves ${realDir}`);
  }
  return path;
}

/** Checks that the file at path is the very file (same inode) we created or linked. */
function assertCreatedInside(realDir: string, path: string, created: { dev: number; ino: number }) {
  const there = lstatSync(path);
  if (
    !there.isFile() ||
    there.dev !== created.dev ||
    there.ino !== created.ino ||
    dirname(realpathSync(path)) !== realDir
  ) {
    throw new Error(`${path} is not the file that was just created in ${realDir}`);
  }
}

function noFreeName(name: string, dir: string): Error {
  return new Error(
    `no free name for ${JSON.stringify(name)} in ${dir} after ${MAX_NUMBERED_CANDIDATES + 1} tries`,
  );
}

/** A file just created by uniqueDestination, open for writing. The caller closes fd. */
export interface UniqueFile {
  path: string;
  fd: number;
}

/**
 * Creates a new, empty file (mode 0o600: a received file is private until the user moves it)
 * directly in dir under the sanitized name, or 'stem (1).ext', 'stem (2).ext', … when taken.
 * The exclusive create (O_CREAT|O_EXCL) fails on anything already there, a symlink included,
 * so nothing is overwritten and no link is followed. Returns the canonical path and an fd
 * open for writing. `intend` hears each candidate path before it is tried (a caller records
 * it, to recognise the file after a crash).
 */
export function uniqueDestination(
  dir: string,
  name: string,
  intend: (path: string) => void = () => {},
): UniqueFile {
  const realDir = realDirectory(dir);
  for (const candidate of candidateNames(name)) {
    const path = childPath(realDir, candidate);
    intend(path);
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if (errorCode(error) === 'EEXIST') continue;
      throw error;
    }
    try {
      assertCreatedInside(realDir, path, fstatSync(fd));
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return { path, fd };
  }
  throw noFreeName(name, dir);
}

/** link() errors that mean "no hard link here" rather than "name taken": copy instead. */
const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

/**
 * Moves a finished temporary file to a unique destination in dir without overwriting
 * anything: link(tmp, candidate) fails with EEXIST when the name is taken (symlinks
 * included), then tmp is unlinked. Where a hard link is impossible (another file system,
 * FAT), falls back to copyToUniqueDestination. Returns the destination path. `intend` hears
 * each candidate path before it is tried, as in uniqueDestination.
 */
export function moveToUniqueDestination(
  tempPath: string,
  dir: string,
  name: string,
  intend: (path: string) => void = () => {},
): string {
  const source = regularFile(tempPath);
  const realDir = realDirectory(dir);
  for (const candidate of candidateNames(name)) {
    const path = childPath(realDir, candidate);
    intend(path);
    try {
      linkSync(tempPath, path);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') continue;
      if (code !== undefined && LINK_UNSUPPORTED.has(code)) {
        return copyToUniqueDestination(tempPath, dir, name, intend);
      }
      throw error;
    }
    assertCreatedInside(realDir, path, source);
    unlinkSync(tempPath);
    return path;
  }
  throw noFreeName(name, dir);
}

/** Copy chunk size: large enough for throughput, small enough to stay out of the way. */
const COPY_CHUNK_BYTES = 1024 * 1024;

/**
 * Copies tempPath into a file created by uniqueDestination, flushes it to disk, then deletes
 * tempPath. A failed copy removes the partial destination and keeps tempPath.
 */
export function copyToUniqueDestination(
  tempPath: string,
  dir: string,
  name: string,
  intend: (path: string) => void = () => {},
): string {
  regularFile(tempPath);
  const { path, fd } = uniqueDestination(dir, name, intend);
  try {
    const source = openSync(tempPath, 'r');
    try {
      const chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
      for (let n = readSync(source, chunk); n > 0; n = readSync(source, chunk)) {
        for (let written = 0; written < n;) {
          written += writeSync(fd, chunk, written, n - written);
        }
      }
    } finally {
      closeSync(source);
    }
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(path);
    throw error;
  }
  closeSync(fd);
  unlinkSync(tempPath);
  return path;
}

function regularFile(path: string): { dev: number; ino: number } {
  const stats = lstatSync(path);
  if (!stats.isFile()) throw new Error(`${path} is not a regular file`);
  return stats;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}
