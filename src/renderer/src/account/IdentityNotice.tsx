// A notice in a conversation whose contact's account identity changed (they recovered their
// account, or someone new has the name): what the contact says may not come from the person
// it came from before. The engine keeps the changes with the conversation; the notice shows
// the latest until the user closes it, and again for a later one. A verified contact's change
// shows the banner that asks to accept the new number instead (SafetyNumber.tsx).
import { useEffect } from 'react';
import { CloseIcon } from '../components/Icons.tsx';
import { useT } from '../i18n.ts';
import { useStrata, useStrataStore } from '../store/index.ts';
import { identityBlocked } from '../store/safety.ts';

export function IdentityNotice({ peer }: { peer: string }) {
  const t = useT();
  const { dismissIdentityChange, loadNotices } = useStrataStore().getState();
  const changed = useStrata(
    (s) => (s.identityChanges[peer] ?? 0) > (s.identityDismissed[peer] ?? 0),
  );
  const blocked = useStrata((s) => identityBlocked(s, peer));
  useEffect(() => {
    void loadNotices(peer);
  }, [peer, loadNotices]);
  if (!changed || blocked) return null;
  return (
    <div className="chat-banner notice" role="status" data-testid="identity-changed">
      <span>{t('identity.changed', { name: peer })}</span>
      <button
        type="button"
        className="icon-btn"
        aria-label={t('toast.dismiss')}
        title={t('toast.dismiss')}
        onClick={() => dismissIdentityChange(peer)}
      >
        <CloseIcon />
      </button>
    </div>
  );
}
