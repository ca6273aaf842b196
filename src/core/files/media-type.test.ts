import { describe, expect, it } from 'vitest';
import { isPreviewableImage } from '../../shared/preview.ts';
import { OCTET_STREAM, SNIFF_BYTES, mediaTypeOf } from './media-type.ts';

const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));

/** The first bytes of real files of each signed type, padded to SNIFF_BYTES. */
const HEADS = {
  png: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d],
  jpeg: [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...ascii('JFIF'), 0x00, 0x01],
  gif87: [...ascii('GIF87a'), 0x01, 0x00, 0x01, 0x00, 0x80, 0x00],
  gif89: [...ascii('GIF89a'), 0x01, 0x00, 0x01, 0x00, 0x80, 0x00],
  webp: [...ascii('RIFF'), 0x24, 0x00, 0x00, 0x00, ...ascii('WEBP')],
  wav: [...ascii('RIFF'), 0x24, 0x00, 0x00, 0x00, ...ascii('WAVE')],
  pdf: [...ascii('%PDF-1.7\n%'), 0xe2, 0xe3],
  zip: [0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00],
  emptyZip: [0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0],
  gzip: [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00],
  html: ascii('<!doctype ht'),
  text: ascii('hello, world'),
};
const head = (name: keyof typeof HEADS) => new Uint8Array(HEADS[name]);

describe('mediaTypeOf from the name alone', () => {
  it.each([
    ['photo.png', 'image/png'],
    ['photo.JPG', 'image/jpeg'],
    ['photo.jpeg', 'image/jpeg'],
    ['anim.gif', 'image/gif'],
    ['pic.webp', 'image/webp'],
    ['logo.svg', 'image/svg+xml'],
    ['paper.pdf', 'application/pdf'],
    ['notes.txt', 'text/plain'],
    ['README.md', 'text/markdown'],
    ['data.json', 'application/json'],
    ['table.csv', 'text/csv'],
    ['page.html', 'text/html'],
    ['archive.zip', 'application/zip'],
    ['backup.tar.gz', 'application/gzip'],
    ['backup.tgz', 'application/gzip'],
    ['backup.tar', 'application/x-tar'],
    ['song.mp3', 'audio/mpeg'],
    ['clip.mp4', 'video/mp4'],
    ['clip.webm', 'video/webm'],
    ['voice.ogg', 'audio/ogg'],
    ['voice.wav', 'audio/wav'],
    ['letter.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['sheet.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ['deck.pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
    ['letter.odt', 'application/vnd.oasis.opendocument.text'],
    ['dir.v2/photo.png', 'image/png'],
    ['dir.v2\\README', OCTET_STREAM],
    ['README', OCTET_STREAM],
    ['archive.unknownext', OCTET_STREAM],
    ['.bashrc', OCTET_STREAM],
    ['trailing.', OCTET_STREAM],
    ['', OCTET_STREAM],
  ])('%j → %s', (name, type) => {
    expect(mediaTypeOf(name)).toBe(type);
  });
});

describe('mediaTypeOf with the first bytes', () => {
  it('needs no more than SNIFF_BYTES', () => {
    for (const bytes of Object.values(HEADS)) expect(bytes).toHaveLength(SNIFF_BYTES);
  });

  it('confirms names whose bytes carry their signature', () => {
    expect(mediaTypeOf('a.png', head('png'))).toBe('image/png');
    expect(mediaTypeOf('a.jpg', head('jpeg'))).toBe('image/jpeg');
    expect(mediaTypeOf('a.gif', head('gif87'))).toBe('image/gif');
    expect(mediaTypeOf('a.gif', head('gif89'))).toBe('image/gif');
    expect(mediaTypeOf('a.webp', head('webp'))).toBe('image/webp');
    expect(mediaTypeOf('a.pdf', head('pdf'))).toBe('application/pdf');
    expect(mediaTypeOf('a.zip', head('zip'))).toBe('application/zip');
    expect(mediaTypeOf('empty.zip', head('emptyZip'))).toBe('application/zip');
    expect(mediaTypeOf('a.tar.gz', head('gzip'))).toBe('application/gzip');
  });

  it('keeps the specific type of a ZIP-based document', () => {
    expect(mediaTypeOf('a.docx', head('zip'))).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(mediaTypeOf('a.odt', head('zip'))).toBe('application/vnd.oasis.opendocument.text');
    expect(mediaTypeOf('a.epub', head('zip'))).toBe('application/epub+zip');
  });

  it('believes the bytes over a name that names another signed type', () => {
    expect(mediaTypeOf('photo.png', head('jpeg'))).toBe('image/jpeg');
    expect(mediaTypeOf('report.pdf', head('png'))).toBe('image/png');
    expect(mediaTypeOf('letter.docx', head('pdf'))).toBe('application/pdf');
  });

  it('believes the bytes over a name of an unsigned or unknown type', () => {
    expect(mediaTypeOf('page.html', head('pdf'))).toBe('application/pdf');
    expect(mediaTypeOf('logo.svg', head('png'))).toBe('image/png');
    expect(mediaTypeOf('noextension', head('gif89'))).toBe('image/gif');
  });

  it('gives opaque bytes when the name claims a signature the bytes lack', () => {
    expect(mediaTypeOf('photo.png', head('html'))).toBe(OCTET_STREAM);
    expect(mediaTypeOf('photo.jpg', head('text'))).toBe(OCTET_STREAM);
    expect(mediaTypeOf('pic.webp', head('wav'))).toBe(OCTET_STREAM);
    expect(mediaTypeOf('letter.docx', head('text'))).toBe(OCTET_STREAM);
    expect(mediaTypeOf('a.gz', head('zip'))).toBe('application/zip');
    expect(mediaTypeOf('empty.png', new Uint8Array())).toBe(OCTET_STREAM);
    expect(mediaTypeOf('short.png', head('png').subarray(0, 7))).toBe(OCTET_STREAM);
  });

  it('keeps the name of a type it has no signature for', () => {
    expect(mediaTypeOf('notes.txt', head('text'))).toBe('text/plain');
    expect(mediaTypeOf('page.html', head('html'))).toBe('text/html');
    expect(mediaTypeOf('voice.wav', head('wav'))).toBe('audio/wav');
    expect(mediaTypeOf('mystery', head('text'))).toBe(OCTET_STREAM);
  });
});

describe('isPreviewableImage', () => {
  it('allows the four raster formats only', () => {
    for (const type of ['image/png', 'image/jpeg', 'image/gif', 'image/webp']) {
      expect(isPreviewableImage(type)).toBe(true);
    }
    expect(isPreviewableImage('IMAGE/PNG; charset=binary')).toBe(true);
    for (const type of [
      'image/svg+xml',
      'image/avif',
      'image/bmp',
      'text/html',
      'application/pdf',
      OCTET_STREAM,
      '',
    ]) {
      expect(isPreviewableImage(type)).toBe(false);
    }
  });

  it('is what mediaTypeOf gives for a disguised file', () => {
    expect(isPreviewableImage(mediaTypeOf('photo.png', head('html')))).toBe(false);
    expect(isPreviewableImage(mediaTypeOf('photo.svg'))).toBe(false);
    expect(isPreviewableImage(mediaTypeOf('photo.png', head('png')))).toBe(true);
  });
});
