// The open chat: who it is with (and whether they are typing), its messages and the composer.
// Files cannot be sent yet: dropping one says so instead of pretending.
import { useState, type DragEvent } from 'react';
import type { SessionView } from '../../../shared/contract.ts';
import { useLanguage, useT } from '../i18n.ts';
import {
  closeChat,
  retryFirstPage,
  useContactsStore,
  useMessagesStore,
  useUiStore,
} from '../store.ts';
import { Avatar } from './Avatar.tsx';
import { Composer } from './Composer.tsx';
import { presenceLine } from './format.ts';
import { AttachIcon, BackIcon, ChatIcon } from './Icons.tsx';
import { MessageList } from './MessageList.tsx';
import { useNow } from './useNow.ts';

export function ChatPane({ session }: { session: SessionView }) {
  const t = useT();
  const peer = useUiStore((s) => s.selected);
  if (peer === null) {
    return (
      <div className="chat-placeholder" data-testid="no-chat">
        <ChatIcon />
        <p>{t('chat.none')}</p>
      </div>
    );
  }
  return <OpenChat key={peer} peer={peer} session={session} />;
}

function hasFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer.types).includes('Files');
}

function OpenChat({ peer, session }: { peer: string; session: SessionView }) {
  const t = useT();
  const [dragging, setDragging] = useState(false);
  const [dropNotice, setDropNotice] = useState(false);

  return (
    <section
      className="chat"
      data-testid="chat"
      data-peer={peer}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'none';
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget.contains(e.relatedTarget as Node | null)) return;
        setDragging(false);
      }}
      onDrop={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setDragging(false);
        setDropNotice(true);
      }}
    >
      <ChatHeader peer={peer} connected={session.connection === 'online'} />
      {session.connection === 'offline' && (
        <div className="chat-banner offline" role="status" data-testid="offline-banner">
          {t('chat.offline')}
        </div>
      )}
      {dropNotice && (
        <div className="chat-banner notice" role="status" data-testid="files-not-yet">
          <AttachIcon />
          <span>{t('composer.filesNotYet')}</span>
          <button type="button" className="btn btn-small" onClick={() => setDropNotice(false)}>
            {t('common.ok')}
          </button>
        </div>
      )}
      <ChatBody peer={peer} />
      <Composer peer={peer} />
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <AttachIcon />
          <p>{t('composer.filesNotYet')}</p>
        </div>
      )}
    </section>
  );
}

function ChatHeader({ peer, connected }: { peer: string; connected: boolean }) {
  const t = useT();
  const language = useLanguage();
  const now = useNow();
  const presence = useContactsStore(
    (s) => s.presence[peer] ?? s.conversations[peer]?.presence ?? null,
  );
  const typing = useContactsStore((s) => s.typing[peer] === true);
  // Out of touch with the relay, we cannot know who is online.
  const online = connected && (presence?.online ?? false);
  const lastSeen = presence !== null && presence.lastSeen > 0 ? presence.lastSeen : null;
  return (
    <header className="chat-header">
      <button
        type="button"
        className="icon-btn chat-back"
        aria-label={t('chat.back')}
        onClick={closeChat}
      >
        <BackIcon />
      </button>
      <Avatar name={peer} online={online} />
      <div className="chat-title">
        <h2 className="chat-name" data-testid="chat-peer">
          {peer}
        </h2>
        {typing ? (
          <span className="chat-status typing" data-testid="typing-indicator" aria-live="polite">
            {t('chat.typing', { name: peer })}
          </span>
        ) : (
          <span
            className={online ? 'chat-status online' : 'chat-status'}
            data-testid="chat-presence"
          >
            {presenceLine(online, lastSeen, now, t, language, connected)}
          </span>
        )}
      </div>
    </header>
  );
}

function ChatBody({ peer }: { peer: string }) {
  const t = useT();
  const state = useMessagesStore((s) => s.byPeer[peer]);
  if (state === undefined || (!state.loaded && state.list.length === 0)) {
    if (state !== undefined && state.error !== null) {
      return (
        <div className="chat-placeholder" role="alert">
          <p>{t('chat.loadFailed', { detail: state.error })}</p>
          <button
            type="button"
            className="btn btn-small"
            data-testid="chat-load-retry"
            onClick={() => retryFirstPage(peer)}
          >
            {t('chat.loadRetry')}
          </button>
        </div>
      );
    }
    return (
      <div className="chat-placeholder" role="status">
        <div className="spinner" aria-hidden="true" />
      </div>
    );
  }
  if (state.list.length === 0) {
    return (
      <div className="chat-placeholder" data-testid="chat-empty">
        <p>{t('chat.empty', { name: peer })}</p>
      </div>
    );
  }
  return <MessageList peer={peer} state={state} />;
}
