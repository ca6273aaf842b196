// First run of a profile: who you are and which relay to use. Three ways in: log in (the first
// login of a name creates its account), link this profile to an account that another device
// of yours shows a code for, or recover an account with its recovery code. The host remembers
// the relay after a successful login; a failed one keeps everything typed. A profile whose
// name turned out to be taken comes back here (`taken`) to pick another.
import { useId, useState, type FormEvent } from 'react';
import { ApiError, type SessionView } from '../../../shared/contract.ts';
import { describeError } from '../errors.ts';
import { LANGUAGES, useT, type Language, type StringKey } from '../i18n.ts';
import { relayPin, typedLinkCode, typedRecoveryCode } from '../model/account.ts';
import { isUserName } from '../model/contacts.ts';
import { useStrata, useStrataStore } from '../store/index.ts';
import '../account/account.css';

const DEFAULT_RELAY = 'ws://127.0.0.1:7000/';

type Mode = 'create' | 'link' | 'recover';
const MODES: readonly Mode[] = ['create', 'link', 'recover'];
type Field = 'user' | 'relay' | 'code';
/** What each way in says: its lead, its button, the button while it works, its code field. */
const MODE_TEXT: Record<
  Mode,
  { lead: StringKey; submit: StringKey; busy: StringKey; code?: [StringKey, StringKey, StringKey] }
> = {
  create: { lead: 'login.lead', submit: 'login.submit', busy: 'login.connecting' },
  link: {
    lead: 'login.link.lead',
    submit: 'login.link.submit',
    busy: 'login.link.waiting',
    code: ['login.link.code', 'login.link.codeHint', 'login.link.badCode'],
  },
  recover: {
    lead: 'login.recover.lead',
    submit: 'login.recover.submit',
    busy: 'login.recover.working',
    code: ['login.recover.code', 'login.recover.codeHint', 'login.recover.badCode'],
  },
};

export function LoginScreen({ session, taken }: { session: SessionView; taken?: string }) {
  const t = useT();
  const { login, linkDevice, recoverAccount } = useStrataStore().getState();
  const [mode, setMode] = useState<Mode>('create');
  const [user, setUser] = useState('');
  const [code, setCode] = useState('');
  const [relay, setRelay] = useState(session.relayUrl ?? DEFAULT_RELAY);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ field: Field | null; text: string } | null>(null);
  const userId = useId();
  const codeId = useId();
  const relayId = useId();
  const errorId = useId();
  const pin = relayPin(relay);
  const text = MODE_TEXT[mode];

  async function submit(e: FormEvent) {
    e.preventDefault();
    const name = user.trim();
    if (mode !== 'link' && !isUserName(name)) {
      setError({ field: 'user', text: t('login.badName') });
      return;
    }
    const typed = mode === 'link' ? typedLinkCode(code) : typedRecoveryCode(code);
    if (text.code !== undefined && typed === null) {
      setError({ field: 'code', text: t(text.code[2]) });
      return;
    }
    const url = URL.parse(relay.trim());
    if (url === null || (url.protocol !== 'ws:' && url.protocol !== 'wss:') || url.host === '') {
      setError({ field: 'relay', text: t('login.badRelay') });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (mode === 'create') await login(name, relay.trim());
      else if (mode === 'link') await linkDevice(typed!, relay.trim());
      else await recoverAccount(name, typed!, relay.trim());
    } catch (err) {
      setError(loginError(err, t));
      setBusy(false);
    }
  }

  const describedBy = (field: Field) => (error?.field === field ? errorId : undefined);

  return (
    <div className="login-screen">
      <form className="login-card" onSubmit={(e) => void submit(e)} noValidate>
        <div className="login-brand">
          <span className="brand-mark" aria-hidden="true" />
          <h1>{t('app.title')}</h1>
        </div>
        {taken !== undefined && mode === 'create' ? (
          <div role="alert" data-testid="name-taken">
            <h2 className="center-title">{t('nameTaken.title', { name: taken })}</h2>
            <p className="muted">{t('nameTaken.lead', { name: taken })}</p>
          </div>
        ) : (
          <p className="muted login-lead">{t(text.lead)}</p>
        )}
        {mode !== 'link' && (
          <label className="field" htmlFor={userId}>
            <span className="field-label">
              {taken !== undefined && mode === 'create' ? t('nameTaken.newName') : t('login.user')}
            </span>
            <input
              id={userId}
              data-testid="login-username"
              className="input"
              value={user}
              onChange={(e) => setUser(e.target.value)}
              autoFocus
              autoComplete="username"
              spellCheck={false}
              maxLength={32}
              placeholder={t('login.userPlaceholder')}
              aria-invalid={error?.field === 'user'}
              aria-describedby={describedBy('user')}
            />
          </label>
        )}
        {text.code !== undefined && (
          <label className="field" htmlFor={codeId}>
            <span className="field-label">{t(text.code[0])}</span>
            <input
              id={codeId}
              data-testid="login-code"
              className="input mono"
              value={code}
              onChange={(e) => setCode(e.target.value)}
              autoFocus={mode === 'link'}
              autoComplete="off"
              spellCheck={false}
              maxLength={48}
              aria-invalid={error?.field === 'code'}
              aria-describedby={describedBy('code')}
            />
            <span className="field-hint">{t(text.code[1])}</span>
          </label>
        )}
        <label className="field" htmlFor={relayId}>
          <span className="field-label">{t('login.relay')}</span>
          <input
            id={relayId}
            data-testid="login-relay"
            className="input mono"
            value={relay}
            onChange={(e) => setRelay(e.target.value)}
            spellCheck={false}
            autoComplete="url"
            aria-invalid={error?.field === 'relay'}
            aria-describedby={describedBy('relay')}
          />
          <span className="field-hint">{t('login.relayHint')}</span>
          {relay.trim().startsWith('wss:') && (
            <span className="relay-pin mono" data-testid="login-relay-pin">
              {pin !== null ? t('login.relayPin', { pin }) : t('login.relayNoPin')}
            </span>
          )}
        </label>
        {error && (
          <p className="form-error" id={errorId} role="alert" data-testid="login-error">
            {error.text}
          </p>
        )}
        <button
          type="submit"
          className="btn btn-primary btn-block"
          data-testid="login-submit"
          disabled={busy}
        >
          {t(busy ? text.busy : text.submit)}
        </button>
        <div className="login-modes" role="group">
          {/* Linking and recovery need a fresh profile: this one already has keys for `taken`. */}
          {MODES.filter((m) => m !== mode && taken === undefined).map((m) => (
            <button
              key={m}
              type="button"
              className="btn btn-ghost btn-small"
              data-testid={`login-mode-${m}`}
              disabled={busy}
              onClick={() => {
                setMode(m);
                setError(null);
                setCode('');
              }}
            >
              {t(`login.mode.${m}`)}
            </button>
          ))}
        </div>
        <LanguagePicker />
      </form>
    </div>
  );
}

function loginError(
  err: unknown,
  t: ReturnType<typeof useT>,
): { field: Field | null; text: string } {
  if (err instanceof ApiError) {
    if (err.code === 'unreachable') {
      return { field: 'relay', text: t('login.unreachable', { detail: err.message }) };
    }
    if (err.code === 'refused' || err.code === 'invalid') return { field: null, text: err.message };
  }
  return { field: null, text: describeError(err, t) };
}

export function LanguagePicker() {
  const t = useT();
  const { setLanguage } = useStrataStore().getState();
  const choice = useStrata((s) => s.languageChoice);
  const id = useId();
  return (
    <div className="language-picker">
      <label htmlFor={id}>{t('language.label')}</label>
      <select
        id={id}
        className="select"
        data-testid="language-select"
        value={choice ?? 'system'}
        onChange={(e) =>
          setLanguage(e.target.value === 'system' ? null : (e.target.value as Language))
        }
      >
        <option value="system">{t('language.system')}</option>
        {LANGUAGES.map((l) => (
          <option key={l} value={l}>
            {t(`language.${l}`)}
          </option>
        ))}
      </select>
    </div>
  );
}
