// The contact list: conversations, presence and typing, by user name. Unread counts come from
// the host (it alone knows what was read before this window opened); bursts of incoming
// messages cost one request, and a request never overlaps another.
import type { ContactState, ConversationView, PresenceView } from '../../../shared/api.ts';
import { describeError } from '../errors.ts';
import { mergeConversations } from '../model/contacts.ts';
import type { Slice } from './types.ts';

/** Unread counts are re-read from the host this long after the last incoming message. */
const UNREAD_REFRESH_MS = 150;

export interface ContactsSlice {
  conversations: Record<string, ConversationView>;
  presence: Record<string, PresenceView>;
  typing: Record<string, boolean>;
  /** Chats started from search that have no message yet. */
  started: string[];
  /** A name the relay said nobody has ever used (looked up from search), or null. */
  unknownUser: string | null;

  /**
   * Asks the relay about a name typed in search: opens a chat with it if it exists (or if the
   * relay cannot be asked now), else sets `unknownUser`. True when the chat opened.
   */
  startChat(name: string): Promise<boolean>;
  /** Deletes a conversation on this device and forgets it here. */
  deleteChat(peer: string): Promise<void>;
  /** Accepts a message request, blocks or unblocks a peer (the host's contact event follows). */
  setContact(peer: string, action: 'accept' | 'block' | 'unblock'): Promise<void>;
  /** Downloads a received file that waits for a click. */
  downloadFile(key: string): Promise<void>;
  /** A peer's contact state changed (the host's event). */
  onContact(peer: string, contact: ContactState): void;

  // For the other slices.
  loadContacts(): Promise<void>;
  /** Re-reads the unread counts soon (once for a burst). */
  scheduleUnreadRefresh(): void;
}

export const createContactsSlice: Slice<ContactsSlice> = () => (set, get) => {
  let unreadTimer: ReturnType<typeof setTimeout> | null = null;
  let unreadInFlight = false;
  let unreadAgain = false;

  async function refreshUnread(): Promise<void> {
    const client = get().client();
    if (client === null) return;
    if (unreadInFlight) {
      unreadAgain = true;
      return;
    }
    unreadInFlight = true;
    try {
      await get().markReadSettled();
      const fresh = await client.call('conversations', {});
      // An event newer than this answer may already have updated the preview.
      set((s) => ({ conversations: mergeConversations(s.conversations, fresh).conversations }));
      void get().markReadIfViewing();
    } catch {
      // The link is down; the next message or reconnect refreshes again.
    } finally {
      unreadInFlight = false;
      if (unreadAgain) {
        unreadAgain = false;
        get().scheduleUnreadRefresh();
      }
    }
  }

  return {
    conversations: {},
    presence: {},
    typing: {},
    started: [],
    unknownUser: null,

    async startChat(name) {
      const client = get().client();
      if (client === null) return false;
      set({ unknownUser: null });
      try {
        const found = await client.call('lookupUser', { user: name });
        if (!found.exists) {
          set({ unknownUser: name });
          return false;
        }
        if (found.lastSeen !== null) {
          const p = { user: name, online: found.online, devices: 0, lastSeen: found.lastSeen };
          set((s) => ({ presence: { ...s.presence, [name]: s.presence[name] ?? p } }));
        }
      } catch (e) {
        // Offline: the chat opens all the same; the relay says no later if it must.
        const { t, showToast } = get();
        showToast(t('sidebar.lookupFailed', { detail: describeError(e, t) }));
      }
      get().openChat(name);
      // Starting a chat is choosing to talk with them: they are a contact, as writing makes
      // them (a message request from them is accepted; a block stays until lifted).
      if (get().conversations[name]?.contact !== 'blocked') {
        client.call('setContact', { peer: name, action: 'accept' }).then(
          (contact) => get().onContact(name, contact),
          () => {}, // offline or blocked: the first message sent accepts them
        );
      }
      return true;
    },

    async deleteChat(peer) {
      const client = get().client();
      if (client === null) return;
      try {
        await client.call('deleteConversation', { peer });
      } catch (e) {
        const { t, showToast } = get();
        showToast(t('chat.deleteFailed', { detail: describeError(e, t) }));
        return;
      }
      if (get().selected === peer) get().closeChat();
      set((s) => ({
        conversations: without(s.conversations, peer),
        presence: without(s.presence, peer),
        typing: without(s.typing, peer),
        started: s.started.filter((n) => n !== peer),
        byPeer: without(s.byPeer, peer),
      }));
    },

    async setContact(peer, action) {
      const client = get().client();
      if (client === null) return;
      try {
        get().onContact(peer, await client.call('setContact', { peer, action }));
      } catch (e) {
        const { t, showToast } = get();
        showToast(t('request.failed', { detail: describeError(e, t) }));
      }
    },

    async downloadFile(key) {
      const client = get().client();
      if (client === null) return;
      try {
        await client.call('downloadFile', { key });
      } catch (e) {
        const { t, showToast } = get();
        showToast(t('file.downloadFailed', { detail: describeError(e, t) }));
      }
    },

    onContact(peer, contact) {
      set((s) => {
        const known = s.conversations[peer];
        if (known === undefined || known.contact === contact) return {};
        return { conversations: { ...s.conversations, [peer]: { ...known, contact } } };
      });
    },

    async loadContacts() {
      const client = get().client();
      if (client === null) return;
      try {
        const [conversations, presence] = await Promise.all([
          client.call('conversations', {}),
          client.call('presence', {}),
        ]);
        // Message events applied while this was on its way are newer than the answer.
        const merged = mergeConversations(get().conversations, conversations);
        set({
          conversations: merged.conversations,
          presence: Object.fromEntries(presence.map((p) => [p.user, p])),
        });
        if (merged.stale.length > 0) get().scheduleUnreadRefresh();
      } catch (e) {
        const { t, showToast } = get();
        showToast(t('error.loadContacts', { detail: describeError(e, t) }));
      }
    },

    scheduleUnreadRefresh() {
      if (unreadTimer !== null) clearTimeout(unreadTimer);
      unreadTimer = setTimeout(() => {
        unreadTimer = null;
        void refreshUnread();
      }, UNREAD_REFRESH_MS);
    },
  };
};

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const { [key]: _gone, ...rest } = record;
  return rest;
}
