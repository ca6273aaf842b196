// First run of a profile: who you are and which relay to use. The host remembers the relay
// after a successful login; a failed one keeps everything typed.
import { useId, useState, type FormEvent } from 'react';
import { ApiError, type SessionView } from '../../../shared/contract.ts';
import { LANGUAGES, useT, type Language } from '../i18n.ts';
import { isUserName } from '../model/contacts.ts';
import { describeError } from '../errors.ts';
import { useStrata, useStrataStore } from '../store/index.ts';

const DEFAULT_RELAY = 'ws://127.0.0.1:7000/';

export function LoginScreen({ session }: { session: SessionView }) {
  const t = useT();
  const { login } = useStrataStore().getState();
  const [user, setUser] = useState('');
  const [relay, setRelay] = useState(session.relayUrl ?? DEFAULT_RELAY);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ field: 'user' | 'relay' | null; text: string } | null>(null);
  const userId = useId();
  const relayId = useId();
  const errorId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const name = user.trim();
    if (!isUserName(name)) {
      setError({ field: 'user', text: t('login.badName') });
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
      await login(name, relay.trim());
    } catch (err) {
      setError(loginError(err, t));
      setBusy(false);
    }
  }

  return (
    <div className="login-screen">
      <form className="login-card" onSubmit={(e) => void submit(e)} noValidate>
        <div className="login-brand">
          <span className="brand-mark" aria-hidden="true" />
          <h1>{t('app.title')}</h1>
        </div>
        <p className="muted login-lead">{t('login.lead')}</p>
        <label className="field" htmlFor={userId}>
          <span className="field-label">{t('login.user')}</span>
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
            aria-describedby={error ? errorId : undefined}
          />
        </label>
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
            aria-describedby={error ? errorId : undefined}
          />
          <span className="field-hint">{t('login.relayHint')}</span>
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
          {busy ? t('login.connecting') : t('login.submit')}
        </button>
        <LanguagePicker />
      </form>
    </div>
  );
}

function loginError(
  err: unknown,
  t: ReturnType<typeof useT>,
): { field: 'user' | 'relay' | null; text: string } {
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
