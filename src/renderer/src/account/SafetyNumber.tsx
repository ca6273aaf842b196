// The conversation's safety number: the screen that shows its 60 digits in 12 groups of five
// (to compare with the contact's, in person or on a call) and marks the contact verified or
// clears the mark; and the banner of a verified contact whose number changed, where the user
// accepts the new number (the composer stays disabled until then).
import { useEffect, useState, type KeyboardEvent } from 'react';
import type { SafetyNumberView } from '../../../shared/api.ts';
import { describeError } from '../errors.ts';
import { useT } from '../i18n.ts';
import { useStrata, useStrataStore } from '../store/index.ts';
import { identityBlocked } from '../store/safety.ts';
import { ShieldIcon } from '../components/Icons.tsx';
import { Modal } from './Modal.tsx';

const groups = (digits: string): string[] => digits.match(/\d{1,5}/g) ?? [];

export function SafetyNumberDialog({ peer, onClose }: { peer: string; onClose: () => void }) {
  const t = useT();
  const { loadSafety, setVerified } = useStrataStore().getState();
  const view: SafetyNumberView | undefined = useStrata((s) => s.safety[peer]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [asked, setAsked] = useState(false);

  useEffect(() => {
    // The number is asked for afresh when the screen opens: the contact's key may have changed.
    void loadSafety(peer).then((e) => {
      setAsked(true);
      setError(e === null ? null : t('safety.unavailable', { detail: describeError(e, t) }));
    });
    // Once per opening: t changes with the language only.
  }, [peer, loadSafety]);

  async function toggle(next: boolean) {
    setBusy(true);
    try {
      await setVerified(peer, next);
      setError(null);
    } catch (e) {
      setError(t('safety.failed', { detail: describeError(e, t) }));
    } finally {
      setBusy(false);
    }
  }

  // Escape closes the screen only (not the chat around it, which closes on Escape too).
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    e.preventDefault();
    onClose();
  };

  return (
    <div onKeyDown={onKeyDown}>
      <Modal title={t('safety.title', { name: peer })} testId="safety-number">
        <p className="account-lead">{t('safety.lead', { name: peer })}</p>
        {view === undefined ? (
          !asked && <p role="status">{t('safety.loading', { name: peer })}</p>
        ) : (
          <>
            <p
              className="safety-digits"
              data-testid="safety-number-digits"
              aria-label={t('safety.digits')}
            >
              {groups(view.number).map((g, i) => (
                <span key={i}>{g}</span>
              ))}
            </p>
            {view.changed && (
              <p className="safety-changed" role="alert">
                {t('safety.changedLead', { name: peer })}
              </p>
            )}
            <p
              className={view.verified ? 'safety-state verified' : 'safety-state'}
              data-testid="safety-number-state"
              data-verified={view.verified}
            >
              <ShieldIcon checked={view.verified} />
              {view.verified ? t('safety.verified') : t('safety.notVerified')}
            </p>
          </>
        )}
        {error !== null && (
          <p className="form-error" role="alert" data-testid="safety-number-error">
            {error}
          </p>
        )}
        <div className="account-actions">
          {view !== undefined && (
            <button
              type="button"
              className="btn"
              data-testid="safety-number-toggle"
              disabled={busy}
              onClick={() => void toggle(!view.verified)}
            >
              {view.verified ? t('safety.unverify') : t('safety.verify')}
            </button>
          )}
          <button
            type="button"
            className="btn btn-ghost"
            data-testid="safety-number-close"
            onClick={onClose}
          >
            {t('safety.close')}
          </button>
        </div>
      </Modal>
    </div>
  );
}

/** Shown while a verified contact's new number waits for the user to accept it. */
export function IdentityBlockedBanner({ peer, onShow }: { peer: string; onShow: () => void }) {
  const t = useT();
  const { acceptIdentity, loadSafety, showToast } = useStrataStore().getState();
  const blocked = useStrata((s) => identityBlocked(s, peer));
  useEffect(() => {
    void loadSafety(peer);
  }, [peer, loadSafety]);
  if (!blocked) return null;
  return (
    <div className="chat-banner safety-blocked" role="alert" data-testid="identity-blocked">
      <span>{t('safety.blocked', { name: peer })}</span>
      <span className="safety-blocked-actions">
        <button type="button" className="btn btn-small btn-ghost" onClick={onShow}>
          {t('safety.show')}
        </button>
        <button
          type="button"
          className="btn btn-small"
          data-testid="identity-accept"
          onClick={() => {
            acceptIdentity(peer).catch((e: unknown) =>
              showToast(t('safety.failed', { detail: describeError(e, t) })),
            );
          }}
        >
          {t('safety.accept')}
        </button>
      </span>
    </div>
  );
}
