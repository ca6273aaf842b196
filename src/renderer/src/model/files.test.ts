import { describe, expect, it } from 'vitest';
import {
  RateMeter,
  dragHasFiles,
  fileFraction,
  fileKind,
  filePreview,
  formatSize,
  isInFlight,
  isPreviewable,
  planSend,
  splitDuration,
  splitSize,
  uploadFailure,
  uploadIdOf,
  folderOf,
} from './files.ts';
import { message } from './testing.ts';

describe('splitSize / formatSize', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1 KB'],
    [1536, '1.5 KB'],
    [10 * 1024 + 512, '10.5 KB'],
    [2 * 1024 * 1024, '2 MB'],
    [512 * 1024 * 1024, '512 MB'],
    [1024 * 1024 * 1024 - 1, '1 GB'],
    [1.5 * 1024 ** 3, '1.5 GB'],
    [3 * 1024 ** 4, '3 TB'],
  ])('%d bytes read as %s in English', (bytes, text) => {
    expect(formatSize(bytes, 'en')).toBe(text.replace(' ', '\u00a0'));
  });

  it('uses the decimal comma and Russian units in Russian', () => {
    expect(formatSize(1536, 'ru')).toBe('1,5\u00a0КБ');
    expect(formatSize(200, 'ru')).toBe('200\u00a0Б');
  });

  it('keeps at most three significant digits', () => {
    expect(splitSize(123.456 * 1024 * 1024)).toEqual({ value: 123, unit: 'MB', digits: 0 });
    expect(splitSize(12.345 * 1024)).toEqual({ value: 12.3, unit: 'KB', digits: 1 });
    expect(splitSize(1.2345 * 1024)).toEqual({ value: 1.23, unit: 'KB', digits: 2 });
  });

  it('refuses what is not a size', () => {
    expect(() => splitSize(-1)).toThrow(RangeError);
    expect(() => splitSize(Number.NaN)).toThrow(RangeError);
  });
});

describe('splitDuration', () => {
  it('splits whole seconds, rounding up', () => {
    expect(splitDuration(0)).toEqual({ h: 0, m: 0, s: 0 });
    expect(splitDuration(44.2)).toEqual({ h: 0, m: 0, s: 45 });
    expect(splitDuration(185)).toEqual({ h: 0, m: 3, s: 5 });
    expect(splitDuration(2 * 3600 + 10 * 60)).toEqual({ h: 2, m: 10, s: 0 });
    expect(splitDuration(-5)).toEqual({ h: 0, m: 0, s: 0 });
  });
});

describe('fileKind', () => {
  it.each([
    ['image/png', 'a.png', 'image'],
    ['image/svg+xml', 'a.svg', 'image'],
    ['video/mp4', 'a.mp4', 'video'],
    ['audio/mpeg', 'a.mp3', 'audio'],
    ['application/pdf', 'a.pdf', 'pdf'],
    ['application/zip', 'a.zip', 'archive'],
    ['application/x-7z-compressed', 'a.7z', 'archive'],
    ['text/plain', 'a.txt', 'text'],
    ['text/csv; charset=utf-8', 'a.csv', 'text'],
    ['application/json', 'a.json', 'text'],
    ['application/msword', 'a.doc', 'generic'],
  ] as const)('%s is %s', (type, name, kind) => {
    expect(fileKind(type, name)).toBe(kind);
  });

  it('falls back to the extension while the type is unknown or says nothing', () => {
    expect(fileKind(null, 'backup.tar.gz')).toBe('archive');
    expect(fileKind('application/octet-stream', 'notes.MD')).toBe('text');
    expect(fileKind(null, 'paper.pdf')).toBe('pdf');
    expect(fileKind(null, null)).toBe('generic');
    expect(fileKind('application/octet-stream', 'data.bin')).toBe('generic');
  });

  it('never calls a named type by its extension (the type was checked, the name may lie)', () => {
    expect(fileKind('image/jpeg', 'report.pdf')).toBe('image');
  });
});

describe('isPreviewable', () => {
  it('shows finished raster images only', () => {
    expect(isPreviewable({ type: 'image/png', state: 'done' })).toBe(true);
    expect(isPreviewable({ type: 'image/webp', state: 'done' })).toBe(true);
    expect(isPreviewable({ type: 'image/png', state: 'receiving' })).toBe(false);
    expect(isPreviewable({ type: 'image/svg+xml', state: 'done' })).toBe(false);
    expect(isPreviewable({ type: 'image/tiff', state: 'done' })).toBe(false);
    expect(isPreviewable({ type: null, state: 'done' })).toBe(false);
  });
});

describe('progress', () => {
  it('is a fraction of the size, 1 once done, 0 while the size is unknown', () => {
    expect(fileFraction({ size: 200, bytesDone: 50, state: 'receiving' })).toBe(0.25);
    expect(fileFraction({ size: null, bytesDone: 50, state: 'receiving' })).toBe(0);
    expect(fileFraction({ size: 200, bytesDone: 300, state: 'sending' })).toBe(1);
    expect(fileFraction({ size: 200, bytesDone: 0, state: 'done' })).toBe(1);
    expect(fileFraction({ size: 0, bytesDone: 0, state: 'sending' })).toBe(0);
  });

  it('knows which states move bytes', () => {
    expect(['sending', 'paused', 'receiving', 'verifying'].every((s) => isInFlight(s as never)));
    expect(isInFlight('done') || isInFlight('failed') || isInFlight('cancelled')).toBe(false);
  });
});

describe('filePreview', () => {
  it('is a paper clip and the name for files, null for text', () => {
    const file = {
      name: 'slides.pdf',
      size: 10,
      type: 'application/pdf',
      sha256: null,
      state: 'done' as const,
      bytesDone: 10,
      path: null,
      error: null,
      reason: null,
      cancelledBy: null,
      held: null,
    };
    expect(filePreview(message({ id: 1, text: null, file }))).toBe('📎 slides.pdf');
    expect(filePreview(message({ id: 2, text: null, file: { ...file, name: null } }))).toBe('📎 …');
    expect(filePreview(message({ id: 3 }))).toBeNull();
  });

  it('shows the real extension of a long or disguised name', () => {
    const file = {
      name: `${'quarterly report '.repeat(5)}.pdf.exe`,
      size: 10,
      type: null,
      sha256: null,
      state: 'done' as const,
      bytesDone: 10,
      path: null,
      error: null,
      reason: null,
      cancelledBy: null,
      held: null,
    };
    expect(filePreview(message({ id: 1, text: null, file }))).toMatch(/^📎 quarterly .*….*\.exe$/u);
    const override = { ...file, name: 'photo\u202Egpj.exe' };
    expect(filePreview(message({ id: 2, text: null, file: override }))).toBe('📎 photogpj.exe');
  });
});

describe('RateMeter', () => {
  it('knows no rate from one sample', () => {
    const meter = new RateMeter();
    meter.sample(0, 0);
    expect(meter.bytesPerSecond).toBeNull();
    expect(meter.secondsLeft(100)).toBeNull();
  });

  it('measures a steady rate exactly and the time left from it', () => {
    const meter = new RateMeter();
    for (let i = 0; i <= 10; i++) meter.sample(i * 250, i * 25_000);
    expect(meter.bytesPerSecond).toBeCloseTo(100_000, 6);
    expect(meter.secondsLeft(1_250_000)).toBeCloseTo(10, 6);
  });

  it('smooths a burst instead of jumping to it', () => {
    const meter = new RateMeter({ tauMs: 3000 });
    for (let i = 0; i <= 8; i++) meter.sample(i * 250, i * 25_000); // 100 kB/s
    meter.sample(2250, 200_000 + 250_000); // one burst at 1 MB/s
    const rate = meter.bytesPerSecond!;
    expect(rate).toBeGreaterThan(100_000);
    expect(rate).toBeLessThan(250_000);
  });

  it('falls towards zero while nothing moves', () => {
    const meter = new RateMeter({ tauMs: 1000 });
    meter.sample(0, 0);
    meter.sample(1000, 100_000);
    for (let t = 1250; t <= 6000; t += 250) meter.sample(t, 100_000);
    expect(meter.bytesPerSecond!).toBeLessThan(1000);
    meter.sample(6250, 100_000);
    expect(meter.secondsLeft(200_000)!).toBeGreaterThan(100);
  });

  it('merges samples closer than the minimum gap', () => {
    const meter = new RateMeter({ minGapMs: 100 });
    meter.sample(0, 0);
    meter.sample(10, 5_000); // 500 kB/s over 10 ms would be noise
    expect(meter.bytesPerSecond).toBeNull();
    meter.sample(1000, 10_000);
    expect(meter.bytesPerSecond).toBeCloseTo(10_000, 6);
  });

  it('starts afresh when the count goes backwards', () => {
    const meter = new RateMeter();
    meter.sample(0, 0);
    meter.sample(1000, 50_000);
    meter.sample(2000, 10_000);
    expect(meter.bytesPerSecond).toBeNull();
    meter.sample(3000, 30_000);
    expect(meter.bytesPerSecond).toBeCloseTo(20_000, 6);
  });

  it('has no time left at a rate of zero', () => {
    const meter = new RateMeter();
    meter.sample(0, 10);
    meter.sample(1000, 10);
    expect(meter.bytesPerSecond).toBe(0);
    expect(meter.secondsLeft(100)).toBeNull();
  });
});

describe('choosing files', () => {
  it('sends those within the limit, in order, and refuses the rest', () => {
    const files = [
      { name: 'a', size: 10 },
      { name: 'b', size: 101 },
      { name: 'c', size: 100 },
      { name: 'd', size: 0 },
    ];
    expect(planSend(files, 100)).toEqual({
      send: [files[0], files[2], files[3]],
      tooLarge: [files[1]],
    });
  });

  it('takes a drag only when it carries files', () => {
    expect(dragHasFiles(['Files'])).toBe(true);
    expect(dragHasFiles(['text/plain', 'Files'])).toBe(true);
    expect(dragHasFiles(['text/plain', 'text/uri-list'])).toBe(false);
    expect(dragHasFiles([])).toBe(false);
  });

  it('names why an upload failed', () => {
    expect(uploadFailure(413, 'too big')).toEqual({ kind: 'tooLarge' });
    expect(uploadFailure(507, '')).toEqual({ kind: 'diskFull' });
    expect(uploadFailure(0, '')).toEqual({ kind: 'network' });
    expect(uploadFailure(409, '{"error":"log in before sending files"}')).toEqual({
      kind: 'other',
      status: 409,
      detail: 'log in before sending files',
    });
    expect(uploadFailure(400, '  bad name \n')).toEqual({
      kind: 'other',
      status: 400,
      detail: 'bad name',
    });
  });
});

describe('uploadIdOf', () => {
  it("reads the id of the browser host's answer", () => {
    const id = 'abcdefghijklmnop_1234';
    expect(uploadIdOf(JSON.stringify({ upload: id, name: 'a', size: 1 }))).toBe(id);
  });

  it('refuses answers without a well-formed id', () => {
    expect(uploadIdOf('{"upload":"short"}')).toBeNull();
    expect(uploadIdOf('{"upload":"../../etc/passwd/aaaaaaaa"}')).toBeNull();
    expect(uploadIdOf('{"id":"abcdefghijklmnop_1234"}')).toBeNull();
    expect(uploadIdOf('[1]')).toBeNull();
    expect(uploadIdOf('not json')).toBeNull();
  });
});

describe('folderOf', () => {
  it('is the folder a received file was saved in, on any host', () => {
    expect(folderOf('/home/amy/Downloads/Strata/notes.txt')).toBe('/home/amy/Downloads/Strata');
    expect(folderOf('C:\\Users\\amy\\Downloads\\notes.txt')).toBe('C:\\Users\\amy\\Downloads');
    expect(folderOf('/notes.txt')).toBe('/');
    expect(folderOf('C:\\notes.txt')).toBe('C:\\');
    expect(folderOf('notes.txt')).toBe('notes.txt');
  });
});
