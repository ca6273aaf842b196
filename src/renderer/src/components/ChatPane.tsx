// The open chat: who it is with (and whether they are typing), its messages and the composer;
// Escape closes it, and its header deletes it and opens its safety number.
// Files dropped on it (one or several) are sent to the peer; uploads to the browser host show
// their progress above the composer until they become messages.
import { useRef, useState, type DragEvent } from 'react';
import type { SessionView } from '../../../shared/contract.ts';
import { IdentityNotice } from '../account/IdentityNotice.tsx';
import { IdentityBlockedBanner, SafetyNumberDialog } from '../account/SafetyNumber.tsx';
import { useLanguage, useT } from '../i18n.ts';
import { dragHasFiles, formatSize } from '../model/files.ts';
import { useStrata, useStrataStore } from '../store/index.ts';
import { Avatar } from './Avatar.tsx';
import { Composer } from './Composer.tsx';
import { presenceLine } from './format.ts';
import { AttachIcon, BackIcon, ChatIcon, CloseIcon, ShieldIcon, TrashIcon } from './Icons.tsx';
import { MessageList } from './MessageList.tsx';
import { RequestBanner } from './RequestBanner.tsx';
import { useNow } from './useNow.ts';

export function ChatPane({ session }: { session: SessionView }) {
  const t = useT();
  const peer = useStrata((s) => s.selected);
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
  return dragHasFiles(e.dataTransfer.types);
}

function OpenChat({ peer, session }: { peer: string; session: SessionView }) {
  const t = useT();
  const { sendFiles, closeChat } = useStrataStore().getState();
  const [dragging, setDragging] = useState(false);
  const [safetyOpen, setSafetyOpen] = useState(false);
  // dragenter/dragleave fire for every child crossed: the overlay stays while any is entered.
  const depth = useRef(0);

  return (
    <section
      className="chat"
      data-testid="chat"
      data-peer={peer}
      onKeyDown={(e) => {
        // Escape closes the chat, unless something inside it used the key already.
        if (e.key === 'Escape' && !e.defaultPrevented) closeChat();
      }}
      onDragEnter={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth.current++;
        setDragging(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (!hasFiles(e)) return;
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0 && !e.currentTarget.contains(e.relatedTarget as Node | null)) {
          setDragging(false);
        }
      }}
      onDrop={(e) => {
        depth.current = 0;
        setDragging(false);
        if (!hasFiles(e)) return;
        e.preventDefault();
        const files = Array.from(e.dataTransfer.files);
        if (files.length > 0) void sendFiles(peer, files);
      }}
    >
      <ChatHeader
        peer={peer}
        connected={session.connection === 'online'}
        onSafety={() => setSafetyOpen(true)}
      />
      {session.connection === 'offline' && (
        <div className="chat-banner offline" role="status" data-testid="offline-banner">
          {t('chat.offline')}
        </div>
      )}
      <IdentityBlockedBanner peer={peer} onShow={() => setSafetyOpen(true)} />
      <IdentityNotice peer={peer} />
      <RequestBanner peer={peer} />
      <ChatBody peer={peer} />
      <Uploads peer={peer} />
      <Composer peer={peer} />
      {safetyOpen && <SafetyNumberDialog peer={peer} onClose={() => setSafetyOpen(false)} />}
      {dragging && (
        <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
          <AttachIcon />
          <p>{t('file.dropHere', { name: peer })}</p>
        </div>
      )}
    </section>
  );
}

/** Files on their way to the browser host, each with its progress and a way to stop it. */
function Uploads({ peer }: { peer: string }) {
  const t = useT();
  const language = useLanguage();
  const { cancelUpload } = useStrataStore().getState();
  const all = useStrata((s) => s.uploads);
  const uploads = all.filter((u) => u.peer === peer);
  if (uploads.length === 0) return null;
  return (
    <ul className="uploads" aria-label={t('composer.attach')}>
      {uploads.map((u) => {
        const fraction = u.size === 0 ? 0 : Math.min(1, u.loaded / u.size);
        return (
          <li key={u.id} className="upload" data-testid="file-upload" data-value={fraction}>
            <AttachIcon />
            <span className="upload-name" title={u.name}>
              {t('file.uploading', { name: u.name })}
            </span>
            <progress max={1} value={fraction} aria-label={t('file.uploading', { name: u.name })} />
            <span className="upload-size">
              {t('file.progress', {
                done: formatSize(u.loaded, language),
                total: formatSize(u.size, language),
              })}
            </span>
            <button
              type="button"
              className="icon-btn"
              data-testid="file-upload-cancel"
              aria-label={t('file.uploadCancel', { name: u.name })}
              title={t('file.uploadCancel', { name: u.name })}
              onClick={() => cancelUpload(u.id)}
            >
              <CloseIcon />
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function ChatHeader(props: { peer: string; connected: boolean; onSafety: () => void }) {
  const { peer, connected, onSafety } = props;
  const t = useT();
  const language = useLanguage();
  const now = useNow();
  const { closeChat, deleteChat } = useStrataStore().getState();
  const [confirming, setConfirming] = useState(false);
  const presence = useStrata((s) => s.presence[peer] ?? s.conversations[peer]?.presence ?? null);
  const typing = useStrata((s) => s.typing[peer] === true);
  const verified = useStrata((s) => s.safety[peer]?.verified === true);
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
          {verified && (
            <span
              className="chat-verified"
              data-testid="chat-verified"
              title={t('safety.verified')}
              aria-label={t('safety.verified')}
            >
              <ShieldIcon checked />
            </span>
          )}
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
      <button
        type="button"
        className="icon-btn chat-safety"
        data-testid="safety-number-open"
        aria-label={t('safety.open')}
        title={t('safety.open')}
        onClick={onSafety}
      >
        <ShieldIcon checked={verified} />
      </button>
      <button
        type="button"
        className="icon-btn chat-delete"
        data-testid="chat-delete"
        aria-label={t('chat.delete')}
        title={t('chat.delete')}
        aria-expanded={confirming}
        onClick={() => setConfirming(true)}
      >
        <TrashIcon />
      </button>
      {confirming && (
        <div
          className="chat-delete-confirm"
          role="alertdialog"
          aria-label={t('chat.delete')}
          onKeyDown={(e) => {
            if (e.key !== 'Escape') return;
            e.preventDefault();
            setConfirming(false);
          }}
        >
          <span>{t('chat.deleteConfirm', { name: peer })}</span>
          <button
            type="button"
            className="btn btn-small"
            data-testid="chat-delete-confirm"
            onClick={() => {
              setConfirming(false);
              void deleteChat(peer);
            }}
          >
            {t('chat.deleteYes')}
          </button>
          <button
            type="button"
            className="btn btn-small btn-ghost"
            data-testid="chat-delete-cancel"
            autoFocus
            onClick={() => setConfirming(false)}
          >
            {t('chat.deleteNo')}
          </button>
        </div>
      )}
    </header>
  );
}

function ChatBody({ peer }: { peer: string }) {
  const t = useT();
  const { retryFirstPage } = useStrataStore().getState();
  const state = useStrata((s) => s.byPeer[peer]);
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
