// The recovery code, shown once: right after the account is created (or recovered). Chatting
// waits until the user confirms it is written down, by typing back its last group or by
// ticking the box; the host then deletes the code and it is never shown again.
import { useId, useState, type FormEvent } from 'react';
import { describeError } from '../errors.ts';
import { useT } from '../i18n.ts';
import { codeGroups, isLastGroup } from '../model/account.ts';
import { useStrata, useStrataStore } from '../store/index.ts';
import { CodeText } from './CodeText.tsx';
import { Modal } from './Modal.tsx';

export function RecoveryCodeDialog() {
  const t = useT();
  const { acknowledgeRecoveryCode } = useStrataStore().getState();
  const code = useStrata((s) => s.recoveryCode);
  const [typed, setTyped] = useState('');
  const [written, setWritten] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const errorId = useId();
  const lastLength = code === null ? 0 : (codeGroups(code).at(-1)?.length ?? 0);

  async function confirm(e: FormEvent) {
    e.preventDefault();
    if (code === null || busy) return;
    if (!written && !isLastGroup(typed, code)) {
      setError(t('recovery.wrongLast'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await acknowledgeRecoveryCode();
    } catch (err) {
      setError(t('recovery.failed', { detail: describeError(err, t) }));
      setBusy(false);
    }
  }

  return (
    <Modal title={t('recovery.title')} testId="recovery-dialog">
      <p className="muted">{t('recovery.lead')}</p>
      {code === null ? (
        <div className="spinner" aria-hidden="true" />
      ) : (
        <form className="account-form" onSubmit={(e) => void confirm(e)} noValidate>
          <CodeText code={code} testId="recovery-code" />
          <label className="field" htmlFor={inputId}>
            <span className="field-label">{t('recovery.typeLast', { n: lastLength })}</span>
            <input
              id={inputId}
              className="input mono"
              data-testid="recovery-last-group"
              value={typed}
              onChange={(e) => {
                setTyped(e.target.value);
                setError(null);
              }}
              autoComplete="off"
              spellCheck={false}
              maxLength={16}
              aria-invalid={error !== null}
              aria-describedby={error !== null ? errorId : undefined}
            />
          </label>
          <label className="settings-radio">
            <input
              type="checkbox"
              data-testid="recovery-written"
              checked={written}
              onChange={(e) => {
                setWritten(e.target.checked);
                setError(null);
              }}
            />
            {t('recovery.written')}
          </label>
          {error !== null && (
            <p className="form-error" id={errorId} role="alert" data-testid="recovery-error">
              {error}
            </p>
          )}
          <button
            type="submit"
            className="btn btn-primary"
            data-testid="recovery-confirm"
            disabled={busy || (!written && typed.trim() === '')}
          >
            {t('recovery.confirm')}
          </button>
        </form>
      )}
    </Modal>
  );
}
