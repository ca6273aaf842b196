import { describe, expect, it } from 'vitest';
import {
  DANGEROUS_EXTENSIONS,
  displayFileName,
  isDangerousFileName,
  shortFileName,
} from './file-names.ts';

/**
 * Signal Desktop's dangerous file types (ts/util/isFileDangerous.ts), the list ours must cover
 * at least.
 */
const SIGNAL_DESKTOP = `ADE ADP APK BAT CAB CHM CMD COM CPL DIAGCAB DLL DMG EXE HTA INF INS ISP JAR
  JS JSE LIB LNK MDE MHT MSC MSI MSP MST NSH PIF PS1 PSC1 PSM1 PSRC REG SCR SCT
  SETTINGCONTENT-MS SHB SYS VB VBE VBS VXD WSC WSF WSH`.split(/\s+/);

describe('isDangerousFileName', () => {
  it("covers every type of Signal Desktop's list", () => {
    for (const type of SIGNAL_DESKTOP) {
      expect(DANGEROUS_EXTENSIONS.has(type.toLowerCase()), type).toBe(true);
      expect(isDangerousFileName(`file.${type}`), type).toBe(true);
      expect(isDangerousFileName(`file.${type.toLowerCase()}`), type).toBe(true);
    }
  });

  it.each([
    'setup.exe',
    'SETUP.EXE',
    'invoice.pdf.exe',
    'start.desktop',
    'install.sh',
    'Tool.AppImage',
    'update.deb',
    'Photos.app',
    'installer.pkg',
    'run.command',
    'payload.ps1',
    'link.lnk',
    'site.url',
    'script.py',
    // Windows drops trailing dots and spaces: these open as .exe there.
    'x.exe.',
    'x.exe. . ',
    // Hidden or disguised: invisible characters, a bidi override, a dot look-alike, fullwidth.
    'x.e\u200Bxe',
    'x.e\u00ADxe',
    'photo\u202Egpj.exe',
    'photo\u2024exe',
    'photo.\uFF45\uFF58\uFF45',
    // Only the name counts, not the folder it is in.
    '/home/amy/Downloads/Strata/game.exe',
    'C:\\Users\\amy\\game.bat',
  ])('%j is dangerous', (name) => {
    expect(isDangerousFileName(name)).toBe(true);
  });

  it.each([
    'notes.txt',
    'photo.jpg',
    'report.pdf',
    'backup.tar.gz',
    'lecture notes.bin',
    'exe',
    '.exe.txt',
    'setup.exe.txt',
    'archive.zip',
    'song.mp3',
    'Dr. Smith notes',
    '',
    '/home/amy/exe/notes.txt',
  ])('%j is not', (name) => {
    expect(isDangerousFileName(name)).toBe(false);
  });
});

describe('displayFileName', () => {
  it('splits the name from its real extension, which is always shown whole', () => {
    expect(displayFileName('holiday photo.jpg')).toEqual({
      stem: 'holiday photo',
      extension: '.jpg',
    });
    expect(displayFileName('invoice.pdf.exe')).toEqual({ stem: 'invoice.pdf', extension: '.exe' });
    expect(displayFileName('backup.tar.gz')).toEqual({ stem: 'backup', extension: '.tar.gz' });
    expect(displayFileName('Dr. Smith notes')).toEqual({ stem: 'Dr. Smith notes', extension: '' });
    expect(displayFileName('.bashrc')).toEqual({ stem: '.bashrc', extension: '' });
    expect(displayFileName(`${'a'.repeat(300)}.exe`).extension).toBe('.exe');
  });

  it('shows what hides or disguises the extension for what it is', () => {
    // The override would make it read 'photoexe.jpg'.
    expect(displayFileName('photo\u202Egpj.exe')).toEqual({ stem: 'photogpj', extension: '.exe' });
    expect(displayFileName('a\u2066b\u2069\u200Bc\uFEFF.txt')).toEqual({
      stem: 'abc',
      extension: '.txt',
    });
    // A dot look-alike is no extension: shown as the engine saves it.
    expect(displayFileName('invoice\u2024pdf')).toEqual({ stem: 'invoice_pdf', extension: '' });
    // Blank letters would push the extension out of sight.
    expect(displayFileName('cv.pdf\u3164\u3164\u2800.scr')).toEqual({
      stem: 'cv.pdf',
      extension: '.scr',
    });
    // Joiners that spell an emoji stay.
    expect(displayFileName('👨\u200D👩\u200D👧.png').stem).toBe('👨\u200D👩\u200D👧');
    expect(displayFileName('dir/sub/name.txt')).toEqual({ stem: 'name', extension: '.txt' });
  });
});

describe('shortFileName', () => {
  it('leaves a name that fits as it is shown', () => {
    expect(shortFileName('notes.txt', 40)).toBe('notes.txt');
    expect(shortFileName('evil\u202Egnp.exe', 40)).toBe('evilgnp.exe');
  });

  it('shortens in the middle, keeping the end of the name and its whole extension', () => {
    const name = `invoice for March ${'and April '.repeat(10)}paid.pdf.exe`;
    const short = shortFileName(name, 40);
    expect(Array.from(short)).toHaveLength(40);
    expect(short).toMatch(/^invoice for March and April .*…\.pdf\.exe$/u);
  });

  it('never splits a grapheme cluster', () => {
    const short = shortFileName(`${'👨\u200D👩\u200D👧'.repeat(30)}.png`, 20);
    expect(short.endsWith('.png')).toBe(true);
    expect(short.replace('…', '').replace('.png', '').replaceAll('👨\u200D👩\u200D👧', '')).toBe(
      '',
    );
  });
});
