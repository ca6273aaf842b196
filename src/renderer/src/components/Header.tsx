// The top bar: who is logged in, whether the relay is reachable, and the two panels.
import { HOST_BACK, HOST_LOST, type SessionView } from '../../../shared/contract.ts';
import { useT, type Translate } from '../i18n.ts';
import { describeClose } from '../model/reasons.ts';
import { useStrata, useStrataStore } from '../store/index.ts';
import { Avatar } from './Avatar.tsx';
import { NetworkIcon, SettingsIcon } from './Icons.tsx';

export function Header({ session }: { session: SessionView }) {
  const t = useT();
  const { setSettingsOpen, toggleNetwork } = useStrataStore().getState();
  const networkOpen = useStrata((s) => s.networkOpen);
  const detail = connectionDetail(session, t);
  return (
    <header className="app-header">
      <div className="header-brand">
        <span className="brand-mark" aria-hidden="true" />
        <span className="app-title">{t('app.title')}</span>
      </div>
      <div className="header-user" data-testid="header-user">
        <Avatar name={session.user ?? '?'} size="sm" />
        <span className="header-user-name">{session.user}</span>
      </div>
      <span
        className={`conn-pill conn-${session.connection}`}
        data-testid="connection-state"
        data-state={session.connection}
        title={detail ?? undefined}
        role="status"
      >
        <span className="conn-dot" aria-hidden="true" />
        {t(`connection.${session.connection}`)}
        {detail !== null && <span className="conn-detail">· {detail}</span>}
      </span>
      <div className="header-actions">
        <button
          type="button"
          className={networkOpen ? 'btn btn-ghost active' : 'btn btn-ghost'}
          data-testid="network-view-toggle"
          aria-pressed={networkOpen}
          onClick={() => toggleNetwork()}
          title={t('header.networkHint')}
        >
          <NetworkIcon />
          <span>{t('header.network')}</span>
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          data-testid="settings-open"
          onClick={() => setSettingsOpen(true)}
        >
          <SettingsIcon />
          <span>{t('header.settings')}</span>
        </button>
      </div>
    </header>
  );
}

/** Why the link is not up, in words; the web client's own markers become sentences. */
function connectionDetail(session: SessionView, t: Translate): string | null {
  const d = session.connectionDetail;
  if (session.connection === 'online' || d === null || d === '') return null;
  if (d === HOST_LOST) return t('connection.hostLost');
  if (d === HOST_BACK) return t('connection.hostBack');
  return describeClose(d, t);
}
