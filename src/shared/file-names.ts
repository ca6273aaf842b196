// How a file's name is shown, and whether the app may open the file, wherever that is decided:
// the engine sanitises received names with these rules (src/core/files/names.ts), the Host and
// the Electron main process refuse to open a dangerous file, and the renderer shows the name
// with its real extension and offers "Show in folder" instead of "Open" for such a file.

/**
 * Characters that change how a name reads without being seen: C0/C1 controls and DEL, the
 * soft hyphen, bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E/F,
 * U+202A–U+202E, U+2066–U+2069), zero-width space, word joiner and invisible operators,
 * the BOM, line/paragraph separators, deprecated format controls and interlinear annotation;
 * and the blanks that are letters or symbols rather than spaces (the Hangul fillers U+3164 and
 * U+FFA0, the braille blank U+2800, the combining grapheme joiner U+034F, the Khmer inherent
 * vowels U+17B4/U+17B5), which would push an extension out of sight as a run of spaces would
 * while passing for part of a word. ZWJ/ZWNJ are handled apart (UNJOINED) because emoji
 * sequences and several scripts need them. (The combining ones stand apart from the class:
 * a combining mark alone in a character class reads as if it combined with its neighbour.)
 */
export const INVISIBLE =
  /[\p{Cc}\u00AD\u061C\u180E\u200B\u200E\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\u2800\u3164\uFEFF\uFFA0\uFFF9-\uFFFB]|\u034F|\u17B4|\u17B5/gu;

/**
 * ZWNJ/ZWJ not between two non-ASCII letters, marks or emoji. Inside '👨‍👩‍👧' or a Persian
 * word they are spelling; between ASCII letters ('pay\u200Dpal') they only disguise.
 */
const JOINABLE = String.raw`(?:(?![\x00-\x7F])[\p{L}\p{M}\p{Extended_Pictographic}\p{Emoji_Modifier}])`;
export const UNJOINED = new RegExp(
  String.raw`(?<!${JOINABLE})[\u200C\u200D]|[\u200C\u200D](?!${JOINABLE})`,
  'gu',
);

/**
 * Characters drawn as a full stop on the baseline that are not one (Unicode's confusables of
 * '.': one dot leader, small and fullwidth full stops, the Syriac, Lisu, Vai and Kharoshthi
 * dots, the musical augmentation dot). 'invoice\u2024pdf' reads as 'invoice.pdf' but has no
 * extension at all: the system would pick what opens it from its bytes.
 */
export const DOT_LOOKALIKE = /[\u0701\u0702\u2024\uA4F8\uA60E\uFE52\uFF0E\u{10A50}]|\u{1D16D}/gu;

/** Removes what only hides or disguises: invisible characters and joiners between ASCII. */
export function withoutInvisible(name: string): string {
  return name.replace(INVISIBLE, '').replace(UNJOINED, '');
}

/**
 * A dot-suffix longer than this, in UTF-8 bytes (or one with white space in it), is part of the
 * name, not an extension: 'Dr. Smith notes' has none, and shortening may cut into it.
 */
export const MAX_EXTENSION_BYTES = 32;

/** Two-part extensions kept whole, so numbering gives 'a (1).tar.gz' rather than 'a.tar (1).gz'. */
const COMPOUND_EXTENSIONS = ['.tar.gz', '.tar.bz2', '.tar.xz', '.tar.zst'];

const utf8 = new TextEncoder();

/** ['report', '.pdf'], ['backup', '.tar.gz'], ['Dr. Smith notes', ''], ['.bashrc', '']. */
export function splitExtension(name: string): [stem: string, extension: string] {
  const lower = name.toLowerCase();
  const compound = COMPOUND_EXTENSIONS.find((e) => lower.endsWith(e) && lower.length > e.length);
  if (compound !== undefined) {
    return [name.slice(0, -compound.length), name.slice(-compound.length)];
  }
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return [name, ''];
  const extension = name.slice(dot);
  if (utf8.encode(extension).length > MAX_EXTENSION_BYTES || /\p{White_Space}/u.test(extension)) {
    return [name, ''];
  }
  return [name.slice(0, dot), extension];
}

/**
 * A name as the app shows it: what hides or disguises removed, a dot look-alike shown as '_'
 * (as the engine saves it), split into the part that may be shortened and the extension, which
 * is always shown whole: { stem: 'holiday photo', extension: '.jpg' }. Only the last path
 * component counts.
 */
export function displayFileName(name: string): { stem: string; extension: string } {
  const last = name.split(/[/\\]/).findLast((part) => part !== '') ?? '';
  const [stem, extension] = splitExtension(withoutInvisible(last).replace(DOT_LOOKALIKE, '_'));
  return { stem, extension };
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The shown name within about `maxChars` characters, shortened in the middle so that the
 * extension stays: 'a very long name of a re…port.pdf'. Cuts only between grapheme clusters.
 */
export function shortFileName(name: string, maxChars: number): string {
  const { stem, extension } = displayFileName(name);
  const pieces = Array.from(graphemes.segment(stem), (g) => g.segment);
  const room = maxChars - Array.from(extension).length - 1;
  if (pieces.length + Array.from(extension).length <= maxChars || room < 2) {
    return stem + extension;
  }
  const tail = Math.min(4, Math.floor(room / 3));
  return `${pieces.slice(0, room - tail).join('')}…${pieces.slice(pieces.length - tail).join('')}${extension}`;
}

/**
 * Extensions of files that run code, or install or point to something that does, when a
 * system opens them. Covers Signal Desktop's list of dangerous types, and adds what runs on
 * the systems Strata is built for (Linux launchers, scripts and packages; macOS apps, disk
 * images and installers) and the Windows types that list leaves out (shortcuts, newer
 * installers, PowerShell and script hosts). Lower case, without the dot.
 */
export const DANGEROUS_EXTENSIONS: ReadonlySet<string> = new Set(
  [
    // Windows programs, libraries, drivers and screen savers.
    'exe com scr pif cpl dll ocx sys drv vxd lib efi',
    // Windows installers, packages, cabinet and setup files, registry entries.
    'msi msp mst msix msixbundle appx appxbundle appinstaller application',
    'cab diagcab inf ins isp reg nsh nsi',
    // Windows scripts and their hosts: batch, Windows Script Host, HTML apps, PowerShell.
    'bat cmd js jse vb vbe vbs wsc wsf wsh ws sct hta',
    'ps1 ps1xml ps2 ps2xml psc1 psc2 psd1 psm1 psrc pssc',
    'msh msh1 msh2 mshxml msh1xml msh2xml msc',
    // Windows shortcuts and shell files that point to, or run, something else.
    'lnk url scf shb shs settingcontent-ms library-ms searchconnector-ms',
    'chm mht mhtml xbap gadget',
    // Access databases and projects (they run macros).
    'ade adp mde mda accde',
    // Java and Android.
    'jar jnlp apk xapk aab',
    // macOS apps, disk images, installers and scripts.
    'app dmg pkg mpkg command tool scpt workflow terminal',
    // Linux launchers, packages, images, installers and shell scripts.
    'desktop appimage deb rpm snap flatpak flatpakref run',
    'sh bash zsh csh ksh fish',
    // Python, whose Windows launcher runs these when they are opened.
    'py pyw pyz pyzw',
  ].flatMap((group) => group.split(' ')),
);

/**
 * Whether opening a file of this name could run code. Judged on the name as every system
 * could read it: the last path component, compatibility forms folded ('ｅｘｅ'), case ignored,
 * invisible characters removed, trailing dots and spaces dropped (Windows drops them, so
 * 'x.exe. ' opens as 'x.exe'), and a dot look-alike taken for a dot.
 */
export function isDangerousFileName(name: string): boolean {
  const last = name.split(/[/\\]/).findLast((part) => part !== '') ?? '';
  const folded = withoutInvisible(last.normalize('NFKC'))
    .replace(DOT_LOOKALIKE, '.')
    .replace(/[\s.]+$/u, '')
    .toLowerCase();
  const dot = folded.lastIndexOf('.');
  return dot >= 0 && DANGEROUS_EXTENSIONS.has(folded.slice(dot + 1));
}

/** Why the app does not open `name` (the Host and the main process say it alike). */
export function refuseToOpen(name: string): string {
  return `${name} is a type of file that can run programs, so Strata does not open it: show it in its folder, and open it there only if you trust it`;
}
