// What the file UI decides without React: how a size reads, which icon a type gets, whether
// an image may be shown inline, how fast a transfer goes and how long it has left, and which
// dropped or picked files may be sent at all.
import type { FileState, FileView, MessageView } from '../../../shared/api.ts';
import { shortFileName } from '../../../shared/file-names.ts';
import { isPreviewableImage } from '../../../shared/preview.ts';

// ---------------------------------------------------------------------------------------------
// Sizes.

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;
export type SizeUnit = (typeof UNITS)[number];

/**
 * A byte count in the largest binary unit that keeps it at or above 1 (1 KB = 1024 bytes), with
 * three significant digits at most: 0 B, 999 B, 1.5 KB, 12.3 MB, 512 MB, 1.02 GB.
 */
export function splitSize(bytes: number): { value: number; unit: SizeUnit; digits: number } {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`not a size: ${bytes}`);
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return { value: Math.round(value), unit: 'B', digits: 0 };
  // Rounding may carry into the next unit (1023.9 KB shows as 1 MB, not 1024 KB).
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  const rounded = Number(value.toFixed(digits));
  if (rounded >= 1024 && unit < UNITS.length - 1)
    return { value: 1, unit: UNITS[unit + 1]!, digits: 2 };
  return { value: rounded, unit: UNITS[unit]!, digits };
}

/** The unit's words per language ("МБ" in Russian). */
const UNIT_WORDS: Record<string, Record<SizeUnit, string>> = {
  en: { B: 'B', KB: 'KB', MB: 'MB', GB: 'GB', TB: 'TB' },
  ru: { B: 'Б', KB: 'КБ', MB: 'МБ', GB: 'ГБ', TB: 'ТБ' },
};

/** A size for people, in the language's number format: "1.5 MB", "1,5 МБ". */
export function formatSize(bytes: number, language: string): string {
  const { value, unit, digits } = splitSize(bytes);
  const number = new Intl.NumberFormat(language, {
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(value);
  return `${number}\u00a0${(UNIT_WORDS[language] ?? UNIT_WORDS['en']!)[unit]}`;
}

/** Whole seconds as "45 s", "3 min 05 s", "2 h 10 min" (unit words given by the caller). */
export function splitDuration(seconds: number): { h: number; m: number; s: number } {
  const total = Math.max(0, Math.ceil(seconds));
  return { h: Math.floor(total / 3600), m: Math.floor((total % 3600) / 60), s: total % 60 };
}

// ---------------------------------------------------------------------------------------------
// Types.

export type FileKind = 'image' | 'video' | 'audio' | 'pdf' | 'archive' | 'text' | 'generic';

const ARCHIVES = new Set([
  'application/zip',
  'application/gzip',
  'application/x-gzip',
  'application/x-tar',
  'application/x-7z-compressed',
  'application/vnd.rar',
  'application/x-rar-compressed',
  'application/x-bzip2',
  'application/x-xz',
  'application/zstd',
]);
const TEXTS = new Set([
  'application/json',
  'application/xml',
  'application/rtf',
  'application/javascript',
  'application/x-yaml',
  'application/yaml',
]);
const ARCHIVE_EXTENSIONS = new Set(['zip', 'gz', 'tgz', 'tar', '7z', 'rar', 'bz2', 'xz', 'zst']);
const TEXT_EXTENSIONS = new Set(['txt', 'md', 'csv', 'log', 'json', 'xml', 'yaml', 'yml']);

/**
 * Which icon a file gets: from its media type, or from its name's extension while the type is
 * unknown (an incoming file before its header) or says nothing (octet-stream).
 */
export function fileKind(type: string | null, name: string | null): FileKind {
  const t = (type ?? '').toLowerCase().split(';')[0]!.trim();
  if (t.startsWith('image/')) return 'image';
  if (t.startsWith('video/')) return 'video';
  if (t.startsWith('audio/')) return 'audio';
  if (t === 'application/pdf') return 'pdf';
  if (ARCHIVES.has(t)) return 'archive';
  if (t.startsWith('text/') || TEXTS.has(t)) return 'text';
  if (t !== '' && t !== 'application/octet-stream') return 'generic';
  const ext = /\.([A-Za-z0-9]+)$/.exec(name ?? '')?.[1]?.toLowerCase() ?? '';
  if (ARCHIVE_EXTENSIONS.has(ext)) return 'archive';
  if (TEXT_EXTENSIONS.has(ext)) return 'text';
  if (ext === 'pdf') return 'pdf';
  return 'generic';
}

/** A finished raster image (never SVG: it may carry scripts). */
export function isPreviewable(file: Pick<FileView, 'type' | 'state'>): boolean {
  return file.state === 'done' && file.type !== null && isPreviewableImage(file.type);
}

// ---------------------------------------------------------------------------------------------
// Progress.

/** States in which bytes move (or wait to) and a progress bar shows. */
export function isInFlight(state: FileState): boolean {
  return (
    state === 'sending' || state === 'paused' || state === 'receiving' || state === 'verifying'
  );
}

/** How far a file is, 0..1; 0 while its size is unknown. */
export function fileFraction(file: Pick<FileView, 'size' | 'bytesDone' | 'state'>): number {
  if (file.state === 'done') return 1;
  if (file.size === null) return 0;
  if (file.size === 0) return file.state === 'verifying' ? 1 : 0;
  return Math.min(1, Math.max(0, file.bytesDone / file.size));
}

/** How long a file's name may be in a one-line preview (shortened in the middle beyond). */
const PREVIEW_NAME_CHARS = 40;

/** One line about a file message for the contact list and notifications. */
export function filePreview(m: Pick<MessageView, 'file'>): string | null {
  if (m.file === null) return null;
  return `📎 ${m.file.name === null ? '…' : shortFileName(m.file.name, PREVIEW_NAME_CHARS)}`;
}

/**
 * A transfer's speed from successive samples of its bytes done, smoothed so that the figure
 * does not jump with every progress event: an exponentially weighted mean of the rates between
 * samples, weighted by how long each lasted (time constant `tauMs`). Samples closer together
 * than `minGapMs` are merged into the next one, and a count that goes backwards (the transfer
 * started over) starts the meter afresh.
 */
export class RateMeter {
  private last: { at: number; bytes: number } | null = null;
  private rate: number | null = null;
  private readonly tauMs: number;
  private readonly minGapMs: number;

  constructor({ tauMs = 3000, minGapMs = 100 }: { tauMs?: number; minGapMs?: number } = {}) {
    this.tauMs = tauMs;
    this.minGapMs = minGapMs;
  }

  sample(at: number, bytes: number): void {
    const last = this.last;
    if (last === null || bytes < last.bytes || at < last.at) {
      this.last = { at, bytes };
      this.rate = null;
      return;
    }
    const dt = at - last.at;
    if (dt < this.minGapMs) return;
    const instant = ((bytes - last.bytes) * 1000) / dt;
    const weight = 1 - Math.exp(-dt / this.tauMs);
    this.rate = this.rate === null ? instant : this.rate + weight * (instant - this.rate);
    this.last = { at, bytes };
  }

  /** Bytes per second; null until two samples far enough apart have come. */
  get bytesPerSecond(): number | null {
    return this.rate;
  }

  /** Seconds until `total` at the current rate; null while the rate is unknown or zero. */
  secondsLeft(total: number): number | null {
    if (this.rate === null || this.rate <= 0 || this.last === null) return null;
    return Math.max(0, total - this.last.bytes) / this.rate;
  }
}

// ---------------------------------------------------------------------------------------------
// Choosing files to send.

/** The part of a File these decisions read (a test builds them without a DOM). */
export interface FileLike {
  name: string;
  size: number;
}

export interface SendPlan<F extends FileLike> {
  /** To send, in the order given. */
  send: F[];
  /** Refused at once: larger than the limit. */
  tooLarge: F[];
}

/** Splits picked or dropped files into those to send and those over the size limit. */
export function planSend<F extends FileLike>(
  files: readonly F[],
  maxFileBytes: number,
): SendPlan<F> {
  const plan: SendPlan<F> = { send: [], tooLarge: [] };
  for (const f of files) (f.size > maxFileBytes ? plan.tooLarge : plan.send).push(f);
  return plan;
}

/**
 * Whether a drag carries files (not text or a link dragged from the page), from its
 * DataTransfer's types: only then does the chat show its drop overlay and take the drop.
 */
export function dragHasFiles(types: readonly string[] | DOMStringList): boolean {
  return Array.from(types as ArrayLike<string>).includes('Files');
}

/**
 * The user-facing reason an upload to the browser host failed, from its HTTP status: the size
 * limit, a full disk, or anything else with the server's own words.
 */
export type UploadFailure =
  | { kind: 'tooLarge' }
  | { kind: 'diskFull' }
  | { kind: 'network' }
  | { kind: 'other'; status: number; detail: string };

export function uploadFailure(status: number, body: string): UploadFailure {
  if (status === 0) return { kind: 'network' };
  if (status === 413) return { kind: 'tooLarge' };
  if (status === 507) return { kind: 'diskFull' };
  return { kind: 'other', status, detail: (field(body, 'error') ?? body).trim().slice(0, 300) };
}

/** The id in the browser host's answer to POST /upload: `{"upload": "...", ...}`. */
export function uploadIdOf(body: string): string | null {
  const id = field(body, 'upload');
  return id !== null && /^[A-Za-z0-9_-]{16,64}$/.test(id) ? id : null;
}

/** A string field of a JSON object body; null if the body is not one or lacks it. */
function field(body: string, name: string): string | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    const value = (parsed as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

/**
 * The folder of a path on the host's machine (either separator: the host may run on Windows),
 * for "Saved in …"; the path itself when it names no folder.
 */
export function folderOf(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  if (cut < 0) return path;
  // The root keeps its separator: "/" or "C:\".
  return cut === 0 || path[cut - 1] === ':' ? path.slice(0, cut + 1) : path.slice(0, cut);
}
