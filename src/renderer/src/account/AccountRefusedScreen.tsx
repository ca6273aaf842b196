// The relay refuses this device for good: it was removed from its account (unlinked, or the
// account recovered elsewhere), or the relay does not know its keys (a relay that lost its
// accounts). Nothing can be sent from here; the screen says why and what to do.
import type { AccountView } from '../../../shared/api.ts';
import { useT } from '../i18n.ts';

export function AccountRefusedScreen({ account }: { account: AccountView }) {
  const t = useT();
  const removed = account.state === 'removed';
  return (
    <div className="center-screen" role="alert" data-testid={`account-${account.state}`}>
      <h1 className="center-title">
        {removed
          ? t('accountRefused.removed.title', { name: account.user })
          : t('accountRefused.unknown.title')}
      </h1>
      <p className="muted center-detail">
        {removed ? t('accountRefused.removed.lead') : t('accountRefused.unknown.lead')}
      </p>
    </div>
  );
}
