// Files: sending picked or dropped files (the api adapter hands each to its host), controlling
// them, how fast they move, their previews, and the file settings.
import type { MessageView } from '../../../shared/api.ts';
import type { FileSettingsPatch, FileSettingsView } from '../../../shared/contract.ts';
import { StageError, type FileSource } from '../api/index.ts';
import { describeError } from '../errors.ts';
import type { Translate } from '../i18n.ts';
import { RateMeter, formatSize, isInFlight, planSend } from '../model/files.ts';
import { SizedCache } from '../model/sized-cache.ts';
import type { Slice } from './types.ts';

/** Previews kept, by their total length in data-URL characters. */
const PREVIEW_CACHE_CHARS = 32 * 1024 * 1024;

export interface TransferRate {
  bytesPerSecond: number | null;
  secondsLeft: number | null;
}

/** A file on its way to the host (the browser host's POST /upload), before it is a message. */
export interface Upload {
  id: number;
  peer: string;
  name: string;
  size: number;
  /** Bytes the host has taken so far. */
  loaded: number;
}

export interface TransfersSlice {
  /** Speed and time left of the files in flight, by message key (both directions). */
  rates: Record<string, TransferRate>;
  uploads: Upload[];
  /**
   * Sends picked or dropped files to `peer`, one after another in the order given: each shows
   * as a message as soon as the host has taken it. Files over the size limit are refused at
   * once, and each failure is a toast that names its file.
   */
  sendFiles(peer: string, files: readonly File[]): Promise<void>;
  /**
   * Sends a text too long for a message as a .txt file, through the same path as a picked
   * file; resolves true once the host has taken it (a failure is a toast, and false).
   */
  sendTextAsFile(peer: string, text: string): Promise<boolean>;
  /** Stops an upload still on its way to the host (its file is then not sent). */
  cancelUpload(id: number): void;
  controlFile(key: string, action: 'pause' | 'resume' | 'cancel'): Promise<void>;
  /**
   * A finished image's preview as a data URL (its bytes through the API, in either host), or
   * null when it has none; remembered so that scrolling back does not fetch it again.
   */
  loadFilePreview(key: string): Promise<string | null>;
  /** Electron: opens a finished file, or shows it in its folder. */
  openFile(key: string, reveal: boolean): Promise<void>;
  /** Saves the size limit; throws ApiError for the form to show. */
  updateFileSettings(patch: FileSettingsPatch): Promise<FileSettingsView>;
  /**
   * Desktop app: the system's folder picker (shown by the main process) sets the downloads
   * folder; null when the user cancelled. Throws ApiError for the form to show.
   */
  chooseDownloadsDir(): Promise<FileSettingsView | null>;

  // For the other slices.
  /** Feeds a file message's progress to its meter; the meter goes when the file stops. */
  sampleTransfer(m: MessageView): void;
}

function describeFileError(name: string, e: unknown, t: Translate): string {
  if (e instanceof StageError) {
    const f = e.failure;
    switch (f.kind) {
      case 'tooLarge':
        return t('file.uploadTooLarge', { name });
      case 'diskFull':
        return t('file.uploadDiskFull', { name });
      case 'network':
        return t('file.uploadNetwork', { name });
      case 'aborted':
        return t('file.uploadCancelled', { name });
      case 'noPath':
        return t('file.noPath', { name });
      case 'badReply':
        return t('file.sendFailed', { name, detail: t('file.badUploadReply') });
      case 'other':
        return t('file.sendFailed', { name, detail: f.detail || String(f.status) });
    }
  }
  return t('file.sendFailed', { name, detail: describeError(e, t) });
}

/** A long text's file name, from when it was sent: message-2026-12-03-1405.txt. */
export function textFileName(at: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const day = `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}`;
  return `message-${day}-${two(at.getHours())}${two(at.getMinutes())}.txt`;
}

export const createTransfersSlice: Slice<TransfersSlice> = () => (set, get) => {
  const meters = new Map<string, RateMeter>();
  let nextUploadId = 1;
  /** Ongoing uploads' aborts, by upload id (the state holds data only). */
  const uploadAborts = new Map<number, AbortController>();
  /**
   * Previews by message key, as data URLs (null: none), least recently used first; bounded
   * by their total length, so a history of large photos keeps a few of them, not all.
   */
  const previews = new SizedCache<string | null>(PREVIEW_CACHE_CHARS, (url) => url?.length ?? 0);
  /** Previews on their way, so that two bubbles of one message ask once. */
  const previewsLoading = new Map<string, Promise<string | null>>();

  function setUpload(id: number, patch: Partial<Upload> | null): void {
    set((s) => ({
      uploads:
        patch === null
          ? s.uploads.filter((u) => u.id !== id)
          : s.uploads.map((u) => (u.id === id ? { ...u, ...patch } : u)),
    }));
  }

  /** Hands one file to the host, showing its upload while the host copies it. */
  async function stage(peer: string, file: File): Promise<FileSource> {
    const client = get().requireClient();
    const id = nextUploadId++;
    const abort = new AbortController();
    uploadAborts.set(id, abort);
    let shown = false;
    try {
      return await client.stageFile(file, {
        signal: abort.signal,
        onProgress: (loaded) => {
          if (shown) return setUpload(id, { loaded });
          shown = true;
          set((s) => ({
            uploads: [...s.uploads, { id, peer, name: file.name, size: file.size, loaded }],
          }));
        },
      });
    } finally {
      uploadAborts.delete(id);
      if (shown) setUpload(id, null);
    }
  }

  /** Sends one file; a failure is a toast that names it. */
  async function sendOne(peer: string, file: File): Promise<boolean> {
    try {
      const source = await stage(peer, file);
      const view = await get()
        .requireClient()
        .call('sendFile', { to: peer, ...source });
      get().addSent(peer, view);
      return true;
    } catch (e) {
      get().showToast(describeFileError(file.name, e, get().t));
      return false;
    }
  }

  async function fetchPreview(key: string): Promise<string | null> {
    const client = get().client();
    if (client === null) return null;
    let url: string | null;
    try {
      const preview = await client.call('filePreview', { key });
      url = preview === null ? null : `data:${preview.type};base64,${preview.base64}`;
    } catch {
      // No preview is no loss: the bubble shows the file's icon and name instead (and may
      // ask again later).
      return null;
    }
    previews.set(key, url);
    return url;
  }

  return {
    rates: {},
    uploads: [],

    async sendFiles(peer, files) {
      const { session, client, showToast, t, language } = get();
      const current = session();
      if (current === null || client() === null) {
        showToast(t('connect.lost'));
        return;
      }
      if (current.files === null) {
        showToast(t('file.notReady'));
        return;
      }
      const plan = planSend(files, current.files.maxFileBytes);
      for (const f of plan.tooLarge) {
        showToast(
          t('file.tooLarge', {
            name: f.name,
            size: formatSize(f.size, language),
            max: formatSize(current.files.maxFileBytes, language),
          }),
        );
      }
      for (const file of plan.send) await sendOne(peer, file);
    },

    async sendTextAsFile(peer, text) {
      const { session, showToast, t, language } = get();
      const limit = session()?.files?.maxFileBytes;
      if (limit === undefined) {
        showToast(t('file.notReady'));
        return false;
      }
      const file = new File([text], textFileName(new Date()), { type: 'text/plain' });
      if (file.size > limit) {
        showToast(
          t('file.tooLarge', {
            name: file.name,
            size: formatSize(file.size, language),
            max: formatSize(limit, language),
          }),
        );
        return false;
      }
      return sendOne(peer, file);
    },

    cancelUpload(id) {
      uploadAborts.get(id)?.abort();
    },

    async controlFile(key, action) {
      const { client, showToast, t } = get();
      const api = client();
      if (api === null) return;
      try {
        if (!(await api.call('controlFile', { key, action }))) showToast(t('file.controlRefused'));
      } catch (e) {
        showToast(describeError(e, t));
      }
    },

    loadFilePreview(key) {
      if (previews.has(key)) return Promise.resolve(previews.get(key)!);
      let loading = previewsLoading.get(key);
      if (!loading) {
        loading = fetchPreview(key).finally(() => previewsLoading.delete(key));
        previewsLoading.set(key, loading);
      }
      return loading;
    },

    async openFile(key, reveal) {
      const { client, showToast, t } = get();
      const api = client();
      if (api === null) return;
      try {
        await api.call('openFile', reveal ? { key, reveal } : { key });
      } catch (e) {
        showToast(t('file.openFailed', { detail: describeError(e, t) }));
      }
    },

    async updateFileSettings(patch) {
      const saved = await get().requireClient().call('updateFileSettings', { patch });
      get().patchSession({ files: saved });
      return saved;
    },

    async chooseDownloadsDir() {
      const saved = await get().requireClient().call('chooseDownloadsDir', {});
      if (saved !== null) get().patchSession({ files: saved });
      return saved;
    },

    sampleTransfer(m) {
      const file = m.file;
      if (file === null) return;
      const moving =
        isInFlight(file.state) && file.state !== 'paused' && file.state !== 'verifying';
      if (!moving) {
        // A paused file's next rate starts afresh on resume, not from the long pause.
        if (meters.delete(m.key)) {
          set((s) => {
            const { [m.key]: _gone, ...rest } = s.rates;
            return { rates: rest };
          });
        }
        return;
      }
      let meter = meters.get(m.key);
      if (meter === undefined) {
        meter = new RateMeter();
        meters.set(m.key, meter);
      }
      meter.sample(performance.now(), file.bytesDone);
      const rate: TransferRate = {
        bytesPerSecond: meter.bytesPerSecond,
        secondsLeft: file.size === null ? null : meter.secondsLeft(file.size),
      };
      set((s) => ({ rates: { ...s.rates, [m.key]: rate } }));
    },
  };
};
