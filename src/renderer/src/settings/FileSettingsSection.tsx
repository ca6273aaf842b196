// Settings › Files: where received files are saved, the largest file sent or accepted, and the
// size up to which a contact's files download by themselves. The folder is shown, never typed:
// the desktop app changes it through the system's folder picker (shown by the main process),
// the browser host only from its command line.
import { useId, useState, type FormEvent } from 'react';
import type { FileSettingsView } from '../../../shared/contract.ts';
import { useT, type StringKey } from '../i18n.ts';
import { describeError } from '../errors.ts';
import { useStrataStore } from '../store/index.ts';
import {
  fileSettingsForm,
  fileSettingsPatch,
  AUTO_DOWNLOAD_MB_RULE,
  MAX_FILE_MB_RULE,
  type FileSettingsErrors,
  type FileSettingsForm,
} from './file-settings-form.ts';
import type { NumberFieldError, NumberRule } from './number-field.ts';
import { SettingsActions, type SaveStatus } from './SettingsActions.tsx';

export function FileSettingsSection({
  files,
  host,
}: {
  files: FileSettingsView | null;
  host: 'electron' | 'browser';
}) {
  const t = useT();
  if (files === null) {
    return (
      <section className="settings-section">
        <h3>{t('settings.files')}</h3>
        <span className="settings-hint">{t('settings.filesNotLoggedIn')}</span>
      </section>
    );
  }
  return (
    <section className="settings-section">
      <h3>{t('settings.files')}</h3>
      <DownloadsFolder folder={files.downloadsDir} host={host} />
      <FilesForm files={files} />
    </section>
  );
}

function DownloadsFolder({ folder, host }: { folder: string; host: 'electron' | 'browser' }) {
  const t = useT();
  const { chooseDownloadsDir } = useStrataStore().getState();
  const idBase = useId();
  const [status, setStatus] = useState<SaveStatus>({ kind: 'idle', say: () => '' });
  const choose = async () => {
    if (status.kind === 'busy') return;
    setStatus({ kind: 'busy', say: (t) => t('settings.downloadsDirChoosing') });
    try {
      const saved = await chooseDownloadsDir();
      setStatus(
        saved === null
          ? { kind: 'idle', say: () => '' }
          : { kind: 'ok', say: (t) => t('settings.saved') },
      );
    } catch (err) {
      setStatus({
        kind: 'error',
        say: (t) => t('settings.saveFailed', { message: describeError(err, t) }),
      });
    }
  };
  const dirId = `${idBase}-dir`;
  return (
    <div className="settings-field">
      <span id={`${dirId}-label`} className="settings-label">
        {t('settings.downloadsDir')}
      </span>
      <div className="settings-folder">
        <output
          className="input mono settings-folder-path"
          data-testid="settings-downloads-dir"
          aria-labelledby={`${dirId}-label`}
          aria-describedby={`${dirId}-hint`}
          title={folder}
        >
          {folder}
        </output>
        {host === 'electron' && (
          <button
            type="button"
            className="btn"
            data-testid="settings-downloads-choose"
            aria-disabled={status.kind === 'busy'}
            onClick={() => void choose()}
          >
            {t('settings.downloadsDirChoose')}
          </button>
        )}
      </div>
      <span id={`${dirId}-hint`} className="settings-hint" data-testid="settings-downloads-hint">
        {t(host === 'electron' ? 'settings.downloadsDirHint' : 'settings.downloadsDirBrowserHint')}
      </span>
      {status.kind !== 'idle' && (
        <span
          className={`settings-status ${status.kind}`}
          data-testid="settings-downloads-status"
          data-state={status.kind}
          role={status.kind === 'error' ? 'alert' : 'status'}
        >
          {status.say(t)}
        </span>
      )}
    </div>
  );
}

function FilesForm({ files }: { files: FileSettingsView }) {
  const { updateFileSettings } = useStrataStore().getState();
  const idBase = useId();
  const [current, setCurrent] = useState(files);
  const [form, setForm] = useState<FileSettingsForm>(() => fileSettingsForm(files));
  const [errors, setErrors] = useState<FileSettingsErrors>({});
  const [status, setStatus] = useState<SaveStatus>({ kind: 'idle', say: () => '' });

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (status.kind === 'busy') return;
    const result = fileSettingsPatch(current, form);
    if (!result.ok) {
      setErrors(result.errors);
      setStatus({ kind: 'error', say: (t) => t('settings.fixFields') });
      return;
    }
    setErrors({});
    if (Object.keys(result.patch).length === 0) {
      setStatus({ kind: 'ok', say: (t) => t('settings.unchanged') });
      return;
    }
    setStatus({ kind: 'busy', say: (t) => t('settings.saving') });
    try {
      const saved = await updateFileSettings(result.patch);
      setCurrent(saved);
      setForm(fileSettingsForm(saved));
      setStatus({ kind: 'ok', say: (t) => t('settings.saved') });
    } catch (err) {
      setStatus({
        kind: 'error',
        say: (t) => t('settings.saveFailed', { message: describeError(err, t) }),
      });
    }
  };

  const edit = (name: keyof FileSettingsForm, value: string) => {
    setForm((f) => ({ ...f, [name]: value }));
    setErrors(({ [name]: _gone, ...rest }) => rest);
  };
  return (
    <form className="settings-files-form" onSubmit={(e) => void save(e)} noValidate>
      <MbField
        id={`${idBase}-mb`}
        label="settings.maxFileMb"
        hint="settings.maxFileMbHint"
        testId="settings-max-file-mb"
        rule={MAX_FILE_MB_RULE}
        value={form.maxFileMb}
        error={errors.maxFileMb}
        onChange={(v) => edit('maxFileMb', v)}
      />
      <MbField
        id={`${idBase}-auto`}
        label="settings.autoDownloadMb"
        hint="settings.autoDownloadMbHint"
        testId="settings-auto-download-mb"
        rule={AUTO_DOWNLOAD_MB_RULE}
        value={form.autoDownloadMb}
        error={errors.autoDownloadMb}
        onChange={(v) => edit('autoDownloadMb', v)}
      />
      <SettingsActions status={status} testId="settings-files" />
    </form>
  );
}

/** A size in MB, checked against its rule, with its hint and error. */
function MbField(props: {
  id: string;
  label: StringKey;
  hint: StringKey;
  testId: string;
  rule: NumberRule;
  value: string;
  error: NumberFieldError | undefined;
  onChange: (value: string) => void;
}) {
  const t = useT();
  const { id, rule, error } = props;
  return (
    <div className="settings-field">
      <label htmlFor={id}>{t(props.label)}</label>
      <input
        id={id}
        className="input"
        type="text"
        inputMode="decimal"
        autoComplete="off"
        data-testid={props.testId}
        value={props.value}
        aria-invalid={error !== undefined}
        aria-describedby={error !== undefined ? `${id}-error ${id}-hint` : `${id}-hint`}
        onChange={(e) => props.onChange(e.target.value)}
      />
      {error !== undefined && (
        <span id={`${id}-error`} className="settings-error">
          {error === 'outOfRange'
            ? t('network.field.outOfRange', { min: rule.min, max: rule.max })
            : t(`network.field.${error}`)}
        </span>
      )}
      <span id={`${id}-hint`} className="settings-hint">
        {t(props.hint, { min: rule.min, max: rule.max })}
      </span>
    </div>
  );
}
