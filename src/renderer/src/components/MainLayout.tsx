// The messenger: header, contact list, the open chat and, on demand, the network view beside
// it; settings open as a dialog over everything (the panel brings its own).
import { useEffect, useRef } from 'react';
import type { SessionView, StrataApi } from '../../../shared/contract.ts';
import { useT } from '../i18n.ts';
import { totalUnread } from '../model/contacts.ts';
import { NetworkView } from '../network/NetworkView.tsx';
import { SettingsPanel } from '../settings/SettingsPanel.tsx';
import { useStrata, useStrataStore } from '../store/index.ts';
import { ChatPane } from './ChatPane.tsx';
import { Header } from './Header.tsx';
import { Sidebar } from './Sidebar.tsx';
import { Toasts } from './Toasts.tsx';

export function MainLayout({ api, session }: { api: StrataApi; session: SessionView }) {
  const t = useT();
  const { markReadIfViewing, setSettingsOpen, toggleNetwork } = useStrataStore().getState();
  const selected = useStrata((s) => s.selected);
  const networkOpen = useStrata((s) => s.networkOpen);
  const settingsOpen = useStrata((s) => s.settingsOpen);
  const unread = useStrata((s) => totalUnread(s.conversations));
  const searchRef = useRef<HTMLInputElement>(null);

  // The Electron shell mirrors the title to the dock badge.
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) ${t('app.title')}` : t('app.title');
  }, [unread, t]);

  // Coming back to the window reads what arrived in the open chat meanwhile.
  useEffect(() => {
    const onActive = () => void markReadIfViewing();
    window.addEventListener('focus', onActive);
    document.addEventListener('visibilitychange', onActive);
    return () => {
      window.removeEventListener('focus', onActive);
      document.removeEventListener('visibilitychange', onActive);
    };
  }, [markReadIfViewing]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        searchRef.current?.focus();
        searchRef.current?.select();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className={networkOpen ? 'app-shell with-network' : 'app-shell'}>
      <Header session={session} />
      <div className="app-body">
        <Sidebar session={session} searchRef={searchRef} />
        <main className="chat-area" aria-label={t('chat.region')}>
          <ChatPane session={session} />
        </main>
        {networkOpen && (
          <aside className="network-panel" aria-label={t('layout.networkRegion')}>
            <NetworkView api={api} peer={selected} onClose={() => toggleNetwork(false)} />
          </aside>
        )}
      </div>
      {settingsOpen && (
        <SettingsPanel api={api} session={session} onClose={() => setSettingsOpen(false)} />
      )}
      <Toasts />
    </div>
  );
}
