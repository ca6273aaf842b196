// The media type of a received file, which decides how the app shows it (an inline image, an
// icon, an "open with" button). The name comes from the peer and may lie, so when the first
// bytes are at hand they are checked against the types whose signature is unmistakable: a
// 'photo.png' that is really HTML is not an image, and a 'report.pdf' that is really a JPEG
// is a JPEG. Only raster images are ever previewed; SVG may carry scripts.

/** The type of anything unknown or unconfirmed: opaque bytes, never rendered. */
export const OCTET_STREAM = 'application/octet-stream';

/** How many leading bytes mediaTypeOf needs to recognise every signature it knows. */
export const SNIFF_BYTES = 12;

const OOXML = 'application/vnd.openxmlformats-officedocument';
const ODF = 'application/vnd.oasis.opendocument';

/** Lower-case extension → media type (IANA names where one is registered). */
const BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  heic: 'image/heic',
  bmp: 'image/bmp',
  ico: 'image/vnd.microsoft.icon',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  txt: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  html: 'text/html',
  htm: 'text/html',
  css: 'text/css',
  js: 'text/javascript',
  json: 'application/json',
  xml: 'application/xml',
  rtf: 'application/rtf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  tar: 'application/x-tar',
  '7z': 'application/x-7z-compressed',
  rar: 'application/vnd.rar',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  ogv: 'video/ogg',
  mkv: 'video/x-matroska',
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  docx: `${OOXML}.wordprocessingml.document`,
  xlsx: `${OOXML}.spreadsheetml.sheet`,
  pptx: `${OOXML}.presentationml.presentation`,
  odt: `${ODF}.text`,
  ods: `${ODF}.spreadsheet`,
  odp: `${ODF}.presentation`,
  epub: 'application/epub+zip',
};

/** A type recognised by its first bytes. */
interface Signature {
  type: string;
  matches(head: Uint8Array): boolean;
}

function startsWith(head: Uint8Array, bytes: readonly number[], at = 0): boolean {
  return bytes.every((b, i) => head[at + i] === b);
}

function ascii(text: string): number[] {
  return Array.from(text, (c) => c.charCodeAt(0));
}

const SIGNATURES: readonly Signature[] = [
  {
    type: 'image/png',
    matches: (h) => startsWith(h, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  },
  { type: 'image/jpeg', matches: (h) => startsWith(h, [0xff, 0xd8, 0xff]) },
  {
    type: 'image/gif',
    matches: (h) => startsWith(h, ascii('GIF87a')) || startsWith(h, ascii('GIF89a')),
  },
  {
    type: 'image/webp',
    matches: (h) => startsWith(h, ascii('RIFF')) && startsWith(h, ascii('WEBP'), 8),
  },
  { type: 'application/pdf', matches: (h) => startsWith(h, ascii('%PDF-')) },
  // Local file header, or the end-of-directory record that opens an empty archive.
  {
    type: 'application/zip',
    matches: (h) =>
      startsWith(h, [0x50, 0x4b, 0x03, 0x04]) || startsWith(h, [0x50, 0x4b, 0x05, 0x06]),
  },
  { type: 'application/gzip', matches: (h) => startsWith(h, [0x1f, 0x8b, 0x08]) },
];

/** Types stored in a ZIP container, which carry the ZIP signature. */
const ZIP_CONTAINERS = new Set(
  ['docx', 'xlsx', 'pptx', 'odt', 'ods', 'odp', 'epub'].map((ext) => BY_EXTENSION[ext]),
);

/** The signature a type must start with, when it has one SIGNATURES knows. */
function expectedSignature(type: string): string | undefined {
  if (ZIP_CONTAINERS.has(type)) return 'application/zip';
  return SIGNATURES.some((s) => s.type === type) ? type : undefined;
}

/** 'archive.tar.gz' → 'gz', 'a/b.PNG' → 'png', 'README' → ''. */
function extensionOf(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot < 0 ? '' : base.slice(dot + 1).toLowerCase();
}

/**
 * The media type of a file called name, from its extension. With head (its first
 * SNIFF_BYTES or more), the bytes decide when they carry a known signature, and a name that
 * claims a signed type its bytes do not carry gives OCTET_STREAM. Unknown → OCTET_STREAM.
 */
export function mediaTypeOf(name: string, head?: Uint8Array): string {
  const claimed = BY_EXTENSION[extensionOf(name)] ?? OCTET_STREAM;
  if (head === undefined) return claimed;
  const sniffed = SIGNATURES.find((s) => s.matches(head))?.type;
  const expected = expectedSignature(claimed);
  if (sniffed === undefined) return expected === undefined ? claimed : OCTET_STREAM;
  return sniffed === expected ? claimed : sniffed;
}
