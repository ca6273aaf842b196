import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  closeSync,
  writeSync,
  statSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_NAME_BYTES,
  copyToUniqueDestination,
  moveToUniqueDestination,
  numberedName,
  sanitizeFileName,
  uniqueDestination,
} from './names.ts';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Name → expected sanitized name. */
const HOSTILE: [string, string][] = [
  ['../../etc/passwd', 'passwd'],
  ['..\\..\\Windows\\system32\\x.dll', 'x.dll'],
  ['/abs/path', 'path'],
  ['C:\\x', 'x'],
  ['C:x', 'C_x'],
  ['photos/', 'photos'],
  ['../', 'file'],
  ['a\u0000b', 'ab'],
  ['tab\tand\nnewline\r.txt', 'tabandnewline.txt'],
  ['del\u007F c1\u0085\u009B.txt', 'del c1.txt'],
  ['CON', '_CON'],
  ['con.txt', '_con.txt'],
  ['Aux', '_Aux'],
  ['nul.tar.gz', '_nul.tar.gz'],
  ['LPT9.log', '_LPT9.log'],
  ['COM¹', '_COM¹'],
  ['com³.txt', '_com³.txt'],
  ['CON .txt', '_CON .txt'],
  ['CONSOLE.txt', 'CONSOLE.txt'],
  ['COM10', 'COM10'],
  ['.bashrc', '_.bashrc'],
  ['..hidden', '_..hidden'],
  ['.', 'file'],
  ['..', 'file'],
  ['...', 'file'],
  [' ', 'file'],
  ['', 'file'],
  ['\u202E\u200B', 'file'],
  ['evil\u202Egnp.exe', 'evilgnp.exe'],
  ['a\u2066b\u2069c\u200Ed\u200Fe\u061Cf.txt', 'abcdef.txt'],
  ['zero\u200Bwidth\uFEFF\u2060.txt', 'zerowidth.txt'],
  ['pay\u200Dpal\u200C.com', 'paypal.com'],
  ['x. . ', 'x'],
  ['  lead and trail  ', 'lead and trail'],
  ['a<b>c:d"e|f?g*h.txt', 'a_b_c_d_e_f_g_h.txt'],
  ['..\uFF0F..\u2215etc\u2044passwd', '_.._.._etc_passwd'],
  ['e\u0301t\u0301e\u0301.txt', '\u00e9t\u0301\u00e9.txt'],
  ['lone\uD800surrogate\uDC00.txt', 'lone_surrogate_.txt'],
  // Dot look-alikes would fake an extension the file does not have.
  ['invoice\u2024pdf', 'invoice_pdf'],
  ['report\uFF0Epdf', 'report_pdf'],
  ['scan\uFE52jpg\uA4F8exe', 'scan_jpg_exe'],
  ['photo\u{1D16D}png.run', 'photo_png.run'],
  // Blanks that are not spaces would push the real extension out of sight.
  ['photo.jpg\u3164\u3164\u3164\uFFA0.exe', 'photo.jpg.exe'],
  ['cv.pdf\u2800\u2800\u034F\u17B4.scr', 'cv.pdf.scr'],
];

describe('sanitizeFileName', () => {
  it.each(HOSTILE)('%j → %j', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected);
  });

  it('turns NFD into NFC, so both spellings of é name the same file', () => {
    const nfd = 'caf\u0065\u0301.txt';
    const nfc = 'caf\u00e9.txt';
    expect(nfd).not.toBe(nfc);
    expect(sanitizeFileName(nfd)).toBe(nfc);
    expect(sanitizeFileName(nfc)).toBe(nfc);
  });

  it('keeps joiners that spell emoji and scripts, drops them where they only disguise', () => {
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}.png';
    expect(sanitizeFileName(family)).toBe(family);
    const persian = 'می\u200Cخواهم.txt';
    expect(sanitizeFileName(persian)).toBe(persian);
    const heartOnFire = '\u2764\uFE0F\u200D\u{1F525}.gif';
    expect(sanitizeFileName(heartOnFire)).toBe(heartOnFire);
    expect(sanitizeFileName('\u200Dа\u200D')).toBe('а');
  });

  it('cuts a long ASCII name to 255 bytes and keeps the extension', () => {
    const out = sanitizeFileName('a'.repeat(300) + '.txt');
    expect(bytes(out)).toBe(MAX_NAME_BYTES);
    expect(out).toBe('a'.repeat(251) + '.txt');
  });

  it('cuts multi-byte names on character boundaries and keeps the extension', () => {
    const cyrillic = sanitizeFileName('ж'.repeat(200) + '.pdf'); // 2 bytes each
    expect(cyrillic).toBe('ж'.repeat(125) + '.pdf');
    expect(bytes(cyrillic)).toBe(254);

    const emoji = sanitizeFileName('\u{1F600}'.repeat(100) + '.png'); // 4 bytes, 2 UTF-16 units
    expect(emoji).toBe('\u{1F600}'.repeat(62) + '.png');
    expect(emoji).not.toMatch(/\p{Cs}/u);
    expect(bytes(emoji)).toBe(252);

    const mixed = sanitizeFileName('Ы\u{1F600}'.repeat(60) + '.jpeg');
    expect(mixed.endsWith('.jpeg')).toBe(true);
    expect(bytes(mixed)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(mixed).not.toMatch(/\p{Cs}/u);
  });

  it('does not split a combining sequence or an emoji sequence when it cuts', () => {
    // q + dot below + dot above (NFC order) has no precomposed form: three code points, one
    // grapheme of 5 bytes, so a cut by bytes alone would land inside it.
    const cluster = 'q\u0323\u0307';
    expect(cluster.normalize('NFC')).toBe(cluster);
    const out = sanitizeFileName(cluster.repeat(100) + '.txt');
    const stem = out.slice(0, -'.txt'.length);
    expect(stem).toBe(cluster.repeat(Math.floor(251 / bytes(cluster))));

    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}'; // 18 bytes
    const long = sanitizeFileName(family.repeat(20));
    expect(long).toBe(family.repeat(14));
  });

  it('cuts by code point when one grapheme alone is longer than the limit', () => {
    const out = sanitizeFileName('a' + '\u0301'.repeat(300));
    expect(out.startsWith('\u00e1')).toBe(true);
    expect(bytes(out)).toBeLessThanOrEqual(MAX_NAME_BYTES);
  });

  it('treats a long or spaced dot-suffix as part of the name', () => {
    expect(sanitizeFileName('Dr. Smith notes')).toBe('Dr. Smith notes');
    const longSuffix = sanitizeFileName('a.' + 'b'.repeat(300));
    expect(longSuffix).toBe('a.' + 'b'.repeat(253));
  });

  it('gives the prefix before cutting, so a long reserved or hidden name stays defused', () => {
    const hidden = sanitizeFileName('.' + 'x'.repeat(300));
    expect(hidden.startsWith('_.')).toBe(true);
    expect(bytes(hidden)).toBe(MAX_NAME_BYTES);
    const device = sanitizeFileName('CON.' + 'x'.repeat(300));
    expect(device.startsWith('_CON.')).toBe(true);
    expect(bytes(device)).toBe(MAX_NAME_BYTES);
  });

  it('always returns one non-empty, bounded, NFC component and is idempotent', () => {
    const corpus = [
      ...HOSTILE.map(([input]) => input),
      'a'.repeat(300) + '.txt',
      'ж'.repeat(200) + '.pdf',
      '\u{1F600}'.repeat(100) + '.png',
      '.' + 'x'.repeat(300),
      'x'.repeat(250) + '. . . . . .',
    ];
    for (const input of corpus) {
      const out = sanitizeFileName(input);
      expect(out).not.toBe('');
      expect(out).not.toMatch(/[/\\<>:"|?*\p{Cc}\u202A-\u202E\u2066-\u2069]/u);
      expect(['.', '..']).not.toContain(out);
      expect(out.startsWith('.')).toBe(false);
      expect(out).not.toMatch(/[\s.]$/u);
      expect(out.normalize('NFC')).toBe(out);
      expect(bytes(out)).toBeLessThanOrEqual(MAX_NAME_BYTES);
      expect(sanitizeFileName(out)).toBe(out);
    }
  });
});

describe('numberedName', () => {
  it('numbers before the extension, keeping compound extensions whole', () => {
    expect(numberedName('photo.jpg', 1)).toBe('photo (1).jpg');
    expect(numberedName('backup.tar.gz', 2)).toBe('backup (2).tar.gz');
    expect(numberedName('README', 3)).toBe('README (3)');
    expect(numberedName('_.bashrc', 1)).toBe('_ (1).bashrc');
  });

  it('stays within 255 bytes by shortening the stem', () => {
    const name = sanitizeFileName('ж'.repeat(200) + '.pdf');
    const out = numberedName(name, 42);
    expect(out.endsWith(' (42).pdf')).toBe(true);
    expect(bytes(out)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(sanitizeFileName(out)).toBe(out);
  });
});

describe('files in a real folder', () => {
  let root: string;
  let dir: string;
  let outside: string;

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'strata-names-')));
    dir = join(root, 'downloads');
    outside = join(root, 'outside');
    mkdirSync(dir);
    mkdirSync(outside);
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  function write(fd: number, text: string): void {
    writeSync(fd, text);
    closeSync(fd);
  }

  describe('uniqueDestination', () => {
    it('creates the sanitized name, then numbered ones, never overwriting', () => {
      writeFileSync(join(dir, 'report.pdf'), 'old');
      const first = uniqueDestination(dir, 'report.pdf');
      write(first.fd, 'new 1');
      const second = uniqueDestination(dir, 'report.pdf');
      write(second.fd, 'new 2');
      expect(first.path).toBe(join(dir, 'report (1).pdf'));
      expect(second.path).toBe(join(dir, 'report (2).pdf'));
      expect(readFileSync(join(dir, 'report.pdf'), 'utf8')).toBe('old');
      expect(readFileSync(first.path, 'utf8')).toBe('new 1');
      expect((statSync(first.path).mode & 0o777).toString(8)).toBe('600');
    });

    it('does not follow a symlink planted at the name, and picks another name', () => {
      const target = join(outside, 'victim.txt');
      writeFileSync(target, 'precious');
      symlinkSync(target, join(dir, 'notes.txt'));
      const dangling = join(outside, 'not-yet-there.txt');
      symlinkSync(dangling, join(dir, 'notes (1).txt'));

      const { path, fd } = uniqueDestination(dir, 'notes.txt');
      write(fd, 'attacker data');
      expect(path).toBe(join(dir, 'notes (2).txt'));
      expect(readFileSync(target, 'utf8')).toBe('precious');
      expect(existsSync(dangling)).toBe(false);
      expect(readlinkSync(join(dir, 'notes.txt'))).toBe(target);
      expect(lstatSync(path).isFile()).toBe(true);
    });

    it('keeps every hostile name directly inside the folder', () => {
      const made = HOSTILE.map(([input]) => {
        const { path, fd } = uniqueDestination(dir, input);
        write(fd, input);
        return path;
      });
      for (const path of made) {
        expect(dirname(path)).toBe(dir);
        expect(realpathSync(path)).toBe(path);
      }
      expect(readdirSync(dir)).toHaveLength(HOSTILE.length);
      expect(readdirSync(outside)).toEqual([]);
      expect(readdirSync(root).sort()).toEqual(['downloads', 'outside']);
    });

    it('resolves a symlinked folder to its real path', () => {
      const alias = join(root, 'alias');
      symlinkSync(dir, alias);
      const { path, fd } = uniqueDestination(alias, 'a.txt');
      closeSync(fd);
      expect(path).toBe(join(dir, 'a.txt'));
    });

    it('keeps numbered names of a 255-byte name within the limit', () => {
      const long = 'я'.repeat(200) + '.txt';
      const paths = [0, 1, 2].map(() => {
        const { path, fd } = uniqueDestination(dir, long);
        closeSync(fd);
        return path;
      });
      expect(new Set(paths).size).toBe(3);
      for (const path of paths) {
        expect(bytes(path.slice(dir.length + 1))).toBeLessThanOrEqual(MAX_NAME_BYTES);
      }
    });

    it('refuses a folder that is not there or not a folder', () => {
      expect(() => uniqueDestination(join(root, 'missing'), 'a')).toThrow(/ENOENT/);
      writeFileSync(join(root, 'plain'), '');
      expect(() => uniqueDestination(join(root, 'plain'), 'a')).toThrow(/is not a directory/);
    });
  });

  describe('moveToUniqueDestination', () => {
    it('links the temp file under a free name and removes the temp name', () => {
      const temp = join(dir, '.partial-1');
      writeFileSync(temp, 'payload');
      writeFileSync(join(dir, 'song.mp3'), 'existing');
      const path = moveToUniqueDestination(temp, dir, 'song.mp3');
      expect(path).toBe(join(dir, 'song (1).mp3'));
      expect(readFileSync(path, 'utf8')).toBe('payload');
      expect(readFileSync(join(dir, 'song.mp3'), 'utf8')).toBe('existing');
      expect(existsSync(temp)).toBe(false);
      expect(lstatSync(path).nlink).toBe(1);
    });

    it('does not follow a symlink planted at the name', () => {
      const target = join(outside, 'victim');
      writeFileSync(target, 'precious');
      symlinkSync(target, join(dir, 'victim'));
      const temp = join(root, 'temp');
      writeFileSync(temp, 'payload');
      const path = moveToUniqueDestination(temp, dir, '../outside/victim');
      expect(path).toBe(join(dir, 'victim (1)'));
      expect(readFileSync(target, 'utf8')).toBe('precious');
      expect(readFileSync(path, 'utf8')).toBe('payload');
    });

    it('refuses a temp path that is not a regular file', () => {
      const link = join(root, 'link');
      symlinkSync(join(outside, 'x'), link);
      expect(() => moveToUniqueDestination(link, dir, 'x')).toThrow(/not a regular file/);
      expect(() => moveToUniqueDestination(outside, dir, 'x')).toThrow(/not a regular file/);
      expect(readdirSync(dir)).toEqual([]);
    });

    // /dev/shm is a tmpfs on Linux, so link() from it into the temp dir fails with EXDEV.
    it.runIf(process.platform === 'linux')('copies across file systems (EXDEV)', () => {
      expect(statSync('/dev/shm').dev).not.toBe(statSync(dir).dev);
      const shm = mkdtempSync('/dev/shm/strata-names-');
      try {
        const temp = join(shm, 'temp');
        const payload = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
        writeFileSync(temp, payload);
        writeFileSync(join(dir, 'big.bin'), 'existing');
        const path = moveToUniqueDestination(temp, dir, 'big.bin');
        expect(path).toBe(join(dir, 'big (1).bin'));
        expect(readFileSync(path).equals(payload)).toBe(true);
        expect(existsSync(temp)).toBe(false);
      } finally {
        rmSync(shm, { recursive: true, force: true });
      }
    });
  });

  describe('copyToUniqueDestination', () => {
    it('copies into an exclusively created file and removes the temp file', () => {
      const temp = join(root, 'temp');
      const payload = randomBytes(2_500_000);
      writeFileSync(temp, payload);
      const target = join(outside, 'victim');
      writeFileSync(target, 'precious');
      symlinkSync(target, join(dir, 'data.bin'));
      const path = copyToUniqueDestination(temp, dir, 'data.bin');
      expect(path).toBe(join(dir, 'data (1).bin'));
      expect(readFileSync(path).equals(payload)).toBe(true);
      expect(readFileSync(target, 'utf8')).toBe('precious');
      expect(existsSync(temp)).toBe(false);
    });

    it('refuses a temp path that is not a regular file before creating anything', () => {
      const temp = join(root, 'temp-dir-posing-as-file');
      mkdirSync(temp);
      expect(() => copyToUniqueDestination(temp, dir, 'x')).toThrow(/not a regular file/);
      expect(readdirSync(dir)).toEqual([]);
    });
  });
});
