// Settings, as a modal dialog: the transport's X, N and K (the course's parameters), where
// received files go and how large they may be, the language, the account's devices (and
// linking a new one), what this app instance is connected as, and its license.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { TransportSettings } from '../../../shared/api.ts';
import type { SessionView, StrataApi } from '../../../shared/contract.ts';
import { DevicesSection } from '../account/DevicesSection.tsx';
import { LinkDeviceSection } from '../account/LinkDeviceSection.tsx';
import { CloseIcon } from '../components/Icons.tsx';
import { useT, type Language, type StringKey } from '../i18n.ts';
import { useStrata, useStrataStore } from '../store/index.ts';
import { FileSettingsSection } from './FileSettingsSection.tsx';
import { FOCUSABLE, inOtherDialog, keepTabInside } from './focus-trap.ts';
import { SettingsActions, type SaveStatus } from './SettingsActions.tsx';
import type { NumberFieldError } from './number-field.ts';
import {
  SETTINGS_FIELDS,
  SETTINGS_RULES,
  settingsForm,
  settingsPatch,
  type SettingsField,
  type SettingsForm,
} from './settings-form.ts';
import './settings.css';

const FIELDS: Record<SettingsField, { label: StringKey; hint: StringKey; testId: string }> = {
  segmentSize: {
    label: 'settings.segmentSize',
    hint: 'settings.segmentSizeHint',
    testId: 'settings-segment-size',
  },
  assemblyPeriodMs: {
    label: 'settings.assemblyPeriod',
    hint: 'settings.assemblyPeriodHint',
    testId: 'settings-assembly-period',
  },
  idleCycles: {
    label: 'settings.idleCycles',
    hint: 'settings.idleCyclesHint',
    testId: 'settings-idle-cycles',
  },
};

const LANGUAGE_CHOICES: readonly { value: Language | null; label: StringKey }[] = [
  { value: null, label: 'settings.language.auto' },
  { value: 'en', label: 'settings.language.en' },
  { value: 'ru', label: 'settings.language.ru' },
];

export function SettingsPanel(props: {
  api: StrataApi;
  session: SessionView;
  onClose: () => void;
}) {
  const t = useT();
  const idBase = useId();
  const dialogRef = useRef<HTMLDivElement>(null);
  const [current, setCurrent] = useState<TransportSettings>(props.session.settings);
  const [form, setForm] = useState<SettingsForm>(() => settingsForm(props.session.settings));
  const [errors, setErrors] = useState<Partial<Record<SettingsField, NumberFieldError>>>({});
  const [status, setStatus] = useState<SaveStatus>({ kind: 'idle', say: () => '' });
  const { setLanguage } = useStrataStore().getState();
  const languageChoice = useStrata((s) => s.languageChoice);
  const account = useStrata((s) => s.account);

  const onCloseRef = useRef(props.onClose);
  useEffect(() => {
    onCloseRef.current = props.onClose;
  });

  // Focus moves into the dialog when it opens and back where it was when it closes. Keys are
  // watched on the window, not the dialog, so that Escape and Tab work wherever focus is (a
  // click on the backdrop leaves it on the body).
  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const dialog = dialogRef.current;
    if (dialog !== null && !dialog.contains(document.activeElement)) {
      (dialog.querySelector<HTMLElement>(FOCUSABLE) ?? dialog).focus();
    }
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (inOtherDialog(dialog, document.activeElement)) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        onCloseRef.current();
        return;
      }
      if (e.key !== 'Tab' || dialog === null) return;
      keepTabInside(dialog, e);
    };
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      previous?.focus();
    };
  }, []);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    // The button stays enabled while saving (a disabled button drops keyboard focus).
    if (status.kind === 'busy') return;
    const result = settingsPatch(current, form);
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
      const saved = await props.api.call('updateSettings', { patch: result.patch });
      setCurrent(saved);
      setForm(settingsForm(saved));
      setStatus({ kind: 'ok', say: (t) => t('settings.saved') });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      setStatus({ kind: 'error', say: (t) => t('settings.saveFailed', { message }) });
    }
  };

  const field = (name: SettingsField) => {
    const id = `${idBase}-${name}`;
    const { label, hint, testId } = FIELDS[name];
    const rule = SETTINGS_RULES[name];
    const error = errors[name];
    return (
      <div className="settings-field" key={name}>
        <label htmlFor={id}>{t(label)}</label>
        <input
          id={id}
          className="input"
          type="text"
          inputMode="numeric"
          autoComplete="off"
          data-testid={testId}
          value={form[name]}
          aria-invalid={error !== undefined}
          aria-describedby={error !== undefined ? `${id}-error ${id}-hint` : `${id}-hint`}
          onChange={(e) => {
            const value = e.target.value;
            setForm((f) => ({ ...f, [name]: value }));
            setErrors(({ [name]: _gone, ...rest }) => rest);
          }}
        />
        {error !== undefined && (
          <span id={`${id}-error`} className="settings-error">
            {error === 'outOfRange'
              ? t('network.field.outOfRange', { min: rule.min, max: rule.max })
              : t(`network.field.${error}`)}
          </span>
        )}
        <span id={`${id}-hint`} className="settings-hint">
          {t(hint, { min: rule.min, max: rule.max })}
        </span>
      </div>
    );
  };

  const { session } = props;
  const notSet = t('settings.notSet');
  return (
    <div
      className="settings-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) props.onClose();
      }}
    >
      <div
        ref={dialogRef}
        className="settings-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${idBase}-title`}
        tabIndex={-1}
      >
        <header className="settings-header">
          <h2 id={`${idBase}-title`}>{t('settings.title')}</h2>
          <button
            type="button"
            className="icon-btn"
            data-testid="settings-close"
            aria-label={t('settings.close')}
            title={t('settings.close')}
            onClick={props.onClose}
          >
            <CloseIcon />
          </button>
        </header>

        <form className="settings-section" onSubmit={(e) => void save(e)} noValidate>
          <h3>{t('settings.transport')}</h3>
          {SETTINGS_FIELDS.map(field)}
          <SettingsActions status={status} testId="settings" />
        </form>

        <FileSettingsSection files={props.session.files} host={props.session.host} />

        <fieldset className="settings-section settings-language">
          <legend>{t('settings.language')}</legend>
          {LANGUAGE_CHOICES.map((choice) => (
            <label key={choice.label} className="settings-radio">
              <input
                type="radio"
                name={`${idBase}-language`}
                value={choice.value ?? ''}
                data-testid={`settings-language-${choice.value ?? 'auto'}`}
                checked={languageChoice === choice.value}
                onChange={() => setLanguage(choice.value)}
              />
              {t(choice.label)}
            </label>
          ))}
          <span className="settings-hint">{t('settings.language.hint')}</span>
        </fieldset>

        {account?.state === 'registered' && (
          <>
            <DevicesSection api={props.api} />
            <LinkDeviceSection api={props.api} />
          </>
        )}

        <section className="settings-section">
          <h3>{t('settings.about')}</h3>
          <dl className="settings-about">
            <dt>{t('settings.user')}</dt>
            <dd data-testid="settings-user">{session.user ?? notSet}</dd>
            {account !== null && (
              <>
                <dt>{t('settings.device')}</dt>
                <dd data-testid="settings-device">{account.deviceName}</dd>
                <dt>{t('settings.identity')}</dt>
                <dd className="mono" data-testid="settings-identity">
                  {account.identityFingerprint}
                </dd>
              </>
            )}
            <dt>{t('settings.relay')}</dt>
            <dd className="mono" data-testid="settings-relay">
              {session.relayUrl ?? notSet}
            </dd>
            {session.relayFingerprint !== null && (
              <>
                <dt>{t('settings.relayFingerprint')}</dt>
                <dd className="mono" data-testid="settings-relay-fingerprint">
                  {session.relayFingerprint}
                </dd>
              </>
            )}
            <dt>{t('settings.profile')}</dt>
            <dd data-testid="settings-profile">{session.profile}</dd>
            <dt>{t('settings.host')}</dt>
            <dd data-testid="settings-host">{t(`settings.host.${session.host}`)}</dd>
            <dt>{t('settings.license')}</dt>
            <dd data-testid="settings-license">{t('settings.licenseText')}</dd>
          </dl>
        </section>
      </div>
    </div>
  );
}
