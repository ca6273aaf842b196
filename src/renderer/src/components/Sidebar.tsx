// The contact list: search, everyone we talked to or asked the relay about, newest chat
// first. A name typed in search starts a chat once the relay says it exists. Up/Down move between contacts, Enter opens one, Ctrl+K jumps to search, Escape
// clears it.
import { useMemo, useRef, type KeyboardEvent, type RefObject } from 'react';
import type { SessionView } from '../../../shared/contract.ts';
import { useLanguage, useT } from '../i18n.ts';
import {
  buildContacts,
  filterContacts,
  startChatCandidate,
  type Contact,
} from '../model/contacts.ts';
import { useStrata, useStrataStore } from '../store/index.ts';
import { Avatar } from './Avatar.tsx';
import { presenceLine, previewText, shortStamp } from './format.ts';
import { ChatIcon, CloseIcon, SearchIcon } from './Icons.tsx';
import { useNow } from './useNow.ts';

export function Sidebar({
  session,
  searchRef,
}: {
  session: SessionView;
  searchRef: RefObject<HTMLInputElement | null>;
}) {
  const t = useT();
  const { openChat, setSearch, startChat } = useStrataStore().getState();
  const unknownUser = useStrata((s) => s.unknownUser);
  const conversations = useStrata((s) => s.conversations);
  const presence = useStrata((s) => s.presence);
  const started = useStrata((s) => s.started);
  const typing = useStrata((s) => s.typing);
  const search = useStrata((s) => s.search);
  const selected = useStrata((s) => s.selected);
  const listRef = useRef<HTMLUListElement>(null);

  const contacts = useMemo(
    () =>
      buildContacts(
        conversations,
        presence,
        session.user,
        started,
        session.connection === 'online',
      ),
    [conversations, presence, session.user, started, session.connection],
  );
  const shown = useMemo(() => filterContacts(contacts, search), [contacts, search]);
  const candidate = startChatCandidate(search, contacts, session.user);

  const rowButtons = () =>
    Array.from(listRef.current?.querySelectorAll<HTMLButtonElement>('[data-contact-row]') ?? []);

  function start(name: string) {
    void startChat(name).then((opened) => {
      if (opened) setSearch('');
    });
  }

  function onSearchKey(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === 'Escape') {
      if (search !== '') {
        e.preventDefault();
        setSearch('');
      } else {
        e.currentTarget.blur();
      }
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      rowButtons()[0]?.focus();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const only = shown.length === 1 ? shown[0] : undefined;
      if (only !== undefined) {
        setSearch('');
        openChat(only.name);
      } else if (candidate !== null) {
        start(candidate);
      }
    }
  }

  function onListKey(e: KeyboardEvent<HTMLUListElement>) {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' && e.key !== 'Home' && e.key !== 'End') {
      return;
    }
    const buttons = rowButtons();
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    e.preventDefault();
    const next =
      e.key === 'ArrowDown'
        ? Math.min(buttons.length - 1, at + 1)
        : e.key === 'ArrowUp'
          ? at - 1
          : e.key === 'Home'
            ? 0
            : buttons.length - 1;
    if (next < 0) searchRef.current?.focus();
    else buttons[next]?.focus();
  }

  // One row is reachable with Tab (the open chat, else the first); arrows move between rows.
  const tabStop = shown.some((c) => c.name === selected) ? selected : (shown[0]?.name ?? null);

  return (
    <nav className="sidebar" aria-label={t('sidebar.region')}>
      <div className="search">
        <SearchIcon />
        <input
          ref={searchRef}
          className="search-input"
          data-testid="contact-search"
          type="search"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          onKeyDown={onSearchKey}
          placeholder={t('sidebar.search')}
          aria-label={t('sidebar.searchLabel')}
          title={t('sidebar.searchLabel')}
          aria-keyshortcuts="Control+K"
          spellCheck={false}
          autoComplete="off"
        />
        {search !== '' && (
          <button
            type="button"
            className="icon-btn search-clear"
            aria-label={t('sidebar.clearSearch')}
            onClick={() => {
              setSearch('');
              searchRef.current?.focus();
            }}
          >
            <CloseIcon />
          </button>
        )}
      </div>
      {candidate !== null && (
        <button
          type="button"
          className="start-chat"
          data-testid="start-chat"
          onClick={() => start(candidate)}
        >
          <ChatIcon />
          <span>{t('sidebar.startChat', { name: candidate })}</span>
        </button>
      )}
      {candidate !== null && unknownUser === candidate && (
        <p className="sidebar-empty" role="alert" data-testid="no-such-user">
          {t('sidebar.noSuchUser', { name: candidate })}
        </p>
      )}
      {contacts.length === 0 && search === '' ? (
        <p className="sidebar-empty" data-testid="contacts-empty">
          {t('sidebar.empty')}
        </p>
      ) : shown.length === 0 && candidate === null ? (
        <p className="sidebar-empty">{t('sidebar.noMatch', { query: search.trim() })}</p>
      ) : (
        <ul className="contact-list" ref={listRef} onKeyDown={onListKey}>
          {shown.map((c) => (
            <ContactRow
              key={c.name}
              contact={c}
              selected={c.name === selected}
              typing={typing[c.name] === true}
              tabStop={c.name === tabStop}
            />
          ))}
        </ul>
      )}
    </nav>
  );
}

function ContactRow({
  contact,
  selected,
  typing,
  tabStop,
}: {
  contact: Contact;
  selected: boolean;
  typing: boolean;
  tabStop: boolean;
}) {
  const t = useT();
  const language = useLanguage();
  const now = useNow();
  const { openChat } = useStrataStore().getState();
  const m = contact.lastMessage;
  const presence = presenceLine(
    contact.online,
    contact.lastSeen,
    now,
    t,
    language,
    contact.presenceKnown,
  );
  return (
    <li>
      <button
        type="button"
        className={selected ? 'contact selected' : 'contact'}
        data-testid={`contact-${contact.name}`}
        data-presence={contact.online ? 'online' : 'offline'}
        data-contact-row=""
        aria-current={selected ? 'true' : undefined}
        tabIndex={tabStop ? 0 : -1}
        onClick={() => openChat(contact.name)}
      >
        <Avatar name={contact.name} online={contact.online} />
        <span className="contact-main">
          <span className="contact-top">
            <span className="contact-name">{contact.name}</span>
            {contact.contact !== 'accepted' && (
              <span
                className={`contact-badge ${contact.contact}`}
                data-testid="contact-request-badge"
                data-contact={contact.contact}
              >
                {t(contact.contact === 'request' ? 'request.badge' : 'request.blockedBadge')}
              </span>
            )}
            {m !== null && (
              <span className="contact-time">{shortStamp(m.sentAt, now, language)}</span>
            )}
          </span>
          <span className="contact-bottom">
            {typing ? (
              <span className="contact-preview typing">{t('sidebar.typing')}</span>
            ) : m !== null ? (
              <span className="contact-preview">{previewText(m, t)}</span>
            ) : (
              <span className="contact-preview muted" data-testid="contact-last-seen">
                {presence}
              </span>
            )}
            {contact.unread > 0 && (
              <span
                className="unread-badge"
                data-testid="unread-badge"
                aria-label={t('sidebar.unread', { n: contact.unread })}
              >
                {contact.unread}
              </span>
            )}
          </span>
          {m !== null && !contact.online && contact.lastSeen !== null && (
            <span className="contact-seen" data-testid="contact-last-seen">
              {presence}
            </span>
          )}
        </span>
      </button>
    </li>
  );
}
