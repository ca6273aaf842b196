// The app's top level: reach the host (or say clearly that it cannot), then the login form
// until someone is logged in (or again when the name was taken), then the messenger, with the
// account's questions over it: the recovery code to confirm, a new device asking to join.
import { useEffect } from 'react';
import { AccountRefusedScreen } from './account/AccountRefusedScreen.tsx';
import { LinkRequestDialog } from './account/LinkRequestDialog.tsx';
import { RecoveryCodeDialog } from './account/RecoveryCodeDialog.tsx';
import { LoginScreen } from './components/LoginScreen.tsx';
import { MainLayout } from './components/MainLayout.tsx';
import { useT, useLanguage } from './i18n.ts';
import { useStrata, useStrataStore } from './store/index.ts';

export function App() {
  const { boot } = useStrataStore().getState();
  const phase = useStrata((s) => s.phase);
  const account = useStrata((s) => s.account);
  const t = useT();
  const language = useLanguage();

  useEffect(() => {
    void boot();
  }, [boot]);

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  if (phase.kind === 'connecting') {
    return (
      <div className="center-screen" role="status" aria-live="polite">
        <div className="spinner" aria-hidden="true" />
        <p className="muted">{t('connect.connecting')}</p>
      </div>
    );
  }
  if (phase.kind === 'failed') {
    return (
      <div className="center-screen" role="alert" data-testid="connect-error">
        <h1 className="center-title">{t('connect.failedTitle')}</h1>
        <p className="muted center-detail">{t('connect.failedHint')}</p>
        <p className="error-detail">{phase.detail}</p>
        <button
          type="button"
          className="btn btn-primary"
          data-testid="connect-retry"
          onClick={() => void boot()}
        >
          {t('connect.retry')}
        </button>
      </div>
    );
  }
  if (phase.session.user === null) return <LoginScreen session={phase.session} />;
  if (account?.state === 'name-taken') {
    return <LoginScreen key={account.user} session={phase.session} taken={account.user} />;
  }
  if (account?.state === 'removed' || account?.state === 'unknown') {
    return <AccountRefusedScreen account={account} />;
  }
  return (
    <>
      <MainLayout api={phase.api} session={phase.session} />
      {account?.state === 'registered' && account.recoveryCodePending ? (
        <RecoveryCodeDialog />
      ) : (
        <LinkRequestDialog />
      )}
    </>
  );
}
