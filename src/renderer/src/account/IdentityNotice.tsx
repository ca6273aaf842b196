// A notice in a conversation whose contact's account identity changed (they recovered their
// account, or someone new has the name): what the contact says may not come from the person
// it came from before. It stays until the user closes it.
import { CloseIcon } from '../components/Icons.tsx';
import { useT } from '../i18n.ts';
import { useStrata, useStrataStore } from '../store/index.ts';

export function IdentityNotice({ peer }: { peer: string }) {
  const t = useT();
  const { dismissIdentityChange } = useStrataStore().getState();
  const changed = useStrata((s) => s.identityChanges[peer] !== undefined);
  if (!changed) return null;
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
