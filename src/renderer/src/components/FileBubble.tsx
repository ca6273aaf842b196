// A file message: its type icon, name and size, a preview for a finished image,
// while it moves a progress bar with the speed and time left, and what can be done with it:
// Pause / Resume / Cancel our own file in flight, Cancel one arriving; Open and Show in folder (desktop app) or
// Download (browser) once it is here; the reason when it failed; who paused or cancelled it.
// The name is shown with its real extension always in sight (a long name is shortened in the
// middle); a file of a type that can run programs gets a warning, and no Open.
import type { FileView, MessageView } from '../../../shared/api.ts';
import { displayFileName, isDangerousFileName } from '../../../shared/file-names.ts';
import { useLanguage, useT, type Language, type Translate } from '../i18n.ts';
import {
  fileFraction,
  fileKind,
  folderOf,
  formatSize,
  isInFlight,
  isPreviewable,
  splitDuration,
} from '../model/files.ts';
import { useEffect, useState } from 'react';
import { PREVIEW_MAX_BYTES } from '../../../shared/preview.ts';
import { describeFileFailure } from '../model/reasons.ts';
import { useStrata, useStrataStore } from '../store/index.ts';
import {
  CloseIcon,
  DownloadIcon,
  FileKindIcon,
  FolderIcon,
  OpenIcon,
  PauseIcon,
  PlayIcon,
} from './Icons.tsx';
import { FileWaiting } from './FileWaiting.tsx';

/** The browser host's address of a message's file (same origin; the cookie carries the token). */
export function fileUrl(key: string, inline = false): string {
  return `/files/${encodeURIComponent(key)}${inline ? '?inline=1' : ''}`;
}

/** The data URL of a finished image's preview, once loaded; null while loading or without. */
function useFilePreview(key: string, wanted: boolean): string | null {
  const [loaded, setLoaded] = useState<{ key: string; url: string | null } | null>(null);
  const { loadFilePreview } = useStrataStore().getState();
  useEffect(() => {
    if (!wanted) return;
    let live = true;
    void loadFilePreview(key).then((url) => {
      if (live) setLoaded({ key, url });
    });
    return () => {
      live = false;
    };
  }, [key, wanted, loadFilePreview]);
  return wanted && loaded?.key === key ? loaded.url : null;
}

export function FileBubble({ m, file }: { m: MessageView; file: FileView }) {
  const t = useT();
  const language = useLanguage();
  const { openFile } = useStrataStore().getState();
  const host = useStrata((s) => (s.phase.kind === 'ready' ? s.phase.session.host : null));
  const kind = fileKind(file.type, file.name);
  const shown = file.name === null ? null : displayFileName(file.name);
  const name = shown === null ? t('file.unknownName') : shown.stem + shown.extension;
  const dangerous = isDangerous(file);
  const own = m.direction === 'out';
  // A small image comes as data through the API in either host (Electron's renderer may load
  // no file by address); a larger one only the browser host can show, by its address.
  const previewable = isPreviewable(file);
  const small = previewable && file.size !== null && file.size <= PREVIEW_MAX_BYTES;
  const data = useFilePreview(m.key, small);
  const src = small ? data : previewable && host === 'browser' ? fileUrl(m.key, true) : null;
  const image =
    src === null ? null : (
      <img
        data-testid="file-preview"
        src={src}
        alt={t('file.previewAlt', { name })}
        loading="lazy"
        decoding="async"
      />
    );
  return (
    <div
      className={`file-bubble file-${file.state}`}
      data-testid="file-bubble"
      data-state={file.state}
      role="group"
      aria-label={t('file.region', { name })}
    >
      {image !== null &&
        (host === 'browser' ? (
          <a className="file-preview" href={fileUrl(m.key)} download={name}>
            {image}
          </a>
        ) : (
          <button
            type="button"
            className="file-preview"
            onClick={() => void openFile(m.key, dangerous)}
            aria-label={t(dangerous ? 'file.reveal' : 'file.open')}
          >
            {image}
          </button>
        ))}
      <div className="file-main">
        <span className="file-icon" role="img" aria-label={t(`file.kind.${kind}`)}>
          <FileKindIcon kind={kind} />
        </span>
        <span className="file-info">
          {/* The stem gives way (ellipsis) and the extension never does; left to right and
              isolated, so that no letter of the name can move the extension elsewhere. */}
          <span className="file-name" data-testid="file-name" title={name} dir="ltr">
            <span className="file-name-stem">{shown === null ? name : shown.stem}</span>
            {shown !== null && shown.extension !== '' && (
              <span className="file-name-ext" data-testid="file-extension">
                {shown.extension}
              </span>
            )}
          </span>
          <span className="file-size" data-testid="file-size">
            {file.size === null ? t('file.waitingHeader') : formatSize(file.size, language)}
          </span>
        </span>
        <FileActions m={m} file={file} own={own} host={host} t={t} />
      </div>
      {isInFlight(file.state) && <FileProgress m={m} file={file} t={t} language={language} />}
      {dangerous && (
        <span className="file-note file-dangerous" data-testid="file-dangerous" role="note">
          <span className="status-failed-mark" aria-hidden="true">
            !
          </span>
          <span>{t(host === 'browser' ? 'file.dangerousBrowser' : 'file.dangerous')}</span>
        </span>
      )}
      <FileWaiting m={m} file={file} />
      {!own && file.state === 'done' && file.path !== null && (
        // Where the file is on the host's machine (the desktop app can also show it there).
        <span className="file-note file-saved" data-testid="file-saved" title={file.path}>
          {t('file.savedIn', { folder: folderOf(file.path) })}
        </span>
      )}
      {file.state === 'failed' && (
        <span className="file-error" data-testid="file-error" role="alert">
          <span className="status-failed-mark" aria-hidden="true">
            !
          </span>
          <span>
            {file.reason === null
              ? t('file.failedUnknown')
              : t('file.failed', { detail: describeFileFailure(file.reason, t, language) })}
          </span>
        </span>
      )}
      {file.state === 'cancelled' && (
        <span className="file-note" data-testid="file-cancelled">
          {t(
            file.cancelledBy === 'peer'
              ? own
                ? 'file.cancelledByReceiver'
                : 'file.cancelledBySender'
              : 'file.cancelledByYou',
          )}
        </span>
      )}
    </div>
  );
}

function FileActions({
  m,
  file,
  own,
  host,
  t,
}: {
  m: MessageView;
  file: FileView;
  own: boolean;
  host: 'electron' | 'browser' | null;
  t: Translate;
}) {
  const { controlFile, openFile } = useStrataStore().getState();
  const buttons = [];
  if (own && (file.state === 'sending' || file.state === 'paused')) {
    buttons.push(
      file.state === 'paused' ? (
        <IconButton
          key="resume"
          testId="file-resume"
          label={t('file.resume')}
          onClick={() => void controlFile(m.key, 'resume')}
        >
          <PlayIcon />
        </IconButton>
      ) : (
        <IconButton
          key="pause"
          testId="file-pause"
          label={t('file.pause')}
          onClick={() => void controlFile(m.key, 'pause')}
        >
          <PauseIcon />
        </IconButton>
      ),
      <IconButton
        key="cancel"
        testId="file-cancel"
        label={t('file.cancel')}
        onClick={() => void controlFile(m.key, 'cancel')}
      >
        <CloseIcon />
      </IconButton>,
    );
  }
  if (
    file.state === 'waiting' ||
    (!own && (file.state === 'receiving' || file.state === 'paused'))
  ) {
    // The receiver may refuse the rest (also while its sender has paused it): its partial file
    // goes and later segments are dropped.
    buttons.push(
      <IconButton
        key="cancel"
        testId="file-cancel"
        label={t('file.cancel')}
        onClick={() => void controlFile(m.key, 'cancel')}
      >
        <CloseIcon />
      </IconButton>,
    );
  }
  if (file.state === 'done' && file.path !== null) {
    if (host === 'electron') {
      // A file that could run code is only shown in its folder (the host refuses to open it).
      if (!isDangerous(file)) {
        buttons.push(
          <IconButton
            key="open"
            testId="file-open"
            label={t('file.open')}
            onClick={() => void openFile(m.key, false)}
          >
            <OpenIcon />
          </IconButton>,
        );
      }
      buttons.push(
        <IconButton
          key="reveal"
          testId="file-reveal"
          label={t('file.reveal')}
          onClick={() => void openFile(m.key, true)}
        >
          <FolderIcon />
        </IconButton>,
      );
    } else if (host === 'browser') {
      buttons.push(
        <a
          key="download"
          className="icon-btn file-action"
          data-testid="file-download"
          href={fileUrl(m.key)}
          download={name}
          aria-label={t('file.download')}
          title={t('file.download')}
        >
          <DownloadIcon />
        </a>,
      );
    }
  }
  if (buttons.length === 0) return null;
  return <span className="file-actions">{buttons}</span>;
}

/** Whether the file is of a type that can run programs: by its name, or the name it has here. */
function isDangerous(file: FileView): boolean {
  return (
    (file.name !== null && isDangerousFileName(file.name)) ||
    (file.path !== null && isDangerousFileName(file.path))
  );
}

function IconButton(props: {
  testId: string;
  label: string;
  onClick: () => void;
  children: React.ReactNode;
}) {
  return (
    <button
      type="button"
      className="icon-btn file-action"
      data-testid={props.testId}
      aria-label={props.label}
      title={props.label}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}

function FileProgress({
  m,
  file,
  t,
  language,
}: {
  m: MessageView;
  file: FileView;
  t: Translate;
  language: Language;
}) {
  const rate = useStrata((s) => s.rates[m.key]);
  const fraction = fileFraction(file);
  const percent = Math.floor(fraction * 100);
  const parts: string[] = [];
  if (file.state === 'verifying') {
    parts.push(t('file.state.verifying'));
  } else {
    if (file.state === 'paused') {
      parts.push(t(m.direction === 'out' ? 'file.state.paused' : 'file.pausedBySender'));
    }
    parts.push(t('file.percent', { n: percent }));
    if (file.size !== null) {
      parts.push(
        t('file.progress', {
          done: formatSize(Math.min(file.bytesDone, file.size), language),
          total: formatSize(file.size, language),
        }),
      );
    }
    if (file.state !== 'paused' && rate !== undefined && rate.bytesPerSecond !== null) {
      parts.push(t('file.speed', { rate: formatSize(rate.bytesPerSecond, language) }));
      if (rate.secondsLeft !== null) {
        parts.push(t('file.left', { time: durationText(rate.secondsLeft, t) }));
      }
    }
  }
  return (
    <div className="file-progress-wrap">
      <div
        className={`file-progress${file.state === 'verifying' ? ' indeterminate' : ''}`}
        data-testid="file-progress"
        data-value={fraction}
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-label={t(`file.state.${file.state}`)}
      >
        <span className="file-progress-bar" style={{ width: `${fraction * 100}%` }} />
      </div>
      <span className="file-progress-text" data-testid="file-progress-text" aria-live="off">
        {parts.join(' · ')}
      </span>
    </div>
  );
}

function durationText(seconds: number, t: Translate): string {
  const { h, m, s } = splitDuration(seconds);
  if (h > 0) return t('file.hours', { h, m });
  if (m > 0) return t('file.minutes', { m, s: String(s).padStart(2, '0') });
  return t('file.seconds', { s });
}
