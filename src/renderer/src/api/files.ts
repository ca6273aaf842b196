// How a File the user picked or dropped becomes something its host can send: its path on disk
// (Electron's preload resolves it) or the id of an upload to the browser host (POST /upload).
// The store asks for that through ApiClient.stageFile and never touches either host's I/O.
import { uploadFailure, uploadIdOf, type UploadFailure } from '../model/files.ts';

/** What `sendFile` takes besides the recipient: exactly one of the two. */
export type FileSource = { path: string } | { upload: string };

export interface StageOptions {
  /** Bytes the host has taken so far; called only by hosts that copy the file's bytes. */
  onProgress(loaded: number): void;
  /** Aborting stops the copy; the stage then fails with `aborted`. */
  signal: AbortSignal;
}

/** Why a file could not be handed to its host. */
export type StageFailure =
  | UploadFailure
  | { kind: 'aborted' }
  | { kind: 'badReply' }
  /** Electron: no file on disk backs the File (e.g. an image pasted from the clipboard). */
  | { kind: 'noPath' };

export class StageError extends Error {
  override name = 'StageError';
  readonly failure: StageFailure;
  constructor(failure: StageFailure) {
    super(failure.kind);
    this.failure = failure;
  }
}

export type StageFile = (file: File, options: StageOptions) => Promise<FileSource>;

/** Electron: the preload's path of the File; nothing is copied. */
export function stageByPath(files: StrataFiles | undefined): StageFile {
  return async (file) => {
    let path: string | null;
    try {
      path = files?.pathForFile(file) ?? null;
    } catch {
      path = null;
    }
    if (path === null) throw new StageError({ kind: 'noPath' });
    return { path };
  };
}

/**
 * The browser host: streams the file to POST /upload (same origin, so its cookie carries the
 * token). XMLHttpRequest, not fetch, because only it reports upload progress.
 */
export const stageByUpload: StageFile = (file, { onProgress, signal }) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new StageError({ kind: 'aborted' }));
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/upload');
    xhr.setRequestHeader('X-File-Name', encodeURIComponent(file.name));
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        const id = uploadIdOf(xhr.responseText);
        if (id !== null) resolve({ upload: id });
        else reject(new StageError({ kind: 'badReply' }));
        return;
      }
      reject(new StageError(uploadFailure(xhr.status, xhr.responseText)));
    };
    xhr.onerror = () => reject(new StageError({ kind: 'network' }));
    xhr.onabort = () => reject(new StageError({ kind: 'aborted' }));
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    onProgress(0);
    xhr.send(file);
  });
