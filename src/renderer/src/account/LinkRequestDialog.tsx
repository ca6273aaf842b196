// A new device typed one of our link codes and its proof checked: "Link device NAME
// (fingerprint)?" Accept adds it to the account; Decline refuses it. Requests wait in order,
// one dialog at a time.
import { useState } from 'react';
import { describeError } from '../errors.ts';
import { useT } from '../i18n.ts';
import { useStrata, useStrataStore } from '../store/index.ts';
import { Modal } from './Modal.tsx';

export function LinkRequestDialog() {
  const t = useT();
  const { answerLink } = useStrataStore().getState();
  const request = useStrata((s) => s.linkRequests[0] ?? null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (request === null) return null;

  async function answer(accept: boolean) {
    if (request === null || busy) return;
    setBusy(true);
    setError(null);
    try {
      await answerLink(request.device, accept);
    } catch (err) {
      setError(t('link.answerFailed', { detail: describeError(err, t) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      key={request.device}
      title={t('link.request', { name: request.name, fingerprint: request.fingerprint })}
      testId="link-request"
    >
      <p className="muted">{t('link.requestHint')}</p>
      <p className="mono" data-testid="link-request-fingerprint">
        {request.fingerprint}
      </p>
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="account-actions">
        <button
          type="button"
          className="btn btn-primary"
          data-testid="link-accept"
          disabled={busy}
          onClick={() => void answer(true)}
        >
          {t('link.accept')}
        </button>
        <button
          type="button"
          className="btn"
          data-testid="link-decline"
          disabled={busy}
          onClick={() => void answer(false)}
        >
          {t('link.decline')}
        </button>
      </div>
    </Modal>
  );
}
