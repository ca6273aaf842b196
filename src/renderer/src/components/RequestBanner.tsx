// The banner on a message request's conversation (someone who wrote first): Accept, Block or
// Delete; and on a blocked one's: Unblock or Delete. Until accepted, their files wait and they
// hear nothing of this user's reading or presence (consent.ts in the engine).
import { useT } from '../i18n.ts';
import { useStrata, useStrataStore } from '../store/index.ts';

export function RequestBanner({ peer }: { peer: string }) {
  const t = useT();
  const { setContact, deleteChat } = useStrataStore().getState();
  const contact = useStrata((s) => s.conversations[peer]?.contact ?? 'accepted');
  if (contact === 'accepted') return null;
  const request = contact === 'request';
  return (
    <div
      className="chat-banner request"
      role="region"
      aria-label={request ? t('request.badge') : t('request.blockedBadge')}
      data-testid={request ? 'request-banner' : 'blocked-banner'}
    >
      <div className="request-text">
        {request ? (
          <>
            <strong>{t('request.title', { name: peer })}</strong>
            <span>{t('request.body', { name: peer })}</span>
          </>
        ) : (
          <span>{t('request.blocked', { name: peer })}</span>
        )}
      </div>
      <div className="request-actions">
        {request ? (
          <>
            <button
              type="button"
              className="btn btn-small"
              data-testid="request-accept"
              onClick={() => void setContact(peer, 'accept')}
            >
              {t('request.accept')}
            </button>
            <button
              type="button"
              className="btn btn-small btn-ghost"
              data-testid="request-block"
              onClick={() => void setContact(peer, 'block')}
            >
              {t('request.block')}
            </button>
          </>
        ) : (
          <button
            type="button"
            className="btn btn-small"
            data-testid="request-unblock"
            onClick={() => void setContact(peer, 'unblock')}
          >
            {t('request.unblock')}
          </button>
        )}
        <button
          type="button"
          className="btn btn-small btn-ghost"
          data-testid="request-delete"
          onClick={() => void deleteChat(peer)}
        >
          {t('request.delete')}
        </button>
      </div>
    </div>
  );
}
